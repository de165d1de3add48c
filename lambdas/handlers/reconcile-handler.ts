import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { RECONCILE_RESERVE_MS } from '../../contract/deadlines';
import { METRIC } from '../../contract/observability';
import type { IngestPorts } from '../ingest/ports';
import { reconcile, type ReconcileReport, type ReconcileSettings, type RunBudget } from '../ingest/reconcile';
import { countKeyUnusable, KEY_UNUSABLE_LOG } from './key-unusable';

export interface ReconcileDeps {
  readonly ports: Pick<IngestPorts, 'store' | 'queue' | 'clock'>;
  readonly settings: ReconcileSettings;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** What of the Lambda context a run reads: its remaining time, its budget. */
export interface RunContext {
  getRemainingTimeInMillis(): number;
}

/** A run's budget from its function's remaining time; none without a context (a direct call, a test). */
export const budgetOf = (context: RunContext | undefined): RunBudget | undefined =>
  context ? { timeLeftMs: () => context.getRemainingTimeInMillis(), reserveMs: RECONCILE_RESERVE_MS } : undefined;

/**
 * The scheduled function (and, in local mode, a timer). A store failure throws: the run
 * shows as a function error, which alarms, and the next run starts over; one the site's KMS key caused is
 * counted too (KeyUnusable), so that its alarm says what to fix.
 */
export function createReconcileHandler(deps: ReconcileDeps): (event?: unknown, context?: RunContext) => Promise<ReconcileReport> {
  return async (_event, context) => {
    let report: ReconcileReport;
    try {
      report = await reconcile(deps.ports, deps.settings, budgetOf(context));
    } catch (error) {
      // Every minute at every site, callbacks or not: the first to notice a key that cannot be used.
      const kmsError = countKeyUnusable(error, deps.metrics);
      if (kmsError) deps.logger.error(`reconcile failed: ${KEY_UNUSABLE_LOG}`, { kmsError, error: error as Error });
      throw error;
    }
    // Nothing written as a zero: a custom metric is billed for every hour it is sent, and this runs every
    // minute at every site of a fleet. The alarms treat missing data as not breaching, so a quiet site
    // costs nothing and a non-zero value still alarms. What it forwarded and failed to is its log line's (below),
    // not a metric: no alarm reads them.
    if (report.pendingAfter > 0) deps.metrics.addMetric(METRIC.pendingCount, MetricUnit.Count, report.pendingAfter);
    // A record set aside as unreadable is, like a refused one, stored and not forwarded until someone acts: the
    // same count, the same alarm (Undeliverable); the log tells them apart.
    const setAside = report.undeliverable + report.unreadable;
    if (setAside > 0) deps.metrics.addMetric(METRIC.undeliverable, MetricUnit.Count, setAside);
    if (report.unreadable > 0)
      deps.logger.error('pending records that cannot be forwarded as stored: set aside as UNDELIVERABLE (refusal UnreadableRecord)', {
        ...report,
      });
    else if (report.undeliverable > 0) deps.logger.error('the queue refused messages for good: kept as UNDELIVERABLE', { ...report });
    else if (report.stopped === 'out-of-time') deps.logger.warn('reconciled until the run budget ran out', { ...report });
    else if (report.due > 0 || report.pendingAfter > 0) deps.logger.info('reconciled', { ...report });
    return report;
  };
}
