import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createAwsAdapters } from '../adapters/aws';
import { fromStreamImage } from '../adapters/record-item';
import type { DocumentStore } from '../documents/ports';
import { ConfigError } from '../errors';
import { createDocumentsHandler } from './documents-handler';
import { createProjectHandler } from './project-handler';
import { createSilenceHandler } from './silence-handler';
import { loadConfig } from '../config';
import { EMULATOR_DEADLINE } from '../contract/deadlines';
import { METRICS_NAMESPACE, SERVICE } from '../contract/observability';
import type { MessageType } from '../protocol/catalog';
import { asLambda } from './middleware';
import { createReceiveHandler, type ReceiveDeps } from './receive-handler';
import { createReconcileHandler } from './reconcile-handler';
import { createSweepHandler } from './sweep-handler';

/*
 * The deployed entry point: one export per MessageType (each its own Lambda function),
 * `Fallback` for any other path, `Project` on the table's stream, `Documents` for the document API and
 * `Sweep` on the fleet's tick (its two jobs, `Reconcile` and `Silence`, are also exported for npm start's
 * timers). Config, SDK clients,
 * logger and metrics are built once per cold start and shared by every invocation.
 */

const config = loadConfig(process.env);

const logger = new Logger({ serviceName: SERVICE, persistentKeys: { site: config.SITE_ID } });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE, defaultDimensions: { site: config.SITE_ID } });
const { ports, rejectedStore, documents } = createAwsAdapters(
  config,
  config.SDK_DEADLINES === 'emulators' ? { deadlines: { dynamodb: EMULATOR_DEADLINE, sqs: EMULATOR_DEADLINE, s3: EMULATOR_DEADLINE } } : {},
);

const deps: ReceiveDeps = {
  ports,
  rejectedStore,
  settings: { site: config.SITE_ID, retentionDays: config.RETENTION_DAYS, maxInlinePayloadBytes: config.MAX_INLINE_PAYLOAD_BYTES },
  maxBodyBytes: config.MAX_BODY_BYTES,
  lpuAllowlist: config.LPU_ALLOWLIST,
  logger,
  metrics,
};

const entry = (type: MessageType | undefined) => asLambda(createReceiveHandler(type, deps), deps);

export const CDAStatus = entry('CDAStatus');
export const SEMDStatus = entry('SEMDStatus');
export const REMDStatus = entry('REMDStatus');
export const MseResult = entry('MseResult');
export const MseResultData = entry('MseResultData');
export const VimisResult = entry('VimisResult');
export const Fallback = entry(undefined);

const reconcileJob = createReconcileHandler({
  ports,
  settings: { graceSeconds: config.RECONCILE_GRACE_SECONDS, batch: config.RECONCILE_BATCH },
  logger,
  metrics,
});
export const Reconcile = asLambda(reconcileJob, deps);

/** The document functions need their table; a function deployed without it fails its invocation loudly. */
const documentStore = () => {
  if (!documents) throw new ConfigError('DOCUMENTS_TABLE_NAME is not set for this function');
  return documents;
};
const lazyDocuments: DocumentStore = {
  get: (id) => documentStore().get(id),
  save: (state, version, now) => documentStore().save(state, version, now),
  list: (query) => documentStore().list(query),
  due: (now, limit) => documentStore().due(now, limit),
};

export const Project = asLambda(
  createProjectHandler({ documents: lazyDocuments, recordOf: fromStreamImage, clock: ports.clock, logger, metrics }),
  deps,
);
export const Documents = asLambda(
  createDocumentsHandler({ documents: lazyDocuments, clock: ports.clock, logger, retentionDays: config.RETENTION_DAYS }),
  { logger },
);
const silenceJob = createSilenceHandler({ documents: lazyDocuments, clock: ports.clock, logger, metrics });
export const Silence = asLambda(silenceJob, deps);
export const Sweep = asLambda(createSweepHandler({ reconcile: reconcileJob, silence: silenceJob }), deps);
