import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { StoreUnavailableError } from '../errors';
import type { MessageRecord, MessageStore, PutResult } from '../ingest/ports';
import { fromItem, type RecordItem, toItem } from './record-item';
import { TABLE } from './shapes';

/** The message table through the DocumentClient: plain values in and out, the item shape in record-item.ts. */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  // Records hold no empty sets or class instances; undefined optional fields are simply left out.
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export class DynamoDbMessageStore implements MessageStore {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.client = documentClient(client);
  }

  async putIfAbsent(record: MessageRecord): Promise<PutResult> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(record),
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': TABLE.partitionKey },
          // A duplicate then costs this one request: the failed condition returns the item we lost to.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        throw new StoreUnavailableError('put failed', { cause: error });
      }
      // The DocumentClient does not unmarshall the item carried by the error: read it the same way as the rest.
      const existing = error.Item ? unmarshall(error.Item) : await this.get(record.messageId);
      if (!existing) throw new StoreUnavailableError('record vanished after a failed put condition', { cause: error });
      return { created: false, existing: fromItem(existing) };
    }
  }

  async markForwarded(messageId: string, forwardedAt: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [TABLE.partitionKey]: messageId },
          UpdateExpression: 'SET #state = :forwarded, forwardedAt = if_not_exists(forwardedAt, :at) REMOVE #pp, #ps',
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: {
            '#id': TABLE.partitionKey,
            '#state': 'state',
            '#pp': TABLE.pendingIndex.partitionKey,
            '#ps': TABLE.pendingIndex.sortKey,
          },
          ExpressionAttributeValues: { ':forwarded': 'FORWARDED', ':at': forwardedAt },
        }),
      );
    } catch (error) {
      // Expired (TTL) between send and mark: nothing left to mark.
      if (error instanceof ConditionalCheckFailedException) return;
      throw new StoreUnavailableError('mark forwarded failed', { cause: error });
    }
  }

  async listPending(receivedBefore: string, limit: number): Promise<MessageRecord[]> {
    const { pendingIndex, pendingPartitionValue, partitionKey } = TABLE;
    try {
      const { Items = [] } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: pendingIndex.name,
          KeyConditionExpression: '#pp = :pending AND #ps < :before',
          ExpressionAttributeNames: { '#pp': pendingIndex.partitionKey, '#ps': pendingIndex.sortKey },
          ExpressionAttributeValues: { ':pending': pendingPartitionValue, ':before': receivedBefore },
          ScanIndexForward: true,
          Limit: limit,
        }),
      );
      if (Items.length === 0) return [];
      // The index holds keys only and lags the table: read the records themselves, strongly.
      let keys: RecordItem[] = Items.map((item) => ({ [partitionKey]: item[partitionKey] }));
      const records: MessageRecord[] = [];
      for (let round = 0; keys.length > 0 && round < 5; round++) {
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        records.push(...(Responses?.[this.tableName] ?? []).map(fromItem));
        keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
      return records.filter((r) => r.state === 'RECEIVED').sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    } catch (error) {
      throw new StoreUnavailableError('list pending failed', { cause: error });
    }
  }

  async countPending(): Promise<number> {
    const { pendingIndex, pendingPartitionValue } = TABLE;
    let count = 0;
    let start: RecordItem | undefined;
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: pendingIndex.name,
            KeyConditionExpression: '#pp = :pending',
            ExpressionAttributeNames: { '#pp': pendingIndex.partitionKey },
            ExpressionAttributeValues: { ':pending': pendingPartitionValue },
            Select: 'COUNT',
            ExclusiveStartKey: start,
          }),
        );
        count += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
      return count;
    } catch (error) {
      throw new StoreUnavailableError('count pending failed', { cause: error });
    }
  }

  /** The record as stored now (strongly consistent), or undefined. */
  async get(messageId: string): Promise<RecordItem | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { [TABLE.partitionKey]: messageId }, ConsistentRead: true }),
      );
      return Item;
    } catch (error) {
      throw new StoreUnavailableError('get failed', { cause: error });
    }
  }
}
