import { readFileSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIXES } from '../contract/names';
import {
  listRejected,
  parseRejectedKey,
  type RejectedEntry,
  readRejected,
  rejectedKeysStartingWith,
  rejectedKeysUnder,
} from '../lambdas/adapters';
import { createReadmitter, type ReadmitOutcome, type ReadmitResult, type ReadmitSite } from '../lambdas/handlers/wiring';
import { loadSites } from '../lib/site-files';
import { audited } from './audit';
import { requireValue, type Target, UsageError } from './target';
import { Progress, paint, printable, printableJson, printableStrings, table } from './ui';

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

/** What `rejected readmit` runs: keys or prefixes under rejected/, or a window and a reason code. */
export interface ReadmitSelection {
  readonly keys: readonly string[];
  readonly since?: Date;
  readonly reason?: string;
}

export interface ReadmitReport {
  readonly results: readonly ReadmitResult[];
  readonly counts: Readonly<Record<ReadmitOutcome, number>>;
}

/**
 * `n3-callback rejected readmit`: each selected kept request run through the site's receiving handler as if it came
 * now (lambdas/adapters/readmit.ts), audited. A dry run reads and counts, writes nothing (not even a rejected copy).
 */
export async function readmit(target: Target, selection: ReadmitSelection, dryRun: boolean): Promise<ReadmitReport> {
  const bucket = requireValue(target.bucket, 'the bucket (--bucket)');
  const site = readmitSite(target);
  const keys = await selectRejected(target.s3, bucket, selection);
  const auditSelection = {
    ...(selection.keys.length ? { keys: selection.keys } : {}),
    ...(selection.since ? { since: selection.since.toISOString() } : {}),
    ...(selection.reason ? { reason: selection.reason } : {}),
    selected: keys.length,
    lpuAllowlist: site.lpuAllowlist.length,
  };
  return audited(target, { command: 'rejected readmit', selection: auditSelection, dryRun }, async () => {
    const readmitter = createReadmitter(
      {
        s3: target.s3,
        dynamodb: target.dynamodb,
        sqs: target.sqs,
        bucket,
        tableName: requireValue(target.tableName, 'the message table (--table)'),
        queueUrl: requireValue(target.queueUrl, 'the MIS queue (--queue-url)'),
        site,
      },
      { dryRun },
    );
    const progress = new Progress(keys.length);
    const results: ReadmitResult[] = [];
    // One at a time, oldest first: a document's messages reach the queue in the order they first came.
    for (const key of keys) {
      results.push(await readmitter.readmit(key));
      progress.update(results.length, dryRun ? 'read (dry run)' : 'readmitted');
    }
    progress.done();
    const counts: Record<ReadmitOutcome, number> = { admitted: 0, deferred: 0, duplicate: 0, rejected: 0, skipped: 0 };
    for (const { outcome } of results) counts[outcome] += 1;
    return { results, counts };
  });
}

/**
 * The keys to run, oldest first. A window picks every kept request with the reason code; a request kept again by an
 * earlier readmission (its request id `readmit-<id>`) counts once with the request it copies.
 */
export async function selectRejected(s3: S3Client, bucket: string, selection: ReadmitSelection): Promise<string[]> {
  const keys = new Set<string>();
  for (const given of selection.keys) {
    if (!given.startsWith(BUCKET_PREFIXES.rejected))
      throw new UsageError(`${JSON.stringify(given)} is not under ${BUCKET_PREFIXES.rejected}: n3-callback rejected lists the keys`);
    const found = parseRejectedKey(given) ? [given] : await rejectedKeysUnder(s3, bucket, given);
    if (found.length === 0) throw new UsageError(`no rejected request under ${JSON.stringify(given)}: n3-callback rejected lists the keys`);
    for (const key of found) keys.add(key);
  }
  if (selection.since) {
    const seen = new Set<string>();
    for (const entry of await listRejected(s3, bucket, selection.since)) {
      if (selection.reason && entry.code !== selection.reason) continue;
      const original = entry.requestId.replace(/^(readmit-)+/, '');
      if (seen.has(original)) continue;
      seen.add(original);
      keys.add(entry.key);
    }
  }
  return [...keys].sort();
}

/**
 * The settings the site's receiving function runs under now: npm start says them (/_local/info); for a deployed
 * site they are its definition in this project (cdk.json context `sites`, `sites/<id>.json`), as the last deploy
 * took them, so readmit runs in the folder the fleet is deployed from.
 */
export function readmitSite(target: Target, cwd = process.cwd()): ReadmitSite {
  if (target.localInfo) return { siteId: target.localInfo.siteId, lpuAllowlist: target.localInfo.lpuAllowlist };
  const siteId = target.site?.siteId;
  if (!siteId) throw new UsageError("readmit applies the site's own settings (its Lpu allowlist): name the site with --site <id>");
  let context: { sites?: unknown; sitesDir?: string } = {};
  try {
    context = (JSON.parse(readFileSync(`${cwd}/cdk.json`, 'utf8')) as { context?: typeof context }).context ?? {};
  } catch {
    // No cdk.json: the site files alone, if any.
  }
  const site = loadSites({ context: context.sites, sitesDir: context.sitesDir, cwd }).find((s) => s.id === siteId);
  if (!site)
    throw new UsageError(
      `site ${siteId} is not defined here (cdk.json, sites/${siteId}.json): run readmit in the project folder it is deployed from, after deploying the change`,
    );
  return { siteId, lpuAllowlist: site.lpuAllowlist, retentionDays: site.retentionDays };
}

export function formatReadmit(report: ReadmitReport, dryRun: boolean, json: boolean): string {
  if (json) return report.results.map((r) => printableJson(r)).join('\n');
  if (report.results.length === 0) return 'No rejected requests match.';
  const colour = { admitted: 'green', deferred: 'green', duplicate: 'dim', rejected: 'red', skipped: 'yellow' } as const;
  const rows = report.results
    .map(printableStrings)
    .map((r) => [
      r.arrivedAt.replace('T', ' ').slice(0, 19),
      r.messageType,
      r.messageId,
      paint(colour[r.outcome as ReadmitOutcome], dryRun && r.outcome === 'admitted' ? 'would admit' : r.outcome),
      r.code ? `${r.code}${r.reason ? `: ${r.reason}` : ''}`.slice(0, 100) : '',
    ]);
  const { admitted, deferred, duplicate, rejected, skipped } = report.counts;
  const summary = dryRun
    ? `dry run: ${admitted} would be admitted, ${duplicate} already stored, ${rejected} still rejected, ${skipped} skipped; nothing written`
    : `${admitted} admitted and forwarded, ${deferred} stored for the reconciler, ${duplicate} already stored (nothing forwarded), ${rejected} still rejected (kept again), ${skipped} skipped`;
  return `${table(['first arrived', 'type', 'MessageId', 'outcome', 'reason'], rows)}\n${summary}`;
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
