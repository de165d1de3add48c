import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DOCUMENTS, QUEUE, TABLE } from '../contract/shapes';
import { localDynamoDb, localS3, localSqs } from './clients';

/*
 * Creates, on the emulators, what the CDK stack creates in AWS: the message table with its
 * pending index and TTL, the FIFO queue with its dead-letter queue, the payload bucket.
 */

export interface Endpoints {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly s3: string;
}

export interface Resources {
  readonly tableName: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly bucket: string;
  readonly documentsTableName: string;
  /** The message table's stream (new images), where the emulator has streams (DynamoDB Local; not dynalite). */
  readonly streamArn: string | undefined;
}

export async function provision(endpoints: Endpoints, names: { prefix: string }): Promise<Resources> {
  const dynamodb = localDynamoDb(endpoints.dynamodb);
  const sqs = localSqs(endpoints.sqs);
  const s3 = localS3(endpoints.s3);
  try {
    const tableName = `${names.prefix}-messages`;
    const streamArn = await createTable(dynamodb, tableName);
    const documentsTableName = `${names.prefix}-documents`;
    await createDocumentsTable(dynamodb, documentsTableName);

    const dlq = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${names.prefix}-dlq.fifo`,
        Attributes: { FifoQueue: 'true', MessageRetentionPeriod: String(QUEUE.retentionSeconds) },
      }),
    );
    const dlqArn = await sqs
      .send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
      .then((r) => r.Attributes?.QueueArn);
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${names.prefix}.fifo`,
        Attributes: {
          FifoQueue: 'true',
          DeduplicationScope: QUEUE.deduplicationScope,
          FifoThroughputLimit: QUEUE.fifoThroughputLimit,
          MessageRetentionPeriod: String(QUEUE.retentionSeconds),
          VisibilityTimeout: String(QUEUE.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: QUEUE.maxReceiveCount }),
        },
      }),
    );

    const bucket = `${names.prefix}-payloads`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return { tableName, queueUrl: queue.QueueUrl!, dlqUrl: dlq.QueueUrl!, bucket, documentsTableName, streamArn };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    s3.destroy();
  }
}

async function createTable(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  const { partitionKey, pendingIndex, dayIndex } = TABLE;
  // Kept from an earlier run (npm start --data): use it as it is.
  const existing = await describe(client, tableName);
  if (existing) return existing.LatestStreamArn;
  const created = await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      // The document projector reads new records from here (the stack sets the same).
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      ...keysAndIndexes(partitionKey, [pendingIndex, dayIndex]),
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
  await enableTtl(client, tableName, TABLE.ttlAttribute);
  return created.TableDescription?.LatestStreamArn;
}

async function enableTtl(client: DynamoDBClient, tableName: string, attribute: string): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: attribute, Enabled: true } }),
    );
  } catch {
    // dynalite has no TTL API; expiry is an AWS-side sweep we never rely on locally.
  }
}

async function createDocumentsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, updatedIndex, dueIndex } = DOCUMENTS;
  if (await describe(client, tableName)) return;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      ...keysAndIndexes(partitionKey, [updatedIndex, dueIndex]),
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
  await enableTtl(client, tableName, DOCUMENTS.ttlAttribute);
}

async function describe(client: DynamoDBClient, tableName: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

interface IndexShape {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Attributes copied into the index; none: keys only. */
  readonly projected?: readonly string[];
}

/** A table keyed by one string attribute, with string-keyed global indexes, as the stack declares them (lib/storage.ts). */
function keysAndIndexes(partitionKey: string, indexes: readonly IndexShape[]) {
  const keyNames = [partitionKey, ...indexes.flatMap((index) => [index.partitionKey, index.sortKey])];
  return {
    AttributeDefinitions: [...new Set(keyNames)].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' as const }],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: index.projected
        ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.projected] }
        : { ProjectionType: 'KEYS_ONLY' as const },
    })),
  };
}
