import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseRejectedKey, REJECTED_PREFIX, type RejectedKeyFacts } from '../lambdas/adapters/s3-bucket';
import type { RejectedRequest } from '../lambdas/ingest/ports';
import { paint, printable, printableJson, printableStrings, table } from './ui';

/*
 * Every rejected callback, as kept under rejected/ in the bucket: when, why, what. The list reads
 * only object names (they carry time, status, reason code, type and request id); `--show` opens
 * one. The body is medical data: it is printed only when asked for (`--body`).
 */

export type RejectedEntry = RejectedKeyFacts;

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

export function formatRejected(entries: readonly RejectedEntry[], json: boolean): string {
  if (json) return entries.map((e) => printableJson(e)).join('\n');
  if (entries.length === 0) return 'No rejected callbacks in that period.';
  return table(
    ['time', 'HTTP', 'reason', 'type', 'key'],
    entries.map(printableStrings).map((e) => [e.time.replace('T', ' ').replace('Z', ''), paint('red', e.status), e.code, e.type, e.key]),
  );
}

/** One kept rejected request, as stored. */
export async function readRejected(s3: S3Client, bucket: string, key: string): Promise<RejectedRequest> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await object.Body!.transformToString('utf-8')) as RejectedRequest;
}

export async function showRejected(s3: S3Client, bucket: string, key: string, withBody: boolean): Promise<string> {
  const record = await readRejected(s3, bucket, key);
  const { bodyBase64, ...facts } = record;
  const lines = [printableJson(facts, 2)];
  if (withBody) lines.push('--- body as sent ---', printable(Buffer.from(bodyBase64, 'base64').toString('utf8'), { multiline: true }));
  else lines.push(paint('dim', `(body: ${record.bodyBytes} bytes; --body prints it)`));
  return lines.join('\n');
}
