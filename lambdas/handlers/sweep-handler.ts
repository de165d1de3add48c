import type { ReconcileReport } from '../ingest/reconcile';

export interface SweepJobs {
  readonly reconcile: () => Promise<ReconcileReport>;
  readonly silence: () => Promise<{ silent: number }>;
}

export interface SweepReport {
  readonly reconcile: ReconcileReport;
  readonly silence: { silent: number };
}

/**
 * The site's one scheduled function, fed by the fleet's tick (lib/fleet-stack.ts): forwards what waits
 * in the table, then counts silent documents. One function and one role instead of two: a site's IAM
 * roles are the account quota a fleet meets first (README, Deploying a fleet). Both jobs run whatever
 * the other does — a failing table read must not also stop the silence count — and a failure of
 * either fails the run (the SweepErrors alarm), after both have run.
 */
export function createSweepHandler(jobs: SweepJobs): () => Promise<SweepReport> {
  return async () => {
    const [reconcile, silence] = await Promise.allSettled([jobs.reconcile(), jobs.silence()]);
    if (reconcile.status === 'rejected' && silence.status === 'rejected') {
      throw new AggregateError([reconcile.reason, silence.reason], 'both sweep jobs failed: reconcile and silence');
    }
    if (reconcile.status === 'rejected') throw reconcile.reason;
    if (silence.status === 'rejected') throw silence.reason;
    return { reconcile: reconcile.value, silence: silence.value };
  };
}
