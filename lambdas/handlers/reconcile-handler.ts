import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC } from '../../contract/observability';
import type { IngestPorts } from '../ingest/ports';
import { reconcile, type ReconcileReport, type ReconcileSettings } from '../ingest/reconcile';
import { countKeyUnusable, KEY_UNUSABLE_LOG } from './key-unusable';

export interface ReconcileDeps {
  readonly ports: Pick<IngestPorts, 'store' | 'queue' | 'clock'>;
  readonly settings: ReconcileSettings;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * The scheduled function (and, in local mode, a timer). A store failure throws: the run
 * shows as a function error, which alarms, and the next run starts over; one the site's KMS key caused is
 * counted too (KeyUnusable), so that its alarm says what to fix.
 */
export function createReconcileHandler(deps: ReconcileDeps): () => Promise<ReconcileReport> {
  return async () => {
    let report: ReconcileReport;
    try {
      report = await reconcile(deps.ports, deps.settings);
    } catch (error) {
      // Every minute at every site, callbacks or not: the first to notice a key that cannot be used.
      const kmsError = countKeyUnusable(error, deps.metrics);
      if (kmsError) deps.logger.error(`reconcile failed: ${KEY_UNUSABLE_LOG}`, { kmsError, error: error as Error });
      throw error;
    }
    // Nothing written as a zero: a custom metric is billed for every hour it is sent, and this runs every
    // minute at every site of a fleet. The alarms treat missing data as not breaching, so a quiet site
    // costs nothing and a non-zero value still alarms.
    if (report.pendingAfter > 0) deps.metrics.addMetric(METRIC.pendingCount, MetricUnit.Count, report.pendingAfter);
    if (report.forwarded > 0) deps.metrics.addMetric(METRIC.reconciled, MetricUnit.Count, report.forwarded);
    if (report.undeliverable > 0) deps.metrics.addMetric(METRIC.undeliverable, MetricUnit.Count, report.undeliverable);
    if (report.failed > 0) deps.metrics.addMetric(METRIC.reconcileFailed, MetricUnit.Count, report.failed);
    if (report.undeliverable > 0) deps.logger.error('the queue refused messages for good: kept as UNDELIVERABLE', { ...report });
    else if (report.due > 0 || report.pendingAfter > 0) deps.logger.info('reconciled', { ...report });
    return report;
  };
}
