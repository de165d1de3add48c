import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ConfigError } from '../../../contract/errors';
import { EMULATOR_DEADLINE } from '../../../contract/deadlines';
import { METRICS_NAMESPACE, SERVICE } from '../../../contract/observability';
import { type AwsAdapters, type ClientOverrides, createAwsAdapters } from '../../adapters/aws';
import { type Config, loadConfig } from '../../config';
import type { DocumentStore } from '../../documents/ports';
import type { ReceiveDeps } from '../receive-handler';

/*
 * One wiring, three users: Lambda (lambdas/handlers/entries/, from process.env), npm start (local/stack.ts,
 * from the environment the stack would give plus the emulators' clients) and the benchmarks (dev/bench/entries/,
 * dev/bench/*: from an environment and explicit adapters). So no copy of it exists to drift. The functions'
 * parts are wired by their own modules beside this one (receivers.ts, sweep.ts, projector.ts,
 * documents.ts), so an entry that needs one part bundles only that part.
 */

export interface WiringOptions {
  /** The function's environment (contract/names.ts FUNCTION_ENV): process.env in Lambda. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** SDK client settings beside the environment's (npm start: the emulators' endpoints, region, credentials). */
  readonly clients?: ClientOverrides;
  /** Ready-made ports instead of SDK clients (the benchmarks' metered or in-memory ones). */
  readonly adapters?: AwsAdapters;
  /** The logger's and metrics' own settings, where a caller names the service differently (the benchmarks). */
  readonly serviceName?: string;
}

/** What every function of a site shares: its config, logger, metrics and adapters, built once per cold start. */
export interface WiredSite {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly adapters: AwsAdapters;
  readonly receive: ReceiveDeps;
  /** The document table's store; a function deployed without that table fails its invocation loudly. */
  readonly documents: DocumentStore;
}

export function wireSite(options: WiringOptions): WiredSite {
  const config = loadConfig(options.env);
  const service = options.serviceName ?? SERVICE;
  const logger = new Logger({ serviceName: service, persistentKeys: { site: config.SITE_ID } });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service, defaultDimensions: { site: config.SITE_ID } });
  const emulators = config.SDK_DEADLINES === 'emulators';
  const deadlines = emulators ? { deadlines: { dynamodb: EMULATOR_DEADLINE, sqs: EMULATOR_DEADLINE, s3: EMULATOR_DEADLINE } } : {};
  const adapters = options.adapters ?? createAwsAdapters(config, { ...deadlines, ...options.clients });
  const receive: ReceiveDeps = {
    ports: adapters.ports,
    rejectedStore: adapters.rejectedStore,
    settings: { site: config.SITE_ID, retentionDays: config.RETENTION_DAYS, maxInlinePayloadBytes: config.MAX_INLINE_PAYLOAD_BYTES },
    maxBodyBytes: config.MAX_BODY_BYTES,
    lpuAllowlist: config.LPU_ALLOWLIST,
    logger,
    metrics,
  };
  const store = () => {
    if (!adapters.documents) throw new ConfigError('DOCUMENTS_TABLE_NAME is not set for this function');
    return adapters.documents;
  };
  const documents: DocumentStore = {
    get: (id) => store().get(id),
    save: (state, version, now) => store().save(state, version, now),
    list: (query) => store().list(query),
    due: (now, limit) => store().due(now, limit),
    waiting: (since) => store().waiting(since),
  };
  return { config, logger, metrics, adapters, receive, documents };
}
