import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { Config } from '../config';
import type { IngestPorts, RejectedStore } from '../ingest/ports';
import type { DocumentStore } from '../documents/ports';
import { DynamoDbDocumentStore } from './dynamodb-documents';
import { DynamoDbMessageStore } from './dynamodb-store';
import { S3PayloadStore, S3RejectedStore } from './s3-bucket';
import { SqsMessageQueue } from './sqs-queue';

/*
 * Short connect timeouts: the sender waits for our ack, and a slow answer only invites a re-send; a host
 * that does not answer becomes a 503 within seconds and the sender retries. `requestTimeout` only warns in
 * this SDK version (it would throw with `throwOnRequestTimeout`), so a call that connects and then hangs
 * waits until the function's own timeout: the gateway's 29 s, a 5xx, and the sender retries likewise.
 * Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables (local mode).
 */
const requestHandler = { connectionTimeout: 1_000, requestTimeout: 3_000 };
// A payload of a few MB takes longer than a record.
const s3RequestHandler = { connectionTimeout: 1_000, requestTimeout: 10_000 };

export interface ClientOverrides {
  readonly dynamodb?: DynamoDBClientConfig;
  readonly sqs?: SQSClientConfig;
  readonly s3?: S3ClientConfig;
}

export interface AwsAdapters {
  readonly ports: IngestPorts;
  /** The document projection's store, where the function has its table. */
  readonly documents?: DocumentStore;
  readonly rejectedStore: RejectedStore;
}

export function createAwsAdapters(
  config: Pick<Config, 'TABLE_NAME' | 'QUEUE_URL' | 'BUCKET_NAME' | 'S3_FORCE_PATH_STYLE'> & Partial<Pick<Config, 'DOCUMENTS_TABLE_NAME'>>,
  overrides: ClientOverrides = {},
): AwsAdapters {
  const dynamodb = new DynamoDBClient({ requestHandler, maxAttempts: 3, ...overrides.dynamodb });
  // The queue lives in the function's own region, so the region's endpoint is the queue's;
  // emulators name hosts in their queue URLs that need not resolve.
  const sqs = new SQSClient({ requestHandler, maxAttempts: 3, useQueueUrlAsEndpoint: false, ...overrides.sqs });
  const s3 = new S3Client({
    requestHandler: s3RequestHandler,
    maxAttempts: 3,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    ...overrides.s3,
  });
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
