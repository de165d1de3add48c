import { groupIdFor } from './envelope';
import { forward } from './ingest';
import type { IngestPorts } from './ports';

/*
 * The outbox sweep. A message is pending when it is stored but not yet marked FORWARDED:
 * its send failed (the sender still got Success), or its function died in between. After a
 * grace period — its own delivery may still be running — the reconciler sends it, oldest
 * first so one document's news keeps its order. FIFO deduplication by MessageId makes a send
 * that races a late delivery harmless.
 * One record never stops the run: one the queue refuses for good is marked UNDELIVERABLE (out of the
 * pending set) and counted; one whose send fails otherwise stays pending, and the later records of its
 * document wait with it (sending them would reorder the document's news); the run moves on to the rest.
 */

export interface ReconcileSettings {
  readonly graceSeconds: number;
  readonly batch: number;
}

export interface ReconcileReport {
  /** Pending before this run, whatever their age. */
  readonly pendingBefore: number;
  /** Pending older than the grace period, taken in this run. */
  readonly due: number;
  readonly forwarded: number;
  /** Sent but not marked: they stay pending and are sent again (deduplicated) next run. */
  readonly unmarked: number;
  /** Refused by the queue for good: marked UNDELIVERABLE (or, if that mark failed, refused again next run). */
  readonly undeliverable: number;
  /** Their MessageIds (validated UUIDs), for the operator who answers the alarm. */
  readonly undeliverableIds: readonly string[];
  /** Left pending: the queue was unavailable for them, or for an earlier message of their document, or the run stopped. */
  readonly failed: number;
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

export async function reconcile(
  ports: Pick<IngestPorts, 'store' | 'queue' | 'clock'>,
  settings: ReconcileSettings,
): Promise<ReconcileReport> {
  const pendingBefore = await ports.store.countPending();
  const before = new Date(ports.clock.now().getTime() - settings.graceSeconds * 1000).toISOString();
  const due = pendingBefore === 0 ? [] : await ports.store.listPending(before, settings.batch);

  let forwarded = 0;
  let unmarked = 0;
  const undeliverableIds: string[] = [];
  let unavailableInARow = 0;
  // Documents (FIFO groups) with a message left pending in this run: their later messages wait too.
  const held = new Set<string>();
  for (const record of due) {
    if (unavailableInARow >= QUEUE_DOWN_AFTER) break;
    const group = groupIdFor(record.documentKey);
    if (held.has(group)) continue;
    const result = await forward(record, ports);
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
  const failed = due.length - forwarded - undeliverable;
  const pendingAfter = forwarded === unmarked && undeliverable === 0 ? pendingBefore : await ports.store.countPending();
  return { pendingBefore, due: due.length, forwarded, unmarked, undeliverable, undeliverableIds, failed, pendingAfter };
}
