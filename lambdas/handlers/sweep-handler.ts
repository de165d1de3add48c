import type { ReconcileReport } from '../ingest/reconcile';
import type { RunContext } from './reconcile-handler';

export interface SweepJobs {
  /** Given the invocation's context: its remaining time is the run's budget. */
  readonly reconcile: (event: unknown, context?: RunContext) => Promise<ReconcileReport>;
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
 * either fails the run (the SweepErrors alarm), after both have run. The reconciler stops starting work
 * when the invocation's time runs short (contract/deadlines.ts), so a run whose calls all hang still ends,
 * before its timeout and well before the next tick.
 */
export function createSweepHandler(jobs: SweepJobs): (event?: unknown, context?: RunContext) => Promise<SweepReport> {
  return async (event, context) => {
    const [reconcile, silence] = await Promise.allSettled([jobs.reconcile(event, context), jobs.silence()]);
    if (reconcile.status === 'rejected' && silence.status === 'rejected') {
      throw new AggregateError([reconcile.reason, silence.reason], 'both sweep jobs failed: reconcile and silence');
    }
    if (reconcile.status === 'rejected') throw reconcile.reason;
    if (silence.status === 'rejected') throw silence.reason;
    return { reconcile: reconcile.value, silence: silence.value };
  };
}
