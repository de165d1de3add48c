import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Dashboard,
  GraphWidget,
  type IMetric,
  LogQueryVisualizationType,
  LogQueryWidget,
  type Metric,
  SingleValueWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { COUNTED_OUTCOMES, LOG_FIELDS as F, METRIC } from '../contract/observability';
import { STAGE_STATES } from '../contract/documents';
import { siteDashboardName } from '../contract/names';
import type { GatewayRefusals } from './refusals';
import { FIVE_MINUTES, SiteMetrics } from './site-metrics';
import type { Storage } from './storage';

/**
 * The Logs Insights queries of the site dashboard: the breakdowns by type, outcome and cause that are not metrics
 * (contract/observability.ts: a series per type cost six), read from the fields every request's log line carries.
 * Each query scans the log groups it names over the dashboard's time range, once per view ($0.005 per GB scanned;
 * `fleet plan` prices them at a stated number of views). One command a line: the widget joins them with `|`.
 */
export const SITE_LOG_QUERIES = {
  /** Over the receivers' log groups: every request's one line with its outcome. */
  outcomesByType: [
    `filter ispresent(${F.outcome})`,
    `stats count(*) as requests by ${F.messageType}, ${F.outcome}, ${F.payloadStatus}`,
    'sort requests desc',
  ],
  /** Over the receivers' log groups: every rejection's one line (kept under rejected/ or not). */
  rejectedByCause: [
    `filter ispresent(${F.kept})`,
    `stats count(*) as rejected by ${F.messageType}, ${F.httpStatus}, ${F.code}, ${F.kept}`,
    'sort rejected desc',
  ],
  latestRejected: [
    `fields @timestamp, ${F.messageType}, ${F.httpStatus}, ${F.code}, ${F.reason}, ${F.kept}, ${F.requestId}`,
    `filter ispresent(${F.kept})`,
    'sort @timestamp desc',
    'limit 20',
  ],
  /** Over the projector's log group: documents that reached each REMD state, per day. */
  remdByDay: [
    `filter ispresent(${F.remd})`,
    `stats ${STAGE_STATES.remd.map((state) => `sum(${F.remd}.${state}) as ${state}`).join(', ')} by bin(1d)`,
  ],
} as const;

/** Logs Insights widgets on the site dashboard, each one query over its log groups per view. */
export const SITE_LOG_WIDGETS = Object.keys(SITE_LOG_QUERIES).length;

export interface SiteDashboardProps {
  /** The site: the dashboard's name (contract/names.ts) and the dimension of its own metrics. */
  readonly siteId: string;
  /** Titles the dashboard. */
  readonly displayName: string;
  /** The site's API: requests, 4xx, 5xx, latency. */
  readonly api: RestApi;
  /** Every function of the site: the function graphs. */
  readonly functions: readonly LambdaFunction[];
  /** The receiving functions (six types and the catch-all): their log groups hold every request's line. */
  readonly receivers: readonly LambdaFunction[];
  /** `Project`: its log group holds each batch's REMD counts. */
  readonly projector: LambdaFunction;
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
    const logGroups = (fns: readonly LambdaFunction[]) => fns.map((fn) => fn.logGroup.logGroupName);
    const logs = (title: string, fns: readonly LambdaFunction[], queryLines: readonly string[], view = LogQueryVisualizationType.TABLE) =>
      new LogQueryWidget({ title, logGroupNames: logGroups(fns), queryLines: [...queryLines], view, width: 12, height: 6 });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: [
          `# N3 callbacks: ${props.displayName}`,
          `Site \`${siteId}\`. Graphs: site-wide metrics. Tables: Logs Insights over the functions' logs (by type, outcome, cause). Rejected requests: \`n3-callback rejected --site ${siteId} --since 1d\`.`,
        ].join('\n'),
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
      new GraphWidget({
        title: 'Callbacks that need someone: deferred, conflict, rejected, failed (site-wide)',
        left: COUNTED_OUTCOMES.map((outcome) => metrics.own(METRIC[outcome], { label: outcome })),
        stacked: true,
        width: 12,
      }),
      logs('Callbacks by type, outcome and payload Status (logs)', props.receivers, SITE_LOG_QUERIES.outcomesByType),
      logs('Rejected by type and cause (logs)', props.receivers, SITE_LOG_QUERIES.rejectedByCause),
      logs('The latest rejected requests (logs)', props.receivers, SITE_LOG_QUERIES.latestRejected),
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
      logs(
        'Documents reaching each REMD state, per day (logs)',
        [props.projector],
        SITE_LOG_QUERIES.remdByDay,
        LogQueryVisualizationType.BAR,
      ),
      new GraphWidget({ title: 'Silent documents', left: [metrics.silentDocuments()], width: 8 }),
      new GraphWidget({
        title: 'Projection lag (ms)',
        left: [metrics.own(METRIC.projectionLag, { statistic: 'Maximum', label: 'projection lag (ms)' })],
        width: 8,
      }),
      new SingleValueWidget({
        title: 'Dead letters / pending / undeliverable / rejected not kept',
        metrics: [
          metrics.deadLetters(),
          metrics.pendingCount(),
          metrics.undeliverable(),
          metrics.own(METRIC.rejectedNotKept, { label: 'rejected, not kept' }),
        ],
        width: 8,
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
