import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Dashboard, GraphWidget, type IMetric, type Metric, SingleValueWidget, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { METRIC, UNKNOWN_TYPE } from '../contract/observability';
import { MESSAGE_TYPES } from '../contract/catalog';
import { siteDashboardName } from '../contract/names';
import type { GatewayRefusals } from './refusals';
import { FIVE_MINUTES, SiteMetrics } from './site-metrics';
import type { Storage } from './storage';

/** Every value the receiving functions give the `MessageType` dimension: the six types and the catch-all's. */
export const MESSAGE_TYPE_DIMENSION_VALUES = [...MESSAGE_TYPES, UNKNOWN_TYPE] as const;

export interface SiteDashboardProps {
  /** The site: the dashboard's name (contract/names.ts) and the dimension of its own metrics. */
  readonly siteId: string;
  /** Titles the dashboard. */
  readonly displayName: string;
  /** The site's API: requests, 4xx, 5xx, latency. */
  readonly api: RestApi;
  /** Every function of the site: the function graphs. */
  readonly functions: readonly LambdaFunction[];
  /** The site's queues: the MIS queue's depth and age, dead letters. */
  readonly storage: Storage;
  /**
   * The gateway's own refusals (lib/refusals.ts): two widgets, by cause and for the sender locked out.
   * @default no refusal widgets
   */
  readonly refusals?: GatewayRefusals;
}

/**
 * A dashboard of the site's own ($3 a month beyond the account's first three): a site asks for one with
 * `"dashboard": true`; the fleet dashboard (lib/fleet-stack.ts) shows every site without one.
 */
export class SiteDashboard extends Construct {
  readonly dashboard: Dashboard;
  /** Every metric of the functions' own namespace that a widget watches (checked against what they emit). */
  readonly watched: Metric[];

  constructor(scope: Construct, id: string, props: SiteDashboardProps) {
    super(scope, id);
    const { api, storage, siteId } = props;
    const metrics = new SiteMetrics(siteId, storage);
    this.watched = metrics.watched;

    // The construct's default child: its logical id is the one the dashboard had before it had a construct of its own.
    this.dashboard = new Dashboard(this, 'Default', {
      dashboardName: siteDashboardName(siteId),
      defaultInterval: Duration.hours(24),
    });
    const fnMetric = (pick: (fn: LambdaFunction) => IMetric) => props.functions.map(pick);
    const remdByState = ['awaiting', 'registered', 'failed'].map((state) =>
      metrics.own(METRIC.remdState, { period: Duration.days(1), label: `REMD ${state}`, dimensionValue: state }),
    );
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# N3 callbacks: ${props.displayName}\nSite \`${siteId}\`. Rejected requests: \`rejected/\` in the bucket.`,
        width: 24,
        height: 2,
      }),
      new GraphWidget({
        title: 'API requests, 4xx, 5xx',
        left: [
          api.metricCount({ period: FIVE_MINUTES }),
          api.metricClientError({ period: FIVE_MINUTES }),
          api.metricServerError({ period: FIVE_MINUTES }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency p50 / p99 (ms)',
        left: [
          api.metricLatency({ period: FIVE_MINUTES, statistic: 'p50' }),
          api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
        ],
        width: 12,
      }),
      new GraphWidget({ title: 'Accepted by type', left: metrics.byType(METRIC.accepted, 'accepted'), stacked: true, width: 8 }),
      new GraphWidget({ title: 'Duplicates by type', left: metrics.byType(METRIC.duplicate, 'duplicate'), stacked: true, width: 8 }),
      new GraphWidget({
        title: 'Deferred by type (queue unavailable)',
        left: metrics.byType(METRIC.deferred, 'deferred'),
        stacked: true,
        width: 8,
      }),
      // Only the catch-all's `Unknown` can be rejected; a series for it under any other outcome would never have data.
      new GraphWidget({
        title: 'Rejected by type',
        left: metrics.byType(METRIC.rejected, 'rejected', MESSAGE_TYPE_DIMENSION_VALUES),
        stacked: true,
        width: 8,
      }),
      new GraphWidget({ title: 'Conflicts by type', left: metrics.byType(METRIC.conflict, 'conflict'), stacked: true, width: 8 }),
      new GraphWidget({
        title: 'Payload Status = Failed by type (REMD/IEMK rejections)',
        left: metrics.byType(METRIC.payloadStatusFailed, 'Failed'),
        stacked: true,
        width: 8,
      }),
      new GraphWidget({ title: 'Function errors', left: fnMetric((fn) => fn.metricErrors({ period: FIVE_MINUTES })), width: 8 }),
      new GraphWidget({ title: 'Function throttles', left: fnMetric((fn) => fn.metricThrottles({ period: FIVE_MINUTES })), width: 8 }),
      new GraphWidget({
        title: 'Function duration p99 (ms)',
        left: fnMetric((fn) => fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' })),
        width: 8,
      }),
      new GraphWidget({
        title: 'MIS queue: depth and age of oldest (s)',
        left: [storage.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) })],
        right: [metrics.consumerLag()],
        width: 12,
      }),
      new GraphWidget({ title: 'Documents by REMD state, per day', left: remdByState, stacked: true, width: 8 }),
      new GraphWidget({ title: 'Silent documents', left: [metrics.silentDocuments()], width: 8 }),
      new GraphWidget({
        title: 'Projection lag (ms)',
        left: [metrics.own(METRIC.projectionLag, { statistic: 'Maximum', label: 'projection lag (ms)' })],
        width: 8,
      }),
      new SingleValueWidget({
        title: 'Dead letters / pending / undeliverable',
        metrics: [metrics.deadLetters(), metrics.pendingCount(), metrics.undeliverable()],
        width: 12,
      }),
    );
    if (props.refusals) {
      const { refusedByCause, senderRefused, callbacksAnswered } = props.refusals;
      this.dashboard.addWidgets(
        new GraphWidget({ title: 'Refused by the gateway, by cause (access log)', left: [refusedByCause], stacked: true, width: 12 }),
        new GraphWidget({ title: 'Sender refused; callbacks answered 200', left: [senderRefused], right: [callbacksAnswered], width: 12 }),
      );
    }
  }
}
