import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createPeerHandler } from './handler';

/*
 * The peer as one Lambda function would ship it: its handler with its two clients built at init. Bundled
 * with the stack's settings for M1 and started beside ours for M2 (dev/bench/bundle-size.ts, dev/bench/cold-start.ts).
 */

export const handler = createPeerHandler({
  dynamodb: new DynamoDBClient({}),
  sqs: new SQSClient({}),
  tableName: process.env.TABLE_NAME ?? 'peer-idempotency',
  queueUrl: process.env.QUEUE_URL ?? '',
});
