import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Stage, TimelineEntry } from '../../contract/documents';
import { StoreUnavailableError } from '../../contract/errors';
import type { DocumentQuery, DocumentStore, StoredMessages, VersionedDocument } from '../documents/ports';
import {
  applyMessage,
  type DocumentMessage,
  type DocumentState,
  emptyDocument,
  nextDueOf,
  PROJECTION_VERSION,
  statesOf,
  waitingOf,
} from '../documents/projection';
import type { OpenDocument } from '../../contract/ladder';
import type { MessageRecord } from '../ingest/ports';
import { batchGetAll, documentClient, queryAll } from './dynamodb-store';
import { fromItem } from './record-item';
import {
  DOCUMENTS,
  duePartitionOf,
  duePartitions,
  updatedHourOf,
  updatedPartitionOf,
  updatedPartitions,
  utcDays,
} from '../../contract/shapes';

/*
 * The documents table: one item per document, of bounded size — the facts of the messages that decide
 * its stages and its newest timeline entries (never a payload body), the MIS's expectations, the projection
 * version that wrote it, an optimistic-lock version, a TTL, when it was saved, and the keys of the `updated`
 * (the hour of that save) and, while an expectation is unmet, `due` indexes. Nothing that changes with every
 * message is written into an index: a document's second message within the hour costs the table's write only.
 */

type Item = Record<string, unknown>;

export class DynamoDbDocumentStore implements DocumentStore {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.client = documentClient(client);
  }

  async get(documentId: string): Promise<VersionedDocument | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { [DOCUMENTS.partitionKey]: documentId }, ConsistentRead: true }),
      );
      return Item ? { state: stateOf(Item), version: Number(Item.version), stale: Item.projection !== PROJECTION_VERSION } : undefined;
    } catch (error) {
      throw new StoreUnavailableError('document get failed', { cause: error });
    }
  }

  async save(state: DocumentState, expectedVersion: number | undefined, now: string): Promise<boolean> {
    const nextDue = nextDueOf(state);
    const item: Item = {
      [DOCUMENTS.partitionKey]: state.documentId,
      version: (expectedVersion ?? 0) + 1,
      projection: PROJECTION_VERSION,
      decisive: state.messages,
      timeline: state.timeline,
      ...(state.timelineTruncated ? { timelineTruncated: true } : {}),
      expectations: state.expectations,
      ...(state.expiresAt !== undefined ? { [DOCUMENTS.ttlAttribute]: state.expiresAt } : {}),
      savedAt: now,
      // `states` is what the `updated` index projects: only the stages still awaiting a final answer and since when
      // (`states.waiting`: the age ladder reads them from the index alone), and only while there are some. So the index
      // item changes when a document starts or stops waiting, or its hour turns: a save that does neither costs the
      // index nothing (the stage states for a list's filter are read from the document itself).
      ...waitingAttribute(state, now),
      [DOCUMENTS.updatedIndex.partitionKey]: updatedPartitionOf(now, state.documentId),
      [DOCUMENTS.updatedIndex.sortKey]: updatedHourOf(now),
      ...(nextDue ? { [DOCUMENTS.dueIndex.partitionKey]: duePartitionOf(state.documentId), [DOCUMENTS.dueIndex.sortKey]: nextDue } : {}),
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': DOCUMENTS.partitionKey } }
            : {
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': expectedVersion },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StoreUnavailableError('document save failed', { cause: error });
    }
  }

  async list(query: DocumentQuery): Promise<DocumentState[]> {
    const { updatedIndex, partitionKey } = DOCUMENTS;
    const found: DocumentState[] = [];
    const seen = new Set<string>();
    try {
      // Recent days first: they are what people ask for, and the limit may be reached before the oldest.
      for (const day of utcDays(query.since, new Date().toISOString()).reverse()) {
        // The index knows the hour of the last save: from `since`'s hour on; the exact time and the stage are read from the items.
        const pages = await Promise.all(
          updatedPartitions(day).map((partition) =>
            queryAll(this.client, this.tableName, {
              IndexName: updatedIndex.name,
              KeyConditionExpression: '#day = :day AND #at >= :hour',
              ExpressionAttributeNames: { '#day': updatedIndex.partitionKey, '#at': updatedIndex.sortKey },
              ExpressionAttributeValues: { ':day': partition, ':hour': updatedHourOf(query.since) },
            }),
          ),
        );
        // A document moving to a later day may briefly show in both (the index lags the table): once is enough.
        const ids = pages
          .flat()
          .flatMap((page) => page.Items ?? [])
          .map((item) => String(item[partitionKey]))
          .filter((id) => !seen.has(id) && seen.add(id));
        for (let i = 0; i < ids.length && found.length < query.limit; i += 100) {
          for (const item of await batchGetAll(this.client, this.tableName, partitionKey, ids.slice(i, i + 100))) {
            if (found.length >= query.limit) break;
            if (savedAtOf(item) < query.since) continue;
            const state = stateOf(item);
            if (query.stage) {
              const current = statesOf(state)[query.stage];
              if (query.state ? current !== query.state : current === undefined) continue;
            }
            found.push(state);
          }
        }
        if (found.length >= query.limit) break;
      }
      return found;
    } catch (error) {
      throw new StoreUnavailableError('document list failed', { cause: error });
    }
  }

  async due(now: string, limit: number): Promise<DocumentState[]> {
    const { dueIndex, partitionKey } = DOCUMENTS;
    try {
      const pages = await Promise.all(
        duePartitions().map((partition) =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: dueIndex.name,
              KeyConditionExpression: '#shard = :shard AND #due <= :now',
              ExpressionAttributeNames: { '#shard': dueIndex.partitionKey, '#due': dueIndex.sortKey },
              ExpressionAttributeValues: { ':shard': partition, ':now': now },
              Limit: limit,
            }),
          ),
        ),
      );
      const ids = pages.flatMap((page) => page.Items ?? []).map((item) => String(item[partitionKey]));
      return this.batchGet(ids.slice(0, limit));
    } catch (error) {
      throw new StoreUnavailableError('document due failed', { cause: error });
    }
  }

  async waiting(since: string): Promise<OpenDocument[]> {
    const { updatedIndex, partitionKey } = DOCUMENTS;
    const partitions = utcDays(since, new Date().toISOString()).flatMap(updatedPartitions);
    const found: OpenDocument[] = [];
    try {
      // Every (day, shard) partition of the retention window, WAITING_READS at a time (91 days × 10 shards = 910 queries).
      await inParallel(partitions, WAITING_READS, async (partition) => {
        for (const page of await queryAll(this.client, this.tableName, {
          IndexName: updatedIndex.name,
          KeyConditionExpression: '#day = :day AND #at >= :since',
          ExpressionAttributeNames: { '#day': updatedIndex.partitionKey, '#at': updatedIndex.sortKey },
          ExpressionAttributeValues: { ':day': partition, ':since': since },
        })) {
          for (const item of page.Items ?? []) found.push(...waitingOfIndexItem(item, String(item[partitionKey])));
        }
      });
      return found;
    } catch (error) {
      throw new StoreUnavailableError('document waiting failed', { cause: error });
    }
  }

  private async batchGet(ids: readonly string[]): Promise<DocumentState[]> {
    return (await batchGetAll(this.client, this.tableName, DOCUMENTS.partitionKey, ids)).map(stateOf);
  }
}

/** When the item was last saved: `savedAt`, or `writtenAt` on items saved before the index took the hour (it then held the time). */
const savedAtOf = (item: Item): string =>
  typeof item.savedAt === 'string' ? item.savedAt : typeof item.writtenAt === 'string' ? item.writtenAt : '';
/** Index queries in flight at once when reading the age ladder. */
const WAITING_READS = 32;

function waitingAttribute(state: DocumentState, now: string): { states?: { waiting: Partial<Record<Stage, string>> } } {
  const waiting = waitingOf(state, now);
  return Object.keys(waiting).length ? { states: { waiting } } : {};
}

/**
 * The waits an `updated` index item records. Items written before `waiting` existed have none: their REMD still
 * `awaiting` or MSE still `registered` counts from their last write (`writtenAt`), the best the index knows.
 */
function waitingOfIndexItem(item: Item, documentId: string): OpenDocument[] {
  const states = (item.states ?? {}) as Partial<Record<Stage, string>> & { waiting?: Partial<Record<Stage, string>> };
  const waiting = { ...states.waiting };
  const writtenAt = String(item[DOCUMENTS.updatedIndex.sortKey]);
  if (!states.waiting && states.remd === 'awaiting') waiting.remd = writtenAt;
  if (!states.waiting && states.mse === 'registered') waiting.mse = writtenAt;
  return (Object.entries(waiting) as [Stage, string][]).map(([stage, since]) => ({ documentId, stage, since }));
}

/** Runs `work` over `items`, at most `limit` at once. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function stateOf(item: Item): DocumentState {
  const documentId = String(item[DOCUMENTS.partitionKey]);
  const expectations = (item.expectations ?? {}) as DocumentState['expectations'];
  const expiresAt = typeof item[DOCUMENTS.ttlAttribute] === 'number' ? (item[DOCUMENTS.ttlAttribute] as number) : undefined;
  if (item.projection === undefined) {
    // Written by the first projection: every message in `messages`. Folded into the bounded shape; rewritten when next touched.
    const messages = (item.messages ?? []) as DocumentMessage[];
    return messages.reduce(applyMessage, { ...emptyDocument(documentId), expectations });
  }
  return {
    documentId,
    messages: (item.decisive ?? []) as DocumentMessage[],
    timeline: (item.timeline ?? []) as TimelineEntry[],
    timelineTruncated: item.timelineTruncated === true,
    expectations,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

/**
 * Every record of the message table, in `segments` parallel scans (one `StoredMessages` each), page by
 * page: what `reproject` rebuilds documents from. Items that are not message records are counted.
 */
export function scanStoredMessages(client: DynamoDBClient, tableName: string, segments = 4): StoredMessages[] {
  const documents = documentClient(client);
  return Array.from({ length: segments }, (_, segment) => scanSegment(documents, tableName, segment, segments));
}

async function* scanSegment(client: DynamoDBDocumentClient, tableName: string, segment: number, segments: number): StoredMessages {
  let start: Item | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, Segment: segment, TotalSegments: segments, ExclusiveStartKey: start }),
    );
    const records: MessageRecord[] = [];
    let unreadable = 0;
    for (const item of page.Items ?? []) {
      try {
        records.push(fromItem(item));
      } catch {
        unreadable++;
      }
    }
    yield { records, unreadable };
    start = page.LastEvaluatedKey;
  } while (start);
}
