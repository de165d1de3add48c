import { forward } from './ingest';
import type { IngestPorts } from './ports';

/*
 * The outbox sweep. A message is pending when it is stored but not yet marked FORWARDED:
 * its send failed (the sender still got Success), or its function died in between. After a
 * grace period — its own delivery may still be running — the reconciler sends it, oldest
 * first so one document's news keeps its order. FIFO deduplication by MessageId makes a send
 * that races a late delivery harmless.
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
  /** Left pending because the queue rejected them. */
  readonly failed: number;
  /** Pending after this run. */
  readonly pendingAfter: number;
}

export async function reconcile(
  ports: Pick<IngestPorts, 'store' | 'queue' | 'clock'>,
  settings: ReconcileSettings,
): Promise<ReconcileReport> {
  const pendingBefore = await ports.store.countPending();
  const before = new Date(ports.clock.now().getTime() - settings.graceSeconds * 1000).toISOString();
  const due = pendingBefore === 0 ? [] : await ports.store.listPending(before, settings.batch);

  let forwarded = 0;
  let unmarked = 0;
  let failed = 0;
  for (const [index, record] of due.entries()) {
    const result = await forward(record, ports);
    if (!result.forwarded) {
      // The queue is down: the rest would fail the same way, and the next run tries again.
      failed = due.length - index;
      break;
    }
    forwarded++;
    if (!result.marked) unmarked++;
  }
  const pendingAfter = forwarded === unmarked ? pendingBefore : await ports.store.countPending();
  return { pendingBefore, due: due.length, forwarded, unmarked, failed, pendingAfter };
}
