import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { TABLE } from '../../lambdas/adapters/table-schema';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/provision';

/* Direct looks at the emulators, the way an operator or the MIS consumer would look. */

const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };

export const dynamoClient = (endpoint: string) => new DynamoDBClient({ ...common, endpoint });
export const sqsClient = (endpoint: string) => new SQSClient({ ...common, endpoint, useQueueUrlAsEndpoint: false });

/** Exact count: fauxqs keeps precise numbers (AWS's are approximate). */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
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
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }
}

export async function getRecord(dynamodb: DynamoDBClient, tableName: string, messageId: string) {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: tableName, Key: { [TABLE.partitionKey]: { S: messageId } }, ConsistentRead: true }),
  );
  return Item;
}

export async function pendingIds(dynamodb: DynamoDBClient, tableName: string): Promise<string[]> {
  const { pendingIndex } = TABLE;
  const { Items = [] } = await dynamodb.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: pendingIndex.name,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': pendingIndex.partitionKey },
      ExpressionAttributeValues: { ':p': { S: TABLE.pendingPartitionValue } },
    }),
  );
  return Items.map((item) => item[TABLE.partitionKey]!.S!);
}
