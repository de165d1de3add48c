import type { S3Client } from '@aws-sdk/client-s3';
import { listRejected, type RejectedEntry, readRejected } from '../lambdas/adapters';
import { paint, printable, printableJson, printableStrings, table } from './ui';

/*
 * Every rejected callback, as kept under rejected/ in the bucket: when, why, what. The list reads
 * only object names (they carry time, status, reason code, type and request id); `--show` opens
 * one. The body is medical data: it is printed only when asked for (`--body`).
 */

export { listRejected, type RejectedEntry };

export function formatRejected(entries: readonly RejectedEntry[], json: boolean): string {
  if (json) return entries.map((e) => printableJson(e)).join('\n');
  if (entries.length === 0) return 'No rejected callbacks in that period.';
  return table(
    ['time', 'HTTP', 'reason', 'type', 'key'],
    entries.map(printableStrings).map((e) => [e.time.replace('T', ' ').replace('Z', ''), paint('red', e.status), e.code, e.type, e.key]),
  );
}

export async function showRejected(s3: S3Client, bucket: string, key: string, withBody: boolean): Promise<string> {
  const record = await readRejected(s3, bucket, key);
  const { bodyBase64, ...facts } = record;
  const lines = [printableJson(facts, 2)];
  if (withBody) lines.push('--- body as sent ---', printable(Buffer.from(bodyBase64, 'base64').toString('utf8'), { multiline: true }));
  else lines.push(paint('dim', `(body: ${record.bodyBytes} bytes; --body prints it)`));
  return lines.join('\n');
}
