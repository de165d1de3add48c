import { QueueRefusedError, QueueUnavailableError } from '../../contract/errors';
import type { PayloadRef } from '../../contract/envelope';
import { toQueueMessage } from './envelope';
import type { MessageQueue, MessageRecord } from './ports';

/*
 * `n3-callback replay`: stored messages put on the MIS queue again, after a consumer took them and lost them.
 * Pure, over ports (the adapters read the table and the bucket; tests use memory):
 *   select  — by arrival window (the arrivals index) or by MessageId, then by type, state, document, Lpu;
 *             in arrival order (receivedAt, then MessageId), which keeps every document's news in order;
 *   check   — a claim-checked payload whose object is gone (past the bucket's retention) is refused, counted;
 *   send    — each the original envelope plus `redelivery` (contract/envelope.ts), paced, with a checkpoint
 *             saved after every message: a replay stopped anywhere resumes after the last one it sent.
 * A replay never sends a message twice: the checkpoint's cursor moves past a message as soon as the queue took
 * it, and the one send a kill can fall between (sent, not yet saved) carries the same deduplication id when the
 * resumed replay sends it again, which SQS FIFO drops within its five minutes.
 */

/** A stored message as the selection sees it: its facts and current state, never its payload. */
export interface ReplayCandidate {
  readonly messageId: string;
  readonly receivedAt: string;
  readonly messageType: string;
  readonly status: string;
  readonly state: string;
  readonly lpu: string;
  readonly documentKey: string;
  /** Where the payload is kept, when it is claim-checked. */
  readonly payloadRef?: PayloadRef;
}

/** What to replay. Every list given narrows the selection (any of its values matches); absent: no condition. */
export interface ReplaySelection {
  /** Arrival window: at or after `since`, before `until` (ISO times). `since` or `messageIds` is required. */
  readonly since?: string;
  readonly until: string;
  readonly types?: readonly string[];
  /** Record states (FORWARDED, RECEIVED, UNDELIVERABLE). */
  readonly states?: readonly string[];
  readonly documents?: readonly string[];
  /** Compared without regard to case, as the site's allowlist is. */
  readonly lpus?: readonly string[];
  readonly messageIds?: readonly string[];
}

export interface ReplaySource {
  /** Stored messages that arrived between `since` and `until` (both included), any order. */
  arrivalsBetween(since: string, until: string): Promise<ReplayCandidate[]>;
  /** Those of `ids` still stored; the others are left out. */
  candidatesByIds(ids: readonly string[]): Promise<ReplayCandidate[]>;
  /** The records themselves, for sending; one no longer stored (or unreadable) is left out. */
  records(ids: readonly string[]): Promise<MessageRecord[]>;
}

/** The bucket, as far as a claim check goes. */
export interface PayloadObjects {
  /** True while the object the reference names is there, at its size. */
  exists(ref: PayloadRef): Promise<boolean>;
}

export interface ReplayPlan {
  /** What goes, in order. */
  readonly sendable: readonly ReplayCandidate[];
  /** Selected, but their payload object is gone (past the bucket's retention): refused. */
  readonly payloadGone: readonly ReplayCandidate[];
  /** Asked for by MessageId, but not stored (expired, or never received). */
  readonly notFound: readonly string[];
}

/** In a replay's order: arrival time, then MessageId (two arrivals in one millisecond still have one order). */
export const replayOrder = (a: Pick<ReplayCandidate, 'receivedAt' | 'messageId'>, b: Pick<ReplayCandidate, 'receivedAt' | 'messageId'>) =>
  a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0;

/** Claim checks looked at a few at a time: one HeadObject each. */
const PAYLOAD_CHECKS_IN_FLIGHT = 8;

export async function planReplay(
  selection: ReplaySelection,
  ports: { source: ReplaySource; objects: PayloadObjects },
): Promise<ReplayPlan> {
  const { since, until } = selection;
  const ids = selection.messageIds?.map((id) => id.toLowerCase());
  let candidates: ReplayCandidate[];
  let notFound: string[] = [];
  if (ids) {
    candidates = await ports.source.candidatesByIds([...new Set(ids)]);
    const found = new Set(candidates.map((c) => c.messageId));
    notFound = [...new Set(ids)].filter((id) => !found.has(id));
  } else if (since !== undefined) {
    candidates = await ports.source.arrivalsBetween(since, until);
  } else {
    throw new Error('a replay selects by arrival time (since) or by MessageId');
  }
  const inList = (list: readonly string[] | undefined, value: string, fold = false) =>
    !list || list.some((item) => (fold ? item.toLowerCase() === value.toLowerCase() : item === value));
  const selected = candidates
    .filter((c) => (since === undefined || c.receivedAt >= since) && c.receivedAt < until)
    .filter(
      (c) => inList(selection.types, c.messageType) && inList(selection.states, c.state) && inList(selection.documents, c.documentKey),
    )
    .filter((c) => inList(selection.lpus, c.lpu, true))
    .sort(replayOrder);

  const gone = new Set<string>();
  const claimChecked = selected.filter((c) => c.payloadRef);
  for (let i = 0; i < claimChecked.length; i += PAYLOAD_CHECKS_IN_FLIGHT) {
    const slice = claimChecked.slice(i, i + PAYLOAD_CHECKS_IN_FLIGHT);
    const present = await Promise.all(slice.map((c) => ports.objects.exists(c.payloadRef!)));
    slice.forEach((c, n) => {
      if (!present[n]) gone.add(c.messageId);
    });
  }
  return {
    sendable: selected.filter((c) => !gone.has(c.messageId)),
    payloadGone: selected.filter((c) => gone.has(c.messageId)),
    notFound,
  };
}

export interface ReplaySummary {
  readonly count: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly first?: Pick<ReplayCandidate, 'receivedAt' | 'messageId' | 'messageType'>;
  readonly last?: Pick<ReplayCandidate, 'receivedAt' | 'messageId' | 'messageType'>;
}

/** What a dry run prints: how many, by type, the first and the last. */
export function summarize(candidates: readonly ReplayCandidate[]): ReplaySummary {
  const byType: Record<string, number> = {};
  for (const c of candidates) byType[c.messageType] = (byType[c.messageType] ?? 0) + 1;
  const brief = ({ receivedAt, messageId, messageType }: ReplayCandidate) => ({ receivedAt, messageId, messageType });
  const [first, last] = [candidates[0], candidates.at(-1)];
  return { count: candidates.length, byType, ...(first ? { first: brief(first) } : {}), ...(last ? { last: brief(last) } : {}) };
}

export interface ReplayCounts {
  /** Taken by the queue. */
  readonly sent: number;
  /** Refused by the queue for what they are (e.g. InvalidMessageContents): never going to be taken. */
  readonly refused: number;
  /** No longer stored (expired) or not readable as a record, between the selection and their turn. */
  readonly missing: number;
}

/** Where a replay stands: saved after every message, read back to resume. */
export interface ReplayProgress {
  /** The last message done (sent, refused or missing), in replay order: everything up to it is done. */
  readonly after?: { readonly receivedAt: string; readonly messageId: string };
  readonly counts: ReplayCounts;
}

export interface ReplayPorts {
  readonly source: Pick<ReplaySource, 'records'>;
  readonly queue: MessageQueue;
  /** Milliseconds now, and a wait (ended early by the signal): the pace of `ratePerSecond`. */
  readonly timer: { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void> };
  /** Keeps the progress (a file, for the CLI) before the next message is sent. */
  readonly save: (progress: ReplayProgress) => Promise<void> | void;
  /** Told after each message, for a progress line. */
  readonly onProgress?: (progress: ReplayProgress) => void;
}

export interface ReplayOptions {
  readonly replayId: string;
  /** At most this many messages a second (none: as fast as the queue takes them). */
  readonly ratePerSecond?: number;
  /** Stops the replay before its next message (Ctrl-C); what was sent stays sent, and saved. */
  readonly signal?: AbortSignal;
  /** Where an earlier run of this replay stopped. */
  readonly resumeFrom?: ReplayProgress;
}

export interface ReplayResult extends ReplayProgress {
  /** Why it ended before the last message: stopped by its signal, or the queue (or the way to it) down. */
  readonly stopped?: 'interrupted' | 'queue-down';
  /** MessageIds the queue refused. */
  readonly refusedIds: readonly string[];
}

/** Records read ahead of their turn, one BatchGetItem at most. */
const READ_AHEAD = 25;

/** Sends `sendable` (a plan's, in order) after `resumeFrom`, each as a re-delivery of this replay. */
export async function sendReplay(sendable: readonly ReplayCandidate[], ports: ReplayPorts, options: ReplayOptions): Promise<ReplayResult> {
  let progress: ReplayProgress = options.resumeFrom ?? { counts: { sent: 0, refused: 0, missing: 0 } };
  const after = progress.after;
  const todo = after ? sendable.filter((c) => replayOrder(c, after) > 0) : [...sendable];
  const interval = options.ratePerSecond ? 1000 / options.ratePerSecond : 0;
  let nextAt = ports.timer.now();
  const refusedIds: string[] = [];

  const done = async (candidate: ReplayCandidate, count: keyof ReplayCounts) => {
    progress = {
      after: { receivedAt: candidate.receivedAt, messageId: candidate.messageId },
      counts: { ...progress.counts, [count]: progress.counts[count] + 1 },
    };
    await ports.save(progress);
    ports.onProgress?.(progress);
  };

  for (let i = 0; i < todo.length; i += READ_AHEAD) {
    const chunk = todo.slice(i, i + READ_AHEAD);
    if (options.signal?.aborted) return { ...progress, stopped: 'interrupted', refusedIds };
    const records = new Map((await ports.source.records(chunk.map((c) => c.messageId))).map((r) => [r.messageId, r]));
    for (const candidate of chunk) {
      if (interval > 0) {
        const wait = nextAt - ports.timer.now();
        if (wait > 0) await ports.timer.sleep(wait, options.signal);
        nextAt = Math.max(nextAt, ports.timer.now()) + interval;
      }
      if (options.signal?.aborted) return { ...progress, stopped: 'interrupted', refusedIds };
      const record = records.get(candidate.messageId);
      const message = record && queueMessageOf(record, options.replayId);
      if (!message) {
        await done(candidate, 'missing');
        continue;
      }
      try {
        await ports.queue.send(message);
      } catch (error) {
        if (error instanceof QueueRefusedError) {
          refusedIds.push(candidate.messageId);
          await done(candidate, 'refused');
          continue;
        }
        // The rest of its document must not go before it: stop here; a resumed replay starts with this one.
        if (error instanceof QueueUnavailableError) return { ...progress, stopped: 'queue-down', refusedIds };
        throw error;
      }
      await done(candidate, 'sent');
    }
  }
  return { ...progress, refusedIds };
}

/** The re-delivery of a record; undefined for one that cannot be forwarded as stored (its payload not JSON). */
function queueMessageOf(record: MessageRecord, replayId: string) {
  try {
    return toQueueMessage(record, { replayId });
  } catch {
    return undefined;
  }
}
