import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { MessageRecord, RejectedRequest } from '../ingest/ports';
import { batchGetAll, DynamoDbMessageStore, documentClient, queryAll } from './dynamodb-store';
import type { FailedAnswer } from '../../contract/causes';
import type { Arrival } from './record-item';
import { parseRejectedKey, REJECTED_PREFIX, type RejectedKeyFacts } from './s3-bucket';
import { dayPartitions, pendingPartitions, TABLE, utcDays } from '../../contract/shapes';

/*
 * What operators read (never the functions): recent arrivals from the table's by-day index, one message
 * with its payload, the Failed answers, the pending count, and the rejected requests kept in the bucket. One home below both readers, the CLI
 * and the local console. Nothing here touches the MIS queue.
 */

export type { Arrival, MessageRecord };
export type RejectedEntry = RejectedKeyFacts;

/** Arrivals after `since` (ISO time) up to `until`, oldest first; at most a month of days (watching, not history). */
export async function arrivalsSince(dynamodb: DynamoDBClient, tableName: string, since: string, until = new Date()): Promise<Arrival[]> {
  const store = new DynamoDbMessageStore(dynamodb, tableName);
  const arrivals: Arrival[] = [];
  for (const day of utcDays(since, until.toISOString(), 32)) arrivals.push(...(await store.arrivalsOn(day, since)));
  return arrivals;
}

/** Rejected requests kept since `since`, oldest first, from object names alone (time, status, code, type, request id). */
export async function listRejected(s3: S3Client, bucket: string, since: Date, until = new Date()): Promise<RejectedEntry[]> {
  const entries: RejectedEntry[] = [];
  for (let day = new Date(since.toISOString().slice(0, 10)); day <= until; day = new Date(day.getTime() + 86_400_000)) {
    const prefix = `${REJECTED_PREFIX}${day.toISOString().slice(0, 10).replaceAll('-', '/')}/`;
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const { Key } of page.Contents ?? []) {
        const entry = Key ? parseRejectedKey(Key) : undefined;
        if (!entry || entry.time < since.toISOString().slice(0, 19)) continue;
        entries.push(entry);
      }
      token = page.NextContinuationToken;
    } while (token);
  }
  return entries.sort((a, b) => a.time.localeCompare(b.time));
}

/** Kept keys starting with `prefix` (a whole key names itself alone), at most 50: enough to say which, or that it is ambiguous. */
export async function rejectedKeysStartingWith(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 50 }));
  const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
  return keys.includes(prefix) ? [prefix] : keys;
}

/** One kept rejected request, as stored. */
export async function readRejected(s3: S3Client, bucket: string, key: string): Promise<RejectedRequest> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await object.Body!.transformToString('utf-8')) as RejectedRequest;
}

/** Every kept rejected request under `prefix` (within rejected/), in key order, which is time order. */
export async function rejectedKeysUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) if (Key && parseRejectedKey(Key)) keys.push(Key);
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

/** What a MessageId or the start of one names: one record, several candidates, or nothing in the days searched. */
export type MessageLookup =
  | { readonly found: MessageRecord }
  | { readonly ambiguous: readonly string[] }
  | { readonly none: { readonly searchedSince: string } };

/**
 * The record a MessageId names, or the one whose MessageId starts with `idOrPrefix`. A whole id is one
 * strongly consistent read, whatever its age. A prefix cannot be a key condition (the MessageId is the
 * partition key), so it is looked for in the arrivals index, day by day from `since` (at most 32 days):
 * the index holds small items (facts, no payload), so this costs far less than a scan of the table.
 */
export async function findMessage(
  dynamodb: DynamoDBClient,
  tableName: string,
  idOrPrefix: string,
  since: string,
  until = new Date(),
): Promise<MessageLookup> {
  // MessageIds are kept lower-cased (ingest), as N3's GUIDs may arrive in either case.
  const wanted = idOrPrefix.trim().toLowerCase();
  const store = new DynamoDbMessageStore(dynamodb, tableName);
  const exact = await store.find(wanted);
  if (exact) return { found: exact };
  const client = documentClient(dynamodb);
  const { dayIndex, partitionKey } = TABLE;
  const ids = new Set<string>();
  for (const day of utcDays(since, until.toISOString(), 32)) {
    const pages = await Promise.all(
      dayPartitions(day).map((partition) =>
        queryAll(client, tableName, {
          IndexName: dayIndex.name,
          KeyConditionExpression: '#day = :day',
          FilterExpression: 'begins_with(#id, :prefix)',
          ProjectionExpression: '#id',
          ExpressionAttributeNames: { '#day': dayIndex.partitionKey, '#id': partitionKey },
          ExpressionAttributeValues: { ':day': partition, ':prefix': wanted },
        }),
      ),
    );
    for (const item of pages.flat().flatMap((page) => page.Items ?? [])) ids.add(String(item[partitionKey]));
  }
  if (ids.size > 1) return { ambiguous: [...ids].sort() };
  const [only] = ids;
  const record = only === undefined ? undefined : await store.find(only);
  return record ? { found: record } : { none: { searchedSince: since } };
}

/** Where a record's payload was read from: inline in the record, or the claim check's object. */
export type PayloadSource =
  | { readonly inline: true }
  | { readonly bucket: string; readonly key: string; readonly size: number; readonly sha256Matches: boolean };

/**
 * A record's payload (canonical JSON, as accepted): the record's own copy, or the object its claim check
 * names, checked against the hash it was accepted with. Undefined when the object is gone (the bucket's
 * lifecycle rule expired it); the record's facts remain.
 */
export async function readPayload(
  s3: S3Client,
  record: MessageRecord,
): Promise<{ readonly payload: string; readonly source: PayloadSource } | undefined> {
  if (record.payload !== undefined) return { payload: record.payload, source: { inline: true } };
  const ref = record.payloadRef;
  if (!ref) return undefined;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    const payload = await object.Body!.transformToString('utf-8');
    const sha256Matches = createHash('sha256').update(payload).digest('hex') === ref.sha256;
    return { payload, source: { bucket: ref.bucket, key: ref.key, size: ref.size, sha256Matches } };
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/**
 * Every Failed answer received after `since` (ISO time), oldest first: the arrivals index (status projected) finds
 * them, then one BatchGet reads their stored facts (`payload`, or the claim check's `facts`) for `Message` and
 * `StatusCode`. At most a month of days. The text is returned for the operator's eyes and for classification
 * (contract/causes.ts): never log it.
 */
export async function failedAnswersSince(
  dynamodb: DynamoDBClient,
  tableName: string,
  since: string,
  until = new Date(),
): Promise<FailedAnswer[]> {
  const client = documentClient(dynamodb);
  const { dayIndex, partitionKey } = TABLE;
  const failed: Record<string, unknown>[] = [];
  for (const day of utcDays(since, until.toISOString(), 32)) {
    const pages = await Promise.all(
      dayPartitions(day).map((partition) =>
        queryAll(client, tableName, {
          IndexName: dayIndex.name,
          KeyConditionExpression: '#day = :day AND #at > :after',
          FilterExpression: '#status = :failed',
          ExpressionAttributeNames: { '#day': dayIndex.partitionKey, '#at': dayIndex.sortKey, '#status': 'status' },
          ExpressionAttributeValues: { ':day': partition, ':after': since, ':failed': 'Failed' },
        }),
      ),
    );
    failed.push(...pages.flat().flatMap((page) => page.Items ?? []));
  }
  const stored = new Map(
    (
      await batchGetAll(
        client,
        tableName,
        partitionKey,
        failed.map((item) => String(item[partitionKey])),
        { attributes: ['payload', 'facts'] },
      )
    ).map((item) => [String(item[partitionKey]), item]),
  );
  return failed
    .map((item) => {
      const messageId = String(item[partitionKey]);
      const facts = factsOfItem(stored.get(messageId));
      return {
        messageId,
        messageType: String(item.messageType ?? ''),
        receivedAt: String(item[dayIndex.sortKey] ?? ''),
        documentKey: String(item.documentKey ?? ''),
        message: typeof facts.Message === 'string' ? facts.Message : '',
        ...(typeof facts.StatusCode === 'number' ? { statusCode: facts.StatusCode } : {}),
      };
    })
    .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
}

function factsOfItem(item: Record<string, unknown> | undefined): Record<string, unknown> {
  const text = typeof item?.payload === 'string' ? item.payload : typeof item?.facts === 'string' ? item.facts : undefined;
  try {
    const value = text ? (JSON.parse(text) as unknown) : undefined;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** How many messages are still to forward to the MIS queue: a COUNT query of every pending-index shard (keys only). */
export async function pendingCount(dynamodb: DynamoDBClient, tableName: string): Promise<number> {
  const client = documentClient(dynamodb);
  const { pendingIndex } = TABLE;
  const pages = await Promise.all(
    pendingPartitions().map((partition) =>
      queryAll(client, tableName, {
        IndexName: pendingIndex.name,
        KeyConditionExpression: '#pp = :pending',
        ExpressionAttributeNames: { '#pp': pendingIndex.partitionKey },
        ExpressionAttributeValues: { ':pending': partition },
        Select: 'COUNT',
      }),
    ),
  );
  return pages.flat().reduce((sum, page) => sum + (page.Count ?? 0), 0);
}

/**
 * When the newest callback arrived, looking back at most `days` UTC days (today first): the newest item of each
 * arrivals-index shard of a day (one item per query), undefined when none arrived in that window.
 */
export async function lastArrivalAt(dynamodb: DynamoDBClient, tableName: string, days = 14, now = new Date()): Promise<string | undefined> {
  const client = documentClient(dynamodb);
  const { dayIndex } = TABLE;
  for (let back = 0; back < days; back++) {
    const day = new Date(now.getTime() - back * 86_400_000).toISOString().slice(0, 10);
    const pages = await Promise.all(
      dayPartitions(day).map((partition) =>
        client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: dayIndex.name,
            KeyConditionExpression: '#day = :day',
            ExpressionAttributeNames: { '#day': dayIndex.partitionKey },
            ExpressionAttributeValues: { ':day': partition },
            ScanIndexForward: false,
            Limit: 1,
          }),
        ),
      ),
    );
    const newest = pages
      .flatMap((page) => page.Items ?? [])
      .map((item) => String(item[dayIndex.sortKey]))
      .sort()
      .at(-1);
    if (newest) return newest;
  }
  return undefined;
}
