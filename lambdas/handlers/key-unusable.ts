import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { keyStateError } from '../adapters/key-state';
import { METRIC } from '../../contract/observability';

/**
 * Counts a failure the site's own KMS key caused (KeyUnusable, site-wide, written at once: the invocation may be
 * about to fail) and returns the service's error code for the log line; undefined, and nothing written, otherwise.
 */
export function countKeyUnusable(error: unknown, metrics: Metrics): string | undefined {
  const code = keyStateError(error);
  if (code) metrics.singleMetric().addMetric(METRIC.keyUnusable, MetricUnit.Count, 1);
  return code;
}

/** The log line of a failure, naming the key when it was the cause. */
export const KEY_UNUSABLE_LOG = "the site's KMS key cannot be used (disabled, pending deletion, or its grants removed)";
