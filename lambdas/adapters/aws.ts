import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { Config } from '../config';
import type { IngestPorts } from '../ingest/ports';
import { DynamoDbMessageStore } from './dynamodb-store';
import { SqsMessageQueue } from './sqs-queue';

/*
 * Short timeouts: the sender waits for our ack, and a slow answer only invites a
 * re-send. A hung call becomes a 503 quickly and the sender retries.
 * Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables (local mode).
 */
const requestHandler = { connectionTimeout: 1_000, requestTimeout: 3_000 };

export interface ClientOverrides {
  readonly dynamodb?: DynamoDBClientConfig;
  readonly sqs?: SQSClientConfig;
}

export function createAwsPorts(config: Pick<Config, 'TABLE_NAME' | 'QUEUE_URL'>, overrides: ClientOverrides = {}): IngestPorts {
  const dynamodb = new DynamoDBClient({ requestHandler, maxAttempts: 3, ...overrides.dynamodb });
  // The queue lives in the function's own region, so the region's endpoint is the queue's;
  // emulators name hosts in their queue URLs that need not resolve.
  const sqs = new SQSClient({ requestHandler, maxAttempts: 3, useQueueUrlAsEndpoint: false, ...overrides.sqs });
  return {
    store: new DynamoDbMessageStore(dynamodb, config.TABLE_NAME),
    queue: new SqsMessageQueue(sqs, config.QUEUE_URL),
    clock: { now: () => new Date() },
  };
}
