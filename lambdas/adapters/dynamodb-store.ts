import {
  ConditionalCheckFailedException,
  GetItemCommand,
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
    payload: { S: record.payload },
    payloadBytes: { N: String(record.payloadBytes) },
    receivedAt: { S: record.receivedAt },
    [TABLE.ttlAttribute]: { N: String(record.expiresAt) },
  };
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
  return {
    messageId: s(TABLE.partitionKey),
    state: s('state') === 'FORWARDED' ? 'FORWARDED' : 'RECEIVED',
    messageType: s('messageType') as MessageType,
    site: s('site'),
    lpu: s('lpu'),
    status: s('status') as Status,
    documentKey: s('documentKey'),
    payloadHash: s('payloadHash'),
    payload: s('payload'),
    payloadBytes: n('payloadBytes'),
    receivedAt: s('receivedAt'),
    ...(item.forwardedAt?.S ? { forwardedAt: item.forwardedAt.S } : {}),
    expiresAt: n(TABLE.ttlAttribute),
  };
}
