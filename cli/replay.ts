import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findMessageType, MESSAGE_TYPES } from '../contract/catalog';
import { REPLAY_ID } from '../contract/envelope';
import { UUID } from '../contract/fields';
import { MAX_RETENTION_DAYS } from '../contract/names';
import {
  DynamoDbReplaySource,
  planReplay,
  type ReplayPlan,
  type ReplayProgress,
  type ReplayResult,
  type ReplaySelection,
  S3PayloadObjects,
  SqsMessageQueue,
  sendReplay,
  summarize,
} from '../lambdas/adapters';
import { audited } from './audit';
import { requireValue, type Target, UsageError } from './target';
import { Progress, printable, printableJson } from './ui';

/*
 * `n3-callback replay`: stored messages back onto the site's MIS queue, each the original envelope plus
 * `redelivery` (the replay's id), in the original's document group and in arrival order (lambdas/ingest/replay.ts).
 * A checkpoint file, saved after every message, lets an interrupted replay resume without sending anything twice:
 * ~/.local/state/n3-callback/replays/<replayId>.json ($XDG_STATE_HOME if set), or --checkpoint PATH.
 */

/** The flags of `replay`, beside the shared ones (cli/main.ts spreads them into its own). */
export const REPLAY_OPTIONS = {
  until: { type: 'string' },
  type: { type: 'string', multiple: true },
  document: { type: 'string', multiple: true },
  lpu: { type: 'string', multiple: true },
  'message-id': { type: 'string', multiple: true },
  'message-ids-from': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  rate: { type: 'string' },
  checkpoint: { type: 'string' },
  resume: { type: 'string' },
} as const;

export interface ReplayFlags {
  readonly since?: string;
  readonly until?: string;
  readonly type?: string[];
  readonly state?: string;
  readonly document?: string[];
  readonly lpu?: string[];
  readonly 'message-id'?: string[];
  readonly 'message-ids-from'?: string;
  readonly 'dry-run'?: boolean;
  readonly rate?: string;
  readonly checkpoint?: string;
  readonly resume?: string;
  readonly json?: boolean;
}

/** What a checkpoint file holds: enough to resume the same replay against the same queue. */
export interface ReplayCheckpoint extends ReplayProgress {
  readonly replayId: string;
  readonly startedAt: string;
  readonly queueUrl: string;
  readonly tableName: string;
  readonly selection: ReplaySelection;
  readonly finished: boolean;
}

const RECORD_STATES = ['FORWARDED', 'RECEIVED', 'UNDELIVERABLE'] as const;

/** A new replay's id: when it started (UTC, to the second) and six random hex digits; fits REPLAY_ID. */
export const newReplayId = (now = new Date()): string =>
  `r-${now.toISOString().slice(0, 19).replaceAll('-', '').replaceAll(':', '')}Z-${randomBytes(3).toString('hex')}`;

export const defaultCheckpointDir = (env = process.env): string =>
  join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'n3-callback', 'replays');

/** An ISO time, a date, or a duration back from `now` (30m, 72h, 3d). */
export function timeArgument(text: string, flag: string, now = new Date()): string {
  const duration = /^(\d+)(s|m|h|d)$/.exec(text);
  if (duration) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(duration[1]) * unit).toISOString();
  }
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? new Date(text) : undefined;
  if (!time || Number.isNaN(time.getTime()))
    throw new UsageError(
      `${flag} takes an ISO time (2026-11-25T10:00Z), a date (2026-11-25, UTC) or a duration back (3d, 72h), got "${text}"`,
    );
  return time.toISOString();
}

/** `--rate 20/s` (or `20`): messages a second. */
export function rateArgument(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text);
  const rate = match ? Number(match[1]) : Number.NaN;
  if (!(rate > 0)) throw new UsageError(`--rate takes messages a second, such as 20/s or 0.5/s, got "${text}"`);
  return rate;
}

/** The selection the flags describe (now fixes an open `--until`, so a resumed replay selects the same window). */
export function selectionFrom(
  flags: ReplayFlags,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  now = new Date(),
): ReplaySelection {
  const ids = [...(flags['message-id'] ?? []), ...(flags['message-ids-from'] ? idsFromFile(flags['message-ids-from'], readFile) : [])];
  for (const id of ids)
    if (!UUID.test(id)) throw new UsageError(`--message-id takes a MessageId (a UUID), got ${printableJson(id.slice(0, 60))}`);
  if (flags.since === undefined && ids.length === 0)
    throw new UsageError(
      'replay needs --since (arrival time) or --message-id / --message-ids-from: n3-callback replay --since 3d --dry-run',
    );
  const since = flags.since === undefined ? undefined : timeArgument(flags.since, '--since', now);
  const until = flags.until === undefined ? now.toISOString() : timeArgument(flags.until, '--until', now);
  if (since !== undefined && since >= until) throw new UsageError(`--since (${since}) must come before --until (${until})`);
  // Bounded: every day of the window is a query of each arrivals-index shard, and nothing is kept longer.
  if (since !== undefined && Date.parse(until) - Date.parse(since) > MAX_RETENTION_DAYS * 86_400_000)
    throw new UsageError(`--since ${flags.since} is more than ${MAX_RETENTION_DAYS} days before --until: no site keeps records longer`);
  const types = flags.type
    ?.flatMap((t) => t.split(','))
    .map((name) => {
      const type = findMessageType(name.trim());
      if (!type) throw new UsageError(`unknown MessageType "${name}": one of ${MESSAGE_TYPES.join(', ')}`);
      return type;
    });
  // Re-forwarding is for what was forwarded once: pending ones the reconciler sends, refused ones the queue refuses again.
  const states =
    flags.state === undefined
      ? ['FORWARDED']
      : flags.state.toLowerCase() === 'any'
        ? undefined
        : flags.state.split(',').map((s) => {
            const state = s.trim().toUpperCase();
            if (!(RECORD_STATES as readonly string[]).includes(state))
              throw new UsageError(`--state takes ${RECORD_STATES.join(', ')} (comma-separated) or any, got "${s}"`);
            return state;
          });
  const lpus = flags.lpu?.flatMap((l) => l.split(',')).map((l) => l.trim());
  return {
    ...(since !== undefined ? { since } : {}),
    until,
    ...(types ? { types } : {}),
    ...(states ? { states } : {}),
    ...(flags.document ? { documents: flags.document } : {}),
    ...(lpus ? { lpus } : {}),
    ...(ids.length ? { messageIds: ids.map((id) => id.toLowerCase()) } : {}),
  };
}

function idsFromFile(path: string, readFile: (path: string) => string): string[] {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${code ?? (error as Error).message}`);
  }
  // One MessageId a line (or separated by commas or spaces); # starts a comment.
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter(Boolean);
}

export function readCheckpoint(path: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): ReplayCheckpoint {
  let text: string;
  try {
    text = readFile(path);
  } catch {
    throw new UsageError(`no checkpoint at ${path}: --resume takes the id a replay printed (with --checkpoint PATH if it was given one)`);
  }
  let checkpoint: ReplayCheckpoint;
  try {
    checkpoint = JSON.parse(text) as ReplayCheckpoint;
  } catch {
    throw new UsageError(`${path} is not a replay checkpoint (not JSON): start the replay again without --resume`);
  }
  if (typeof checkpoint?.replayId !== 'string' || !REPLAY_ID.test(checkpoint.replayId) || !checkpoint.selection || !checkpoint.counts)
    throw new UsageError(`${path} is not a replay checkpoint`);
  return checkpoint;
}

/** Written whole and renamed into place: a kill mid-write leaves the previous checkpoint, never half of one. */
export function writeCheckpoint(path: string, checkpoint: ReplayCheckpoint): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** The selection flags a resumed replay must not be given (its selection is in its checkpoint). */
const SELECTING = ['since', 'until', 'type', 'state', 'document', 'lpu', 'message-id', 'message-ids-from'] as const;

export async function replayCommand(target: Target, flags: ReplayFlags, signal?: AbortSignal): Promise<number> {
  const queueUrl = requireValue(target.queueUrl, 'the MIS queue (--queue-url)');
  const tableName = requireValue(target.tableName, 'the message table (--table)');
  const rate = flags.rate === undefined ? undefined : rateArgument(flags.rate);
  const dryRun = flags['dry-run'] ?? false;

  let checkpoint: ReplayCheckpoint;
  let path: string;
  if (flags.resume !== undefined) {
    const given = SELECTING.filter((flag) => flags[flag] !== undefined);
    if (given.length) throw new UsageError(`--resume takes the selection from its checkpoint: drop --${given.join(', --')}`);
    if (dryRun) throw new UsageError('--resume sends the rest of a replay: to see a selection, run replay --dry-run with its flags');
    if (!REPLAY_ID.test(flags.resume)) throw new UsageError(`--resume takes a replay id such as r-20261125T100000Z-3fa9c1`);
    path = flags.checkpoint ?? join(defaultCheckpointDir(), `${flags.resume}.json`);
    checkpoint = readCheckpoint(path);
    if (checkpoint.replayId !== flags.resume) throw new UsageError(`${path} is replay ${checkpoint.replayId}, not ${flags.resume}`);
    if (checkpoint.queueUrl !== queueUrl)
      throw new UsageError(`replay ${checkpoint.replayId} went to ${checkpoint.queueUrl}: resume it against that site's queue`);
  } else {
    const replayId = newReplayId();
    path = flags.checkpoint ?? join(defaultCheckpointDir(), `${replayId}.json`);
    checkpoint = {
      replayId,
      startedAt: new Date().toISOString(),
      queueUrl,
      tableName,
      selection: selectionFrom(flags),
      counts: { sent: 0, refused: 0, missing: 0 },
      finished: false,
    };
  }
  const { replayId, selection } = checkpoint;

  type Outcome = { readonly exitCode: number; readonly counts: Record<string, number> };
  return audited(target, { command: 'replay', selection: { replayId, ...selection }, dryRun }, async (): Promise<Outcome> => {
    const plan = await planReplay(selection, {
      source: new DynamoDbReplaySource(target.dynamodb, checkpoint.tableName),
      objects: new S3PayloadObjects(target.s3),
    });
    if (dryRun) {
      console.log(formatDryRun(replayId, plan, flags.json ?? false));
      return {
        exitCode: 0,
        counts: { selected: plan.sendable.length, payloadGone: plan.payloadGone.length, notFound: plan.notFound.length },
      };
    }
    if (checkpoint.finished) {
      console.error(`replay ${replayId} already finished (${checkpoint.counts.sent} sent): nothing to resume`);
      return { exitCode: 0, counts: { ...checkpoint.counts } };
    }
    writeCheckpoint(path, checkpoint);
    if (!flags.json) console.error(`Replay ${replayId}: checkpoint ${path} (resume: n3-callback replay --resume ${replayId})`);
    const progress = process.stderr.isTTY && !flags.json ? new Progress(plan.sendable.length) : undefined;
    const result = await sendReplay(
      plan.sendable,
      {
        source: new DynamoDbReplaySource(target.dynamodb, checkpoint.tableName),
        queue: new SqsMessageQueue(target.sqs, queueUrl),
        timer: { now: () => Date.now(), sleep: (ms, abort) => sleep(ms, undefined, { signal: abort }).catch(() => undefined) },
        save: (now) => {
          checkpoint = { ...checkpoint, ...now };
          writeCheckpoint(path, checkpoint);
        },
        onProgress: (now) => progress?.update(now.counts.sent + now.counts.refused + now.counts.missing, `replay ${replayId}`),
      },
      { replayId, ...(rate ? { ratePerSecond: rate } : {}), ...(signal ? { signal } : {}), resumeFrom: checkpoint },
    );
    progress?.done();
    checkpoint = { ...checkpoint, after: result.after, counts: result.counts, finished: result.stopped === undefined };
    writeCheckpoint(path, checkpoint);
    console.log(formatResult(replayId, path, plan, result, flags.json ?? false));
    const complete = result.stopped === undefined && result.counts.refused === 0 && result.counts.missing === 0;
    return {
      exitCode: complete && plan.payloadGone.length === 0 && plan.notFound.length === 0 ? 0 : 1,
      counts: { ...result.counts, payloadGone: plan.payloadGone.length, notFound: plan.notFound.length },
    };
  }).then((outcome) => outcome.exitCode);
}

function formatDryRun(replayId: string, plan: ReplayPlan, json: boolean): string {
  const summary = summarize(plan.sendable);
  if (json)
    return printableJson({
      replayId,
      dryRun: true,
      ...summary,
      payloadGone: plan.payloadGone.map((c) => c.messageId),
      notFound: plan.notFound,
    });
  const lines = [`Replay (dry run): ${summary.count} message(s) would be sent; nothing was sent.`];
  if (summary.count) {
    lines.push(
      `  by type: ${Object.entries(summary.byType)
        .map(([type, n]) => `${type} ${n}`)
        .join(', ')}`,
    );
    lines.push(`  first:   ${summary.first!.receivedAt}  ${summary.first!.messageType}  ${summary.first!.messageId}`);
    lines.push(`  last:    ${summary.last!.receivedAt}  ${summary.last!.messageType}  ${summary.last!.messageId}`);
  }
  lines.push(...refusals(plan));
  return printable(lines.join('\n'), { multiline: true });
}

function formatResult(replayId: string, path: string, plan: ReplayPlan, result: ReplayResult, json: boolean): string {
  const { sent, refused, missing } = result.counts;
  if (json)
    return printableJson({
      replayId,
      dryRun: false,
      selected: plan.sendable.length,
      ...result.counts,
      refusedIds: result.refusedIds,
      payloadGone: plan.payloadGone.map((c) => c.messageId),
      notFound: plan.notFound,
      ...(result.stopped ? { stopped: result.stopped } : {}),
      checkpoint: path,
    });
  const lines = [`Replay ${replayId}: ${sent} of ${plan.sendable.length} sent.`];
  if (refused) lines.push(`  ${refused} refused by the queue (${result.refusedIds.slice(0, 5).join(', ')}${refused > 5 ? ', …' : ''})`);
  if (missing) lines.push(`  ${missing} no longer stored (expired since the selection)`);
  lines.push(...refusals(plan));
  if (result.stopped)
    lines.push(
      `  ${result.stopped === 'interrupted' ? 'interrupted' : 'stopped: the queue did not answer'}; resume: n3-callback replay --resume ${replayId}`,
    );
  return printable(lines.join('\n'), { multiline: true });
}

function refusals(plan: ReplayPlan): string[] {
  const lines: string[] = [];
  if (plan.payloadGone.length)
    lines.push(`  ${plan.payloadGone.length} refused: the payload object is gone (past the bucket's retention), not sent`);
  if (plan.notFound.length) lines.push(`  ${plan.notFound.length} --message-id not stored (expired, or never received)`);
  return lines;
}

export const REPLAY_USAGE = `  n3-callback replay (--since T [--until T] | --message-id ID… | --message-ids-from FILE) [--type T] [--state S]
                     [--document ID] [--lpu LPU] [--dry-run] [--rate N/s] [--checkpoint PATH] [--json]
  n3-callback replay --resume <replayId> [--rate N/s] [--checkpoint PATH]
                                                      put stored messages back on the MIS queue, marked as a
                                                      re-delivery (default --state FORWARDED); resumable`;
