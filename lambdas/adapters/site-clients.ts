import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { MessageQueue, MessageStore, PayloadStore, RejectedRequest, RejectedStore } from '../ingest/ports';
import { DynamoDbMessageStore } from './dynamodb-store';
import { readRejected } from './inspection';
import { S3PayloadStore, S3RejectedStore } from './s3-bucket';
import { SqsMessageQueue } from './sqs-queue';

/*
 * A site's ports built from an operator tool's own clients (the CLI's, with its credentials and deadlines), for
 * the operator actions that run the functions' code against a site (readmit: lambdas/handlers/wiring/readmit.ts).
 * Here, so the SDK stays in adapters/ and the wiring sees only ports.
 */

export interface SiteClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly bucket: string;
  readonly tableName: string;
  readonly queueUrl: string;
}

export interface SitePorts {
  readonly store: MessageStore;
  readonly queue: MessageQueue;
  readonly payloads: PayloadStore;
  readonly rejected: RejectedStore;
  /** A kept rejected request, by its key under rejected/. */
  readKept(key: string): Promise<RejectedRequest>;
}

export function sitePorts(clients: SiteClients): SitePorts {
  return {
    store: new DynamoDbMessageStore(clients.dynamodb, clients.tableName),
    queue: new SqsMessageQueue(clients.sqs, clients.queueUrl),
    payloads: new S3PayloadStore(clients.s3, clients.bucket),
    rejected: new S3RejectedStore(clients.s3, clients.bucket),
    readKept: (key) => readRejected(clients.s3, clients.bucket, key),
  };
}
