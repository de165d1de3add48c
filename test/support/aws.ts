import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDbMessageStore } from '../../lambdas/adapters/dynamodb-store';
import type { RecordItem } from '../../lambdas/adapters/record-item';

/* Direct looks at the emulators, the way an operator or the MIS consumer would look. */

export { localDynamoDb as dynamoClient, localS3 as s3Client, localSqs as sqsClient } from '../../local/clients';

/** What `aws s3 ls --recursive s3://bucket/prefix` lists. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** Exact count: fauxqs keeps precise numbers (AWS's are approximate). */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Receives and deletes everything on the queue, as a consumer would. */
export async function drain(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

/** The record's item as stored (plain values), read strongly through the adapter. */
export async function getRecord(dynamodb: DynamoDBClient, tableName: string, messageId: string): Promise<RecordItem | undefined> {
  return new DynamoDbMessageStore(dynamodb, tableName).get(messageId);
}

/** Every MessageId in the pending index, across its shards (the reconciler's view, far past any grace period). */
export async function pendingIds(dynamodb: DynamoDBClient, tableName: string): Promise<string[]> {
  const { records } = await new DynamoDbMessageStore(dynamodb, tableName).listPending('9999', 1000);
  return records.map((record) => record.messageId);
}
