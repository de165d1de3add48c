import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC } from '../../contract/observability';
import type { DocumentStore } from '../documents/ports';
import { listSilent } from '../documents/service';
import type { Clock } from '../ingest/ports';

export interface SilenceDeps {
  readonly documents: DocumentStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** The scheduled sweep: counts documents the MIS expected an answer about and got none in time. */
export function createSilenceHandler(deps: SilenceDeps): () => Promise<{ silent: number }> {
  return async () => {
    const silent = await listSilent(deps.documents, deps.clock.now().toISOString());
    // Only when there are some: no zero written every run at every site (see reconcile-handler.ts).
    if (silent.length > 0) {
      deps.metrics.addMetric(METRIC.silentDocuments, MetricUnit.Count, silent.length);
      deps.logger.warn('silent documents', { count: silent.length });
    }
    return { silent: silent.length };
  };
}
