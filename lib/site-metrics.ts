import { Duration } from 'aws-cdk-lib';
import { type IMetric, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { DIMENSIONS_OF, METRIC, METRICS_NAMESPACE, SERVICE, type MetricName } from '../contract/observability';
import type { Storage } from './storage';

export const FIVE_MINUTES = Duration.minutes(5);

export interface SiteMetricOptions {
  /** @default 'Sum' */
  readonly statistic?: 'Sum' | 'Maximum';
  /** @default five minutes */
  readonly period?: Duration;
  /** The legend's text. @default none (CloudWatch shows the metric's name) */
  readonly label?: string;
}

/**
 * The site's metrics as alarms and widgets read them: one builder that the alarms (lib/site-alarms.ts) and the
 * dashboard (lib/site-dashboard.ts) share, so a series both show is defined once, and the functions' own metrics
 * are read with the dimensions the functions emit them with (contract/observability.ts; test/deployed/bundle.test.ts
 * checks it).
 */
export class SiteMetrics {
  /** Every metric of the functions' own namespace built here (checked against what they emit). */
  readonly watched: Metric[] = [];

  constructor(
    private readonly siteId: string,
    private readonly storage: Storage,
  ) {}

  /** One of the functions' metrics, its dimension map taken from the contract (site-wide: `service` and `site`). */
  own(metricName: MetricName, options: SiteMetricOptions = {}): Metric {
    const values: Record<string, string> = { service: SERVICE, site: this.siteId };
    const dimensionsMap = Object.fromEntries(DIMENSIONS_OF[metricName].map((name) => [name, values[name]!]));
    const metric = new Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap,
      statistic: options.statistic ?? 'Sum',
      period: options.period ?? FIVE_MINUTES,
      ...(options.label === undefined ? {} : { label: options.label }),
    });
    this.watched.push(metric);
    return metric;
  }

  /** Stored but not forwarded: the sweep's count, its maximum each minute. */
  pendingCount(): Metric {
    return this.own(METRIC.pendingCount, { statistic: 'Maximum', period: Duration.minutes(1) });
  }

  /** Stored messages the MIS queue refused for good. */
  undeliverable(): Metric {
    return this.own(METRIC.undeliverable, { label: 'undeliverable' });
  }

  silentDocuments(): Metric {
    return this.own(METRIC.silentDocuments, { statistic: 'Maximum', label: 'silent documents' });
  }

  /** Age of the oldest message in the MIS queue (seconds). */
  consumerLag(): IMetric {
    return this.storage.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' });
  }

  deadLetters(): IMetric {
    return this.storage.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' });
  }
}
