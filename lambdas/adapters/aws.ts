import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { Config } from '../config';
import { type CallDeadline, type DeadlineService, requestHandlerOptions, SDK_DEADLINES } from '../../contract/deadlines';
import type { IngestPorts, RejectedStore } from '../ingest/ports';
import type { DocumentStore } from '../documents/ports';
import { DynamoDbDocumentStore } from './dynamodb-documents';
import { DynamoDbMessageStore } from './dynamodb-store';
import { S3PayloadStore, S3RejectedStore } from './s3-bucket';
import { SqsMessageQueue } from './sqs-queue';
import { withOverallDeadline } from './deadline';

/*
 * Every client the functions use, each with its deadlines (lambdas/contract/deadlines.ts: the numbers and
 * why): per attempt in the HTTP handler, which throws when one passes, and per operation, across the SDK's
 * retries, as an AbortSignal on every send. So no call waits longer than its bound whatever the service does,
 * and the answers the receivers and the Sweep give while one hangs are the designed ones.
 * Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables (local mode).
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
  const s3 = withOverallDeadline(
    new S3Client({ ...clientDeadline(bucket), forcePathStyle: config.S3_FORCE_PATH_STYLE, ...overrides.s3 }),
    bucket.overallMs,
  );
  return {
    ports: {
      store: new DynamoDbMessageStore(dynamodb, config.TABLE_NAME),
      queue: new SqsMessageQueue(sqs, config.QUEUE_URL),
      payloads: new S3PayloadStore(s3, config.BUCKET_NAME),
      clock: { now: () => new Date() },
    },
    rejectedStore: new S3RejectedStore(s3, config.BUCKET_NAME),
    ...(config.DOCUMENTS_TABLE_NAME ? { documents: new DynamoDbDocumentStore(dynamodb, config.DOCUMENTS_TABLE_NAME) } : {}),
  };
}
