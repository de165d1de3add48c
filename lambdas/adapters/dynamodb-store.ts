import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { RecordTooLargeError, StoreUnavailableError } from '../../contract/errors';
import { type MessageRecord, type MessageStore, type PendingBatch, type PutResult, UNREADABLE_RECORD } from '../ingest/ports';
import { overallDeadlineOf, withOverallDeadline } from './deadline';
import { type Arrival, arrivalFromIndexItem, fromItem, itemBytes, MissingAttributeError, type RecordItem, toItem } from './record-item';
import { dayPartitions, pendingPartitions, TABLE } from '../../contract/shapes';

/**
 * The message table through the DocumentClient: plain values in and out, the item shape in record-item.ts.
 * It has a `send` of its own, so it takes the per-operation deadline of the client it is built on (deadline.ts).
 */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  // Records hold no empty sets or class instances; undefined optional fields are simply left out.
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const overallMs = overallDeadlineOf(client);
  return overallMs === undefined ? documents : withOverallDeadline(documents, overallMs);
}

/** DynamoDB's item limit, attribute names included. */
const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;
/** What a new record may take: the rest is room for the marks that later add to it (state, times, refusal). */
export const MAX_RECORD_BYTES = DYNAMODB_MAX_ITEM_BYTES - 1024;

/** DynamoDB's refusal of an item over its limit: a ValidationException no retry can cure. */
const isItemTooLarge = (error: unknown) =>
  error instanceof Error && error.name === 'ValidationException' && /item size|maximum allowed size/i.test(error.message);

export class DynamoDbMessageStore implements MessageStore {
  private readonly client: DynamoDBDocumentClient;
  readonly maxRecordBytes = MAX_RECORD_BYTES;

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
      if (isItemTooLarge(error)) throw new RecordTooLargeError(this.sizeOf(record), this.maxRecordBytes, undefined, { cause: error });
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

  async markUndeliverable(messageId: string, at: string, refusal: string): Promise<void> {
    // Only a pending record: one forwarded meanwhile (by a send that got through) stays forwarded. Expired,
    // forwarded or already marked: nothing to mark.
    const onlyPending = {
      expression: 'attribute_exists(#id) AND #state = :received',
      names: { '#id': TABLE.partitionKey },
      values: { ':received': 'RECEIVED' },
    };
    await this.setAside(messageId, at, refusal, onlyPending, 'mark undeliverable failed');
  }

  async setAsideUnreadable(messageId: string, at: string): Promise<void> {
    // Whatever its state reads as (it may have none): only while it is in the pending set. Out of it already
    // (expired, forwarded or set aside by another run): nothing to do.
    await this.setAside(messageId, at, UNREADABLE_RECORD, { expression: 'attribute_exists(#pp)' }, 'set aside unreadable failed');
  }

  /** UNDELIVERABLE with its reason, out of the pending index, where `condition` holds; a failed condition is no error. */
  private async setAside(
    messageId: string,
    at: string,
    refusal: string,
    condition: { expression: string; names?: Record<string, string>; values?: Record<string, string> },
    failure: string,
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [TABLE.partitionKey]: messageId },
          UpdateExpression: 'SET #state = :undeliverable, undeliverableAt = :at, refusal = :refusal REMOVE #pp, #ps',
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: {
            '#state': 'state',
            '#pp': TABLE.pendingIndex.partitionKey,
            '#ps': TABLE.pendingIndex.sortKey,
            ...condition.names,
          },
          ExpressionAttributeValues: { ':undeliverable': 'UNDELIVERABLE', ':at': at, ':refusal': refusal, ...condition.values },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw new StoreUnavailableError(failure, { cause: error });
    }
  }

  sizeOf(record: MessageRecord): number {
    return itemBytes(toItem(record));
  }

  async listPending(receivedBefore: string, limit: number): Promise<PendingBatch> {
    const { pendingIndex, partitionKey } = TABLE;
    try {
      // Oldest `limit` of each shard, merged: the oldest `limit` overall are among them.
      const pages = await Promise.all(
        pendingPartitions().map((partition) =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: pendingIndex.name,
              KeyConditionExpression: '#pp = :pending AND #ps < :before',
              ExpressionAttributeNames: { '#pp': pendingIndex.partitionKey, '#ps': pendingIndex.sortKey },
              ExpressionAttributeValues: { ':pending': partition, ':before': receivedBefore },
              ScanIndexForward: true,
              Limit: limit,
            }),
          ),
        ),
      );
      const oldest = pages
        .flatMap((page) => page.Items ?? [])
        .sort((a, b) => String(a[pendingIndex.sortKey]).localeCompare(String(b[pendingIndex.sortKey])))
        .slice(0, limit);
      if (oldest.length === 0) return { records: [], unreadable: [] };
      // The index holds keys only and lags the table: read the records themselves, strongly.
      const items = await this.batchGet(oldest.map((item) => String(item[partitionKey])));
      // One item that does not read as a record must not stop every run: its key goes back, for the caller to set aside.
      const records: MessageRecord[] = [];
      const unreadable: string[] = [];
      for (const item of items) {
        try {
          records.push(fromItem(item));
        } catch (error) {
          if (!(error instanceof MissingAttributeError)) throw error;
          unreadable.push(String(item[partitionKey]));
        }
      }
      return {
        records: records.filter((r) => r.state === 'RECEIVED').sort((a, b) => a.receivedAt.localeCompare(b.receivedAt)),
        unreadable,
      };
    } catch (error) {
      throw new StoreUnavailableError('list pending failed', { cause: error });
    }
  }

  async countPending(): Promise<number> {
    const { pendingIndex } = TABLE;
    try {
      const counts = await Promise.all(
        pendingPartitions().map((partition) =>
          this.queryAll({
            IndexName: pendingIndex.name,
            KeyConditionExpression: '#pp = :pending',
            ExpressionAttributeNames: { '#pp': pendingIndex.partitionKey },
            ExpressionAttributeValues: { ':pending': partition },
            Select: 'COUNT',
          }).then((pages) => pages.reduce((sum, page) => sum + (page.Count ?? 0), 0)),
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    } catch (error) {
      throw new StoreUnavailableError('count pending failed', { cause: error });
    }
  }

  /**
   * What arrived on `day` (YYYY-MM-DD) after `after` (ISO time), oldest first, from the by-day index:
   * every shard merged, each with its current state read from the table.
   */
  async arrivalsOn(day: string, after: string): Promise<Arrival[]> {
    const { dayIndex, partitionKey } = TABLE;
    const pages = await Promise.all(
      dayPartitions(day).map((partition) =>
        this.queryAll({
          IndexName: dayIndex.name,
          KeyConditionExpression: '#day = :day AND #at > :after',
          ExpressionAttributeNames: { '#day': dayIndex.partitionKey, '#at': dayIndex.sortKey },
          ExpressionAttributeValues: { ':day': partition, ':after': after },
        }),
      ),
    );
    const items = pages.flat().flatMap((page) => page.Items ?? []);
    const states = new Map(
      (
        await this.batchGet(
          items.map((item) => String(item[partitionKey])),
          ['state'],
        )
      ).map((item) => [String(item[partitionKey]), String(item.state)]),
    );
    return items
      .map((item) => arrivalFromIndexItem(item, states.get(String(item[partitionKey])) ?? 'EXPIRED'))
      .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }

  async find(messageId: string): Promise<MessageRecord | undefined> {
    const item = await this.get(messageId);
    return item ? fromItem(item) : undefined;
  }

  private queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<QueryCommandOutput[]> {
    return queryAll(this.client, this.tableName, input);
  }

  /** Items by MessageId, read strongly, 100 a request, unprocessed keys retried (up to five rounds). */
  private batchGet(ids: readonly string[], attributes?: readonly string[]): Promise<RecordItem[]> {
    return batchGetAll(this.client, this.tableName, TABLE.partitionKey, ids, { consistent: true, attributes });
  }

  /** The record's item as stored now (strongly consistent), or undefined. */
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

/**
 * Items by key (`keyName` = each of `ids`), 100 a request, unprocessed keys retried up to five rounds;
 * `attributes` narrows what is read (the key is always included).
 */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  keyName: string,
  ids: readonly string[],
  options: { consistent?: boolean; attributes?: readonly string[] } = {},
): Promise<RecordItem[]> {
  const names = options.attributes ? [keyName, ...options.attributes] : undefined;
  const found: RecordItem[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    let keys: RecordItem[] = ids.slice(i, i + 100).map((id) => ({ [keyName]: id }));
    for (let round = 0; keys.length > 0 && round < 5; round++) {
      const { Responses, UnprocessedKeys } = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: keys,
              ...(options.consistent ? { ConsistentRead: true } : {}),
              ...(names
                ? {
                    ProjectionExpression: names.map((_, n) => `#a${n}`).join(', '),
                    ExpressionAttributeNames: Object.fromEntries(names.map((a, n) => [`#a${n}`, a])),
                  }
                : {}),
            },
          },
        }),
      );
      found.push(...(Responses?.[tableName] ?? []));
      keys = UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return found;
}

/** Every page of a query on a table or one of its indexes. */
export async function queryAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
): Promise<QueryCommandOutput[]> {
  const pages: QueryCommandOutput[] = [];
  let start: RecordItem | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, TableName: tableName, ExclusiveStartKey: start }));
    pages.push(page);
    start = page.LastEvaluatedKey;
  } while (start);
  return pages;
}
