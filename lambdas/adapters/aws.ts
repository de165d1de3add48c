import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { Config } from '../config';
import { type CallDeadline, type DeadlineService, requestHandlerOptions, SDK_DEADLINES } from '../../contract/deadlines';
import type { IngestPorts, PayloadStore, RejectedStore } from '../ingest/ports';
import type { DocumentStore } from '../documents/ports';
import { DynamoDbMessageStore } from './dynamodb-store';
import { SqsMessageQueue } from './sqs-queue';
import { withOverallDeadline } from './deadline';

/*
 * Every client the functions use, each with its deadlines (lambdas/contract/deadlines.ts: the numbers and
 * why): per attempt in the HTTP handler, which throws when one passes, and per operation, across the SDK's
 * retries, as an AbortSignal on every send. So no call waits longer than its bound whatever the service does,
 * and the answers the receivers and the Sweep give while one hangs are the designed ones.
 * Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables (local mode).
 *
 * What a request rarely needs is loaded when one first needs it (dynamic import(): in the deployed bundle a chunk
 * of its own, lib/bundling.ts): the S3 client and the bucket's stores (only a large payload or a rejection writes
 * there) and the document store (only the projector, the document API and the Sweep's second job read it). So a
 * receiver's cold start builds what every request uses, the table's and the queue's clients, and no more.
 */

export interface ClientOverrides {
  readonly dynamodb?: DynamoDBClientConfig;
  readonly sqs?: SQSClientConfig;
  readonly s3?: S3ClientConfig;
  /** Other deadlines than the deployed SDK_DEADLINES, by service: the local emulators' (EMULATOR_DEADLINE). */
  readonly deadlines?: Partial<Record<DeadlineService, CallDeadline>>;
}

export interface AwsAdapters {
  readonly ports: IngestPorts;
  /** The document projection's store, where the function has its table. */
  readonly documents?: DocumentStore;
  readonly rejectedStore: RejectedStore;
}

const clientDeadline = (deadline: CallDeadline) => ({
  requestHandler: requestHandlerOptions(deadline),
  maxAttempts: deadline.attempts,
});

export function createAwsAdapters(
  config: Pick<Config, 'TABLE_NAME' | 'QUEUE_URL' | 'BUCKET_NAME' | 'S3_FORCE_PATH_STYLE'> & Partial<Pick<Config, 'DOCUMENTS_TABLE_NAME'>>,
  overrides: ClientOverrides = {},
): AwsAdapters {
  const { dynamodb: table, sqs: queue, s3: bucket } = { ...SDK_DEADLINES, ...overrides.deadlines };
  const dynamodb = withOverallDeadline(new DynamoDBClient({ ...clientDeadline(table), ...overrides.dynamodb }), table.overallMs);
  // The queue lives in the function's own region, so the region's endpoint is the queue's;
  // emulators name hosts in their queue URLs that need not resolve.
  const sqs = withOverallDeadline(
    new SQSClient({ ...clientDeadline(queue), useQueueUrlAsEndpoint: false, ...overrides.sqs }),
    queue.overallMs,
  );
  // One S3 client for both stores, built on first use.
  const s3 = once(async () => {
    const [{ S3Client }, { S3PayloadStore, S3RejectedStore }] = await Promise.all([import('@aws-sdk/client-s3'), import('./s3-bucket')]);
    const client = withOverallDeadline(
      new S3Client({ ...clientDeadline(bucket), forcePathStyle: config.S3_FORCE_PATH_STYLE, ...overrides.s3 }),
      bucket.overallMs,
    );
    return { payloads: new S3PayloadStore(client, config.BUCKET_NAME), rejected: new S3RejectedStore(client, config.BUCKET_NAME) };
  });
  const payloads: PayloadStore = {
    bucket: config.BUCKET_NAME,
    put: async (key, body, sha256) => (await s3()).payloads.put(key, body, sha256),
    discard: async (key) => (await s3()).payloads.discard(key),
  };
  const rejectedStore: RejectedStore = { keep: async (request) => (await s3()).rejected.keep(request) };
  return {
    ports: {
      store: new DynamoDbMessageStore(dynamodb, config.TABLE_NAME),
      queue: new SqsMessageQueue(sqs, config.QUEUE_URL),
      payloads,
      clock: { now: () => new Date() },
    },
    rejectedStore,
    ...(config.DOCUMENTS_TABLE_NAME ? { documents: lazyDocumentStore(dynamodb, config.DOCUMENTS_TABLE_NAME) } : {}),
  };
}

/** The document table's store, its code loaded on the first call (on the same DynamoDB client). */
function lazyDocumentStore(dynamodb: DynamoDBClient, tableName: string): DocumentStore {
  const store = once(async () => new (await import('./dynamodb-documents')).DynamoDbDocumentStore(dynamodb, tableName));
  return {
    get: async (id) => (await store()).get(id),
    save: async (state, version, now) => (await store()).save(state, version, now),
    list: async (query) => (await store()).list(query),
    due: async (now, limit) => (await store()).due(now, limit),
    waiting: async (since) => (await store()).waiting(since),
  };
}

/** The promise of `make()`, made on the first call and shared by every later one; a failure is not kept (the next call tries again). */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}
