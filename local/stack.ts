import { lambdaContext, type RequestLogEntry, routesFor, startGateway, type LambdaHandler, type RunningGateway } from './gateway';
import { type DynamoEmulator, type FauxqsEmulator, hasJava, startDynamo, startFauxqs, type Emulator } from './emulators';
import { LOCAL_REGION, localOverrides } from './clients';
import { fileURLToPath } from 'node:url';
import { consoleEndpoints } from './console-api';
import { provision, type Resources } from './provision';
import { type DocumentsAuth, withSigV4 } from './sigv4';
import { startStreamPoller, type StreamPoller } from './stream-poller';
import { buildOpenApi } from '../contract/openapi';
import type { LocalInfo } from '../contract/local';
import { FUNCTION_ENV, siteResourcePrefix } from '../contract/names';
import { type SiteFunctions, wireFunctions } from '../lambdas/handlers/wiring';

/*
 * The whole product on one machine: emulators, resources, the deployed handler module
 * behind a local gateway. `npm start` runs it; the end-to-end tests start it in-process.
 */

export type { LocalInfo } from '../contract/local';

export interface LocalStack {
  readonly info: LocalInfo;
  /** Runs the deployed reconciler once, now. */
  reconcile(): Promise<unknown>;
  /** Resolves once every stored message so far is projected into its document (DynamoDB Local only). */
  projected(timeoutMs?: number): Promise<void>;
  /** Runs the deployed silence sweep once, now. */
  sweepSilence(): Promise<unknown>;
  /**
   * Serves these `Lpu` ids from now on, as a redeploy with another `lpuAllowlist` would: the functions are wired
   * afresh with it (a cold start), and /_local/info tells it.
   */
  setLpuAllowlist(ids: readonly string[]): void;
  stop(): Promise<void>;
}

export interface LocalOptions {
  readonly host?: string;
  readonly port?: number;
  readonly siteId?: string;
  readonly preferJava?: boolean;
  /** Keep the tables across restarts in this folder (DynamoDB Local only; queues and bucket always start empty). */
  readonly dataDir?: string;
  /** Told each step of the start (emulators, resources, ready), for a progress line. */
  readonly onProgress?: (step: string) => void;
  /** Told of each request the local gateway answered, for a short log line. */
  readonly onRequest?: (entry: RequestLogEntry) => void;
  /** Called with each failed projection batch (it is retried). */
  readonly onProjectionError?: (error: Error) => void;
  /** How often the reconciler runs (AWS: every minute on a schedule). 0: never; tests run it by hand. */
  readonly reconcileEverySeconds?: number;
  /**
   * The document API's SigV4 check (deployed: IAM auth) with the local dummy credentials: signed requests are
   * always verified; `required` refuses unsigned ones too. @default 'verify-signed' (the console and CLI call it unsigned)
   */
  readonly documentsAuth?: DocumentsAuth;
  /** `Lpu` ids the site serves (the site config's `lpuAllowlist`); empty or unset: any. */
  readonly lpuAllowlist?: readonly string[];
  /**
   * Emulators already running, shared with other stacks (each site its own tables, queues and bucket by its
   * prefix, as sites share an AWS account): a fleet of sites on one machine. Not stopped by `stop()`.
   */
  readonly emulators?: { readonly dynamo: DynamoEmulator; readonly fauxqs: FauxqsEmulator };
}

export async function startLocalStack(options: LocalOptions = {}): Promise<LocalStack> {
  const started: Array<Emulator | RunningGateway | StreamPoller> = [];
  let timer: NodeJS.Timeout | undefined;
  const stopAll = async () => {
    clearInterval(timer);
    for (const part of started.reverse()) await ('stop' in part ? part.stop() : part.close());
  };
  try {
    const siteId = options.siteId ?? 'local';
    options.onProgress?.(
      hasJava() && options.preferJava !== false
        ? 'starting DynamoDB Local (Java) and fauxqs (SQS + S3)…'
        : 'starting dynalite and fauxqs (SQS + S3)…',
    );
    const [dynamo, fauxqs] = options.emulators
      ? [options.emulators.dynamo, options.emulators.fauxqs]
      : await Promise.all([startDynamo({ preferJava: options.preferJava, dataDir: options.dataDir }), startFauxqs()]);
    options.onProgress?.('creating the table, queues and bucket…');
    if (!options.emulators) started.push(dynamo, fauxqs);
    const resources: Resources = await provision(
      { dynamodb: dynamo.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint },
      { prefix: siteResourcePrefix(siteId) },
    );

    // Exactly the environment the CDK stack gives the functions (contract/names.ts), through the deployed
    // wiring, with the emulators' clients beside it. Nothing is written to process.env but Powertools' own
    // switch (quiet metrics unless asked), which it reads there.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    let lpuAllowlist = [...(options.lpuAllowlist ?? [])];
    const wire = (): Record<keyof SiteFunctions, LambdaHandler> =>
      wireFunctions({
        env: {
          [FUNCTION_ENV.siteId]: siteId,
          [FUNCTION_ENV.tableName]: resources.tableName,
          [FUNCTION_ENV.documentsTableName]: resources.documentsTableName,
          [FUNCTION_ENV.queueUrl]: resources.queueUrl,
          [FUNCTION_ENV.bucketName]: resources.bucket,
          [FUNCTION_ENV.s3ForcePathStyle]: 'true',
          [FUNCTION_ENV.lpuAllowlist]: lpuAllowlist.join(','),
        },
        // The emulators' endpoints and deadlines (EMULATOR_DEADLINE: slower than AWS on a loaded machine).
        clients: localOverrides({ dynamodb: dynamo.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint }),
      }) as never;
    let functions = wire();
    // The deployed projector on the message table's stream, as Lambda's event source mapping runs it.
    const poller = resources.streamArn
      ? startStreamPoller({
          endpoint: dynamo.endpoint,
          streamArn: resources.streamArn,
          handler: (event) => functions.Project(event as never, lambdaContext(`project-${Date.now()}`, 'Project')),
          onError: (error) => options.onProjectionError?.(error),
        })
      : undefined;
    if (poller) started.push(poller);

    let info: LocalInfo | undefined;
    const gateway = await startGateway({
      // Looked up per request: setLpuAllowlist rewires the functions.
      ...routesFor((type) => (event, context) => functions[type ?? 'Fallback'](event, context)),
      documents: withSigV4(functions.Documents, options.documentsAuth ?? 'verify-signed'),
      onRequest: options.onRequest,
      consoleDir: fileURLToPath(new URL('./console/', import.meta.url)),
      host: options.host,
      port: options.port,
      localEndpoints: {
        info: () => info,
        health: () => ({ status: 'ok' }),
        // What the emulators were asked (SendMessage calls among them): the load test's exactly-once check.
        stats: () => ({ sqsCalls: Object.fromEntries(fauxqs.sqsCalls) }),
        ...consoleEndpoints({ dynamodb: dynamo.endpoint, sqs: fauxqs.endpoint, resources, siteId }),
        'openapi.json': () => ({ ...buildOpenApi(), servers: [{ url: info?.baseUrl.replace(/\/$/, '') }] }),
      },
    });
    started.push(gateway);
    info = {
      baseUrl: gateway.url,
      region: LOCAL_REGION,
      sqsEndpoint: fauxqs.endpoint,
      queueUrl: resources.queueUrl,
      dlqUrl: resources.dlqUrl,
      dynamodbEndpoint: dynamo.endpoint,
      dynamodbEmulator: dynamo.kind,
      tableName: resources.tableName,
      s3Endpoint: fauxqs.endpoint,
      bucket: resources.bucket,
      documentsTableName: resources.documentsTableName,
      documentProjection: poller !== undefined,
      siteId,
      lpuAllowlist,
    };

    // One run at a time here, for quiet logs; deployed runs may overlap (no reserved concurrency) and each
    // pending message is still forwarded once: FIFO deduplication and the conditional mark (tested).
    let running: Promise<unknown> | undefined;
    const reconcile = () =>
      (running ??= functions
        .Reconcile({} as never, lambdaContext(`reconcile-${Date.now()}`, 'Reconcile'))
        .finally(() => (running = undefined)));
    const every = options.reconcileEverySeconds ?? 5;
    if (every > 0) {
      timer = setInterval(() => {
        reconcile().catch((error: unknown) => console.error('reconciler run failed:', (error as Error).name));
      }, every * 1000);
      timer.unref();
    }
    const sweepSilence = () => functions.Silence({} as never, lambdaContext(`silence-${Date.now()}`, 'Silence'));
    return {
      get info() {
        return info!;
      },
      reconcile,
      sweepSilence,
      setLpuAllowlist: (ids) => {
        lpuAllowlist = [...ids];
        functions = wire();
        info = { ...info!, lpuAllowlist };
      },
      projected: async (timeoutMs) => {
        if (!poller) throw new Error('no document projection on dynalite: it has no streams (install Java for DynamoDB Local)');
        await poller.caughtUp(timeoutMs);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
