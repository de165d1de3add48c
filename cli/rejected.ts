import type { S3Client } from '@aws-sdk/client-s3';
import { listRejected, type RejectedEntry, readRejected, rejectedKeysStartingWith } from '../lambdas/adapters';
import { UsageError } from './target';
import { BUCKET_PREFIXES } from '../contract/names';
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

/**
 * The one kept key that `given` names: a whole key, the start of one (`<prefix>2026/12/07/1205`), or the
 * start of a request id (as the list shows it), looked for among the requests kept since `since`.
 * Ambiguous or unknown: one line that says what to do, with the candidates.
 */
export async function resolveRejectedKey(s3: S3Client, bucket: string, given: string, since: Date): Promise<string> {
  const matches = given.startsWith(BUCKET_PREFIXES.rejected)
    ? await rejectedKeysStartingWith(s3, bucket, given)
    : (await listRejected(s3, bucket, since)).filter((e) => e.requestId.startsWith(given)).map((e) => e.key);
  if (matches.length === 1) return matches[0]!;
  const asked = printableJson(given);
  if (matches.length === 0)
    throw new UsageError(`no rejected request under ${asked}: n3-callback rejected lists the keys (--since widens the search)`);
  const shown = matches.slice(0, 5).join(', ');
  throw new UsageError(
    `${asked} starts ${matches.length} rejected keys: ${printable(shown)}${matches.length > 5 ? ` and ${matches.length - 5} more` : ''}; give more of it`,
  );
}
