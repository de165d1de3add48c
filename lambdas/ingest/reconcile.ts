import { MESSAGE_TYPES } from '../../contract/catalog';
import { STATUSES, UUID } from '../../contract/fields';
import { groupIdFor, toQueueMessage } from './envelope';
import { forward } from './ingest';
import type { IngestPorts, MessageRecord, QueueMessage } from './ports';

/*
 * The outbox sweep. A message is pending when it is stored but not yet marked FORWARDED:
 * its send failed (the sender still got Success), or its function died in between. After a
 * grace period — its own delivery may still be running — the reconciler sends it, oldest
 * first so one document's news keeps its order. FIFO deduplication by MessageId makes a send
 * that races a late delivery harmless.
 * One record never stops the run: one the queue refuses for good is marked UNDELIVERABLE (out of the
 * pending set) and counted; one whose send fails otherwise stays pending, and the later records of its
 * document wait with it (sending them would reorder the document's news); one that cannot be forwarded as
 * stored (an attribute missing or of the wrong type, a payload that is not JSON, a type or status we do not
 * know: written by hand, or damaged) is set aside as UNDELIVERABLE (refusal UnreadableRecord) and counted,
 * and holds nobody up; the run moves on to the rest.
 * A run has a budget (the function's remaining time): it starts no message it could not finish, so it
 * returns, report and metrics included, even when every call hangs until its deadline.
 */

export interface ReconcileSettings {
  readonly graceSeconds: number;
  readonly batch: number;
}

/** The run's time, from the function's context: no message is started with less than `reserveMs` left. */
export interface RunBudget {
  readonly timeLeftMs: () => number;
  /** The worst one more message (send and mark) and the end of the run can take (contract/deadlines.ts). */
  readonly reserveMs: number;
}

export interface ReconcileReport {
  /** Pending before this run, whatever their age. */
  readonly pendingBefore: number;
  /** Pending older than the grace period, taken in this run (unreadable ones included). */
  readonly due: number;
  readonly forwarded: number;
  /** Sent but not marked: they stay pending and are sent again (deduplicated) next run. */
  readonly unmarked: number;
  /** Refused by the queue for good: marked UNDELIVERABLE (or, if that mark failed, refused again next run). */
  readonly undeliverable: number;
  /** Their MessageIds (validated UUIDs), for the operator who answers the alarm. */
  readonly undeliverableIds: readonly string[];
  /** Pending items that cannot be forwarded as stored: set aside as UNDELIVERABLE (refusal UnreadableRecord). */
  readonly unreadable: number;
  /** Their keys where they are UUIDs; any other key as `(not a UUID)`: a key we did not write is no log's business. */
  readonly unreadableIds: readonly string[];
  /** Left pending: the queue was unavailable for them, or for an earlier message of their document, or the run stopped. */
  readonly failed: number;
  /** Why the run stopped before the end of its batch, if it did. */
  readonly stopped?: 'queue-down' | 'out-of-time';
  /** Pending after this run. */
  readonly pendingAfter: number;
}

/**
 * Consecutive sends that failed for unavailability, with no success between, after which the run stops:
 * the queue (or the way to it) is down for every message, not one. Each such send costs the SDK's
 * retries and timeouts (seconds), so trying all of a batch of 100 would outlast the function's minute
 * and press on a struggling service; the next run, a minute later, starts over. A refusal is no outage
 * and a success resets the count, so one message, or one document's, cannot hold the others up: only
 * three different documents failing in a row for unavailability end the run, which is what an outage is.
 */
export const QUEUE_DOWN_AFTER = 3;

const NO_BUDGET: RunBudget = { timeLeftMs: () => Number.POSITIVE_INFINITY, reserveMs: 0 };

export async function reconcile(
  ports: Pick<IngestPorts, 'store' | 'queue' | 'clock'>,
  settings: ReconcileSettings,
  budget: RunBudget = NO_BUDGET,
): Promise<ReconcileReport> {
  const pendingBefore = await ports.store.countPending();
  const before = new Date(ports.clock.now().getTime() - settings.graceSeconds * 1000).toISOString();
  const { records, unreadable: unreadableKeys } =
    pendingBefore === 0 ? { records: [], unreadable: [] } : await ports.store.listPending(before, settings.batch);
  const due: Array<{ record: MessageRecord; message: QueueMessage } | { key: string }> = [
    ...unreadableKeys.map((key) => ({ key })),
    ...records.map((record) => {
      const message = queueMessageOf(record);
      return message ? { record, message } : { key: record.messageId };
    }),
  ];

  let forwarded = 0;
  let unmarked = 0;
  const undeliverableIds: string[] = [];
  const unreadableIds: string[] = [];
  let unavailableInARow = 0;
  let stopped: ReconcileReport['stopped'];
  // Documents (FIFO groups) with a message left pending in this run: their later messages wait too.
  const held = new Set<string>();
  for (const entry of due) {
    if (unavailableInARow >= QUEUE_DOWN_AFTER) {
      stopped = 'queue-down';
      break;
    }
    if (budget.timeLeftMs() < budget.reserveMs) {
      stopped = 'out-of-time';
      break;
    }
    if ('key' in entry) {
      unreadableIds.push(UUID.test(entry.key) ? entry.key : '(not a UUID)');
      // A failed set-aside leaves it pending: the next run finds it again.
      await ports.store.setAsideUnreadable(entry.key, ports.clock.now().toISOString()).catch(() => undefined);
      continue;
    }
    const { record, message } = entry;
    const group = groupIdFor(record.documentKey);
    if (held.has(group)) continue;
    const result = await forward(record, ports, message);
    if (result.refusal !== undefined) {
      undeliverableIds.push(record.messageId);
      continue;
    }
    if (!result.forwarded) {
      unavailableInARow++;
      held.add(group);
      continue;
    }
    unavailableInARow = 0;
    forwarded++;
    if (!result.marked) unmarked++;
  }
  const undeliverable = undeliverableIds.length;
  const unreadable = unreadableIds.length;
  const failed = due.length - forwarded - undeliverable - unreadable;
  const unchanged = forwarded === unmarked && undeliverable === 0 && unreadable === 0;
  const pendingAfter = unchanged ? pendingBefore : await ports.store.countPending();
  return {
    pendingBefore,
    due: due.length,
    forwarded,
    unmarked,
    undeliverable,
    undeliverableIds,
    unreadable,
    unreadableIds,
    failed,
    ...(stopped ? { stopped } : {}),
    pendingAfter,
  };
}

/**
 * The record's queue message, or undefined when the record cannot be forwarded as it is stored: a type or
 * status the MIS does not know, no payload, a payload that is not a JSON object, a claim check without its key.
 */
function queueMessageOf(record: MessageRecord): QueueMessage | undefined {
  if (!(MESSAGE_TYPES as readonly string[]).includes(record.messageType)) return undefined;
  if (!(STATUSES as readonly string[]).includes(record.status)) return undefined;
  if (record.payloadRef) {
    const { bucket, key, sha256, size } = record.payloadRef;
    if (![bucket, key, sha256].every((value) => typeof value === 'string' && value !== '' && value !== 'undefined')) return undefined;
    if (!Number.isSafeInteger(size)) return undefined;
  } else {
    try {
      const payload: unknown = JSON.parse(record.payload ?? '');
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    } catch {
      return undefined;
    }
  }
  try {
    return toQueueMessage(record);
  } catch {
    return undefined;
  }
}
