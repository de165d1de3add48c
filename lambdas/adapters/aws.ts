import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
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

export function createAwsPorts(config: Pick<Config, 'TABLE_NAME' | 'QUEUE_URL'>): IngestPorts {
  const dynamodb = new DynamoDBClient({ requestHandler, maxAttempts: 3 });
  // The queue lives in the function's own region, so the region's endpoint is the queue's;
  // emulators name hosts in their queue URLs that need not resolve.
  const sqs = new SQSClient({ requestHandler, maxAttempts: 3, useQueueUrlAsEndpoint: false });
  return {
    store: new DynamoDbMessageStore(dynamodb, config.TABLE_NAME),
    queue: new SqsMessageQueue(sqs, config.QUEUE_URL),
    clock: { now: () => new Date() },
  };
}
