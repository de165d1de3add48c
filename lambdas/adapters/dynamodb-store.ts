import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { StoreUnavailableError } from '../errors';
import type { MessageRecord, MessageStore, PutResult } from '../ingest/ports';
import type { MessageType } from '../protocol/catalog';
import type { Status } from '../protocol/fields';
import { TABLE } from './table-schema';

type Item = Record<string, AttributeValue>;

/** The only place that knows how a MessageRecord looks in DynamoDB. */
export class DynamoDbMessageStore implements MessageStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async putIfAbsent(record: MessageRecord): Promise<PutResult> {
    try {
      await this.client.send(
        new PutItemCommand({
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
      const existing = error.Item ?? (await this.getConsistent(record.messageId));
      if (!existing) throw new StoreUnavailableError('record vanished after a failed put condition', { cause: error });
      return { created: false, existing: fromItem(existing) };
    }
  }

  async markForwarded(messageId: string, forwardedAt: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [TABLE.partitionKey]: { S: messageId } },
          UpdateExpression: 'SET #state = :forwarded, forwardedAt = if_not_exists(forwardedAt, :at) REMOVE #pp, #ps',
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: {
            '#id': TABLE.partitionKey,
            '#state': 'state',
            '#pp': TABLE.pendingIndex.partitionKey,
            '#ps': TABLE.pendingIndex.sortKey,
          },
          ExpressionAttributeValues: { ':forwarded': { S: 'FORWARDED' }, ':at': { S: forwardedAt } },
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
          ExpressionAttributeValues: { ':pending': { S: pendingPartitionValue }, ':before': { S: receivedBefore } },
          ScanIndexForward: true,
          Limit: limit,
        }),
      );
      if (Items.length === 0) return [];
      // The index holds keys only and lags the table: read the records themselves, strongly.
      let keys: Item[] = Items.map((item) => ({ [partitionKey]: item[partitionKey]! }));
      const records: MessageRecord[] = [];
      for (let round = 0; keys.length > 0 && round < 5; round++) {
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
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
    let start: Record<string, AttributeValue> | undefined;
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: pendingIndex.name,
            KeyConditionExpression: '#pp = :pending',
            ExpressionAttributeNames: { '#pp': pendingIndex.partitionKey },
            ExpressionAttributeValues: { ':pending': { S: pendingPartitionValue } },
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

  // Some stores (dynalite) return no item with a failed condition: read it, strongly, once.
  private async getConsistent(messageId: string): Promise<Item | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [TABLE.partitionKey]: { S: messageId } },
          ConsistentRead: true,
        }),
      );
      return Item;
    } catch (error) {
      throw new StoreUnavailableError('get failed', { cause: error });
    }
  }
}

export function toItem(record: MessageRecord): Item {
  const item: Item = {
    [TABLE.partitionKey]: { S: record.messageId },
    state: { S: record.state },
    messageType: { S: record.messageType },
    site: { S: record.site },
    lpu: { S: record.lpu },
    status: { S: record.status },
    documentKey: { S: record.documentKey },
    payloadHash: { S: record.payloadHash },
    payloadBytes: { N: String(record.payloadBytes) },
    receivedAt: { S: record.receivedAt },
    [TABLE.dayIndex.partitionKey]: { S: record.receivedAt.slice(0, 10) },
    [TABLE.ttlAttribute]: { N: String(record.expiresAt) },
  };
  if (record.payload !== undefined) item.payload = { S: record.payload };
  if (record.payloadRef) {
    const { bucket, key, size, sha256 } = record.payloadRef;
    item.payloadRef = { M: { bucket: { S: bucket }, key: { S: key }, size: { N: String(size) }, sha256: { S: sha256 } } };
  }
  if (record.forwardedAt) item.forwardedAt = { S: record.forwardedAt };
  if (record.state === 'RECEIVED') {
    item[TABLE.pendingIndex.partitionKey] = { S: TABLE.pendingPartitionValue };
    item[TABLE.pendingIndex.sortKey] = { S: record.receivedAt };
  }
  return item;
}

export function fromItem(item: Item): MessageRecord {
  const s = (name: string) => item[name]?.S ?? '';
  const n = (name: string) => Number(item[name]?.N ?? 0);
  const ref = item.payloadRef?.M;
  return {
    messageId: s(TABLE.partitionKey),
    state: s('state') === 'FORWARDED' ? 'FORWARDED' : 'RECEIVED',
    messageType: s('messageType') as MessageType,
    site: s('site'),
    lpu: s('lpu'),
    status: s('status') as Status,
    documentKey: s('documentKey'),
    payloadHash: s('payloadHash'),
    ...(item.payload?.S !== undefined ? { payload: item.payload.S } : {}),
    ...(ref
      ? { payloadRef: { bucket: ref.bucket?.S ?? '', key: ref.key?.S ?? '', size: Number(ref.size?.N ?? 0), sha256: ref.sha256?.S ?? '' } }
      : {}),
    payloadBytes: n('payloadBytes'),
    receivedAt: s('receivedAt'),
    ...(item.forwardedAt?.S ? { forwardedAt: item.forwardedAt.S } : {}),
    expiresAt: n(TABLE.ttlAttribute),
  };
}
