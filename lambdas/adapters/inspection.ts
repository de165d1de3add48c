import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { RejectedRequest } from '../ingest/ports';
import { DynamoDbMessageStore } from './dynamodb-store';
import type { Arrival } from './record-item';
import { parseRejectedKey, REJECTED_PREFIX, type RejectedKeyFacts } from './s3-bucket';
import { utcDays } from '../../contract/shapes';

/*
 * What operators read (never the functions): recent arrivals from the table's by-day index and the
 * rejected requests kept in the bucket. One home below both readers, the CLI and the local console.
 */

export type { Arrival };
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
