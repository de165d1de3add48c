import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  type AlarmProps,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DIMENSIONS_OF, METRIC, METRICS_NAMESPACE, SERVICE, UNKNOWN_TYPE, type MetricName } from '../contract/observability';
import { MESSAGE_TYPES } from '../contract/catalog';
import { keyAlias, siteDashboardName } from '../contract/names';
import type { GatewayRefusals } from './refusals';
import type { Storage } from './storage';

/** Every value the receiving functions give the `MessageType` dimension: the six types and the catch-all's. */
export const MESSAGE_TYPE_DIMENSION_VALUES = [...MESSAGE_TYPES, UNKNOWN_TYPE] as const;

export interface MonitoringProps {
  readonly siteId: string;
  readonly displayName: string;
  readonly api: RestApi;
  /** The gateway's own refusals (lib/refusals.ts): the SenderRefused alarm and the dashboard's widget. */
  readonly refusals?: GatewayRefusals;
  /** Every function of the site: the dashboard's function graphs. */
  readonly functions: readonly LambdaFunction[];
  /** The one function whose failure no other alarm sees (see the alarms below). */
  readonly sweep: LambdaFunction;
  readonly storage: Storage;
  readonly alarmEmails: readonly string[];
  /**
   * Minutes SilentDocuments may stay above zero before alarming.
   * @default 60
   */
  readonly silentAlarmMinutes?: number;
  /**
   * A dashboard of the site's own ($3 a month beyond the account's first three); the fleet dashboard shows
   * every site without one.
   * @default false
   */
  readonly dashboard?: boolean;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The site's alarms and alarm topic (what an operator is woken by), and its own dashboard where asked.
 * Each alarm reads one metric (CloudWatch bills $0.10 a month per metric an alarm reads, which made the
 * alarms most of an idle site's bill), and every failure still reaches one:
 * - a receiving function or the document API failing is a 5xx of the API (Api5xx);
 * - the projector failing ends, after its retries, in the ProjectionFailures queue;
 * - the sweep is the only function nothing else watches: its errors (SweepErrors), and its absence
 *   (SweepNotRunning: it is invoked by the fleet's tick, and writes nothing when there is nothing to count);
 * - rejections are counted site-wide for the alarms, by type for the dashboard;
 * - what the gateway refuses before any function runs is counted from its access log (lib/refusals.ts); the
 *   sender locked out (SenderRefused) alarms, reading two metrics; other refusals are on the dashboards only.
 */
export class Monitoring extends Construct {
  readonly dashboard?: Dashboard;
  /** Every metric of the functions' own namespace that an alarm or widget watches (checked against what they emit). */
  readonly watched: Metric[] = [];
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { api, storage, siteId } = props;

    this.topic = new Topic(this, 'Alarms', { displayName: `N3 callback alarms: ${props.displayName}`, enforceSSL: true });
    for (const email of props.alarmEmails) this.topic.addSubscription(new EmailSubscription(email));

    // Dimension maps come from the contract: the same set the functions emit each metric with.
    const dimensions = (metricName: MetricName, type?: string) =>
      Object.fromEntries(
        DIMENSIONS_OF[metricName].map((name) => [name, name === 'service' ? SERVICE : name === 'site' ? siteId : (type as string)]),
      );
    const watch = (metric: Metric) => {
      this.watched.push(metric);
      return metric;
    };
    // Only the catch-all's `Unknown` can be rejected; a series for it under any other outcome would never have data.
    const byType = (metricName: MetricName, label: string, types: readonly string[] = MESSAGE_TYPES) =>
      types.map((type) =>
        watch(
          new Metric({
            namespace: METRICS_NAMESPACE,
            metricName,
            dimensionsMap: dimensions(metricName, type),
            statistic: 'Sum',
            period: FIVE_MINUTES,
            label: `${label} ${type}`,
          }),
        ),
      );
    const pending = watch(
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.pendingCount,
        dimensionsMap: dimensions(METRIC.pendingCount),
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
    );
    const undeliverable = watch(
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.undeliverable,
        dimensionsMap: dimensions(METRIC.undeliverable),
        statistic: 'Sum',
        period: FIVE_MINUTES,
        label: 'undeliverable',
      }),
    );
    const oldestAge = storage.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' });
    const dlqDepth = storage.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    });

    const alarm = (
      name: string,
      metric: IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
      more: Partial<AlarmProps> = {},
    ) => {
      const created = new Alarm(this, name, {
        alarmDescription: `${props.displayName}: ${description}`,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        ...more,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };
    alarm(
      'Api5xx',
      api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      0,
      'the API answered 5xx (a receiving function or the document API failed, or the table is unavailable): the sender is retrying',
    );
    alarm(
      'SweepErrors',
      props.sweep.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      0,
      'the Sweep function failed: stored messages are not forwarded and silent documents not counted until it runs again',
    );
    alarm('DeadLetters', dlqDepth, 0, 'messages in the dead-letter queue: the MIS consumer could not process them');
    alarm('ConsumerLag', oldestAge, 15 * 60, 'the oldest message has waited over 15 minutes: the MIS consumer is behind or down');
    // 8 of 10: the sweep arrives through EventBridge, SNS and an asynchronous invoke; a minute it lands late in
    // must not reset the count.
    alarm('Pending', pending, 0, 'messages stored but not forwarded for 10 minutes: the queue refuses them', 10, { datapointsToAlarm: 8 });
    // The sweep's metrics are written only when not zero, so a sweep that never runs looks like a quiet site:
    // its own invocations, missing data breaching, are what tells the two apart (the fleet's tick stopped, the
    // site's subscription to it was lost, the fleet stack was deleted).
    alarm(
      'SweepNotRunning',
      props.sweep.metricInvocations({ period: FIVE_MINUTES, statistic: 'Sum' }),
      1,
      `the Sweep has not run for 15 minutes: stored messages are not forwarded and silent documents not counted; run "npm run fleet -- doctor --site ${props.siteId}" (it names what is wrong with the fleet's tick or this site's subscription to it; add --repair to subscribe the Sweep again)`,
      3,
      { comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD, treatMissingData: TreatMissingData.BREACHING },
    );
    alarm(
      'Undeliverable',
      undeliverable,
      0,
      'the MIS queue refused stored messages for good (their characters or size), or the Sweep found a pending record it cannot read (refusal UnreadableRecord): kept as UNDELIVERABLE in the table, not forwarded; the Sweep logs name them',
    );
    const siteWide = (metricName: MetricName, label: string) =>
      watch(
        new Metric({
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensionsMap: dimensions(metricName),
          statistic: 'Sum',
          period: FIVE_MINUTES,
          label,
        }),
      );
    alarm('Rejected', siteWide(METRIC.rejectedSiteWide, 'rejected'), 0, 'callbacks were rejected: see rejected/ in the bucket');
    alarm(
      'RejectedNotKept',
      siteWide(METRIC.rejectedNotKeptSiteWide, 'rejected and not kept'),
      0,
      'a rejected callback could not be kept in the bucket: it is recorded nowhere else (check the bucket and the function role)',
    );

    if (props.refusals) {
      alarm('SenderRefused', props.refusals.senderLockedOut, 0, props.refusals.alarmDescription(siteId), 3);
    }
    // Only where the site's own key encrypts (encryption: 'kms'): elsewhere no call can meet a key state. The
    // functions count each call the key failed (lambdas/adapters/key-state.ts); the Sweep runs every minute, so a
    // quiet site tells too. Api5xx fires as well; this one names the cause and its fix.
    if (storage.key) {
      alarm(
        'KeyUnusable',
        siteWide(METRIC.keyUnusable, 'KMS key unusable'),
        0,
        `the site's KMS key cannot be used (disabled, pending deletion, or its grants removed): every callback is answered 5xx and nothing is stored; aws kms describe-key --key-id ${keyAlias(siteId)}, then enable-key or cancel-key-deletion`,
      );
    }

    const silent = watch(
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.silentDocuments,
        dimensionsMap: dimensions(METRIC.silentDocuments),
        statistic: 'Maximum',
        period: FIVE_MINUTES,
        label: 'silent documents',
      }),
    );
    const lag = watch(
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.projectionLag,
        dimensionsMap: dimensions(METRIC.projectionLag),
        statistic: 'Maximum',
        period: FIVE_MINUTES,
        label: 'projection lag (ms)',
      }),
    );
    const remdByState = ['awaiting', 'registered', 'failed'].map((state) =>
      watch(
        new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: METRIC.remdState,
          dimensionsMap: dimensions(METRIC.remdState, state),
          statistic: 'Sum',
          period: Duration.days(1),
          label: `REMD ${state}`,
        }),
      ),
    );
    alarm(
      'SilentDocuments',
      silent,
      0,
      'documents the MIS expected an answer about got none in time: n3-callback silent',
      Math.max(1, Math.round((props.silentAlarmMinutes ?? 60) / 5)),
    );
    alarm(
      'ProjectionFailures',
      storage.projectionFailures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      0,
      'stream batches the document projector gave up on: documents are behind; look at the ProjectionFailures queue',
    );

    if (!props.dashboard) return;
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: siteDashboardName(siteId),
      defaultInterval: Duration.hours(24),
    });
    const fnMetric = (pick: (fn: LambdaFunction) => IMetric) => props.functions.map(pick);
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
      new GraphWidget({ title: 'Accepted by type', left: byType(METRIC.accepted, 'accepted'), stacked: true, width: 8 }),
      new GraphWidget({ title: 'Duplicates by type', left: byType(METRIC.duplicate, 'duplicate'), stacked: true, width: 8 }),
      new GraphWidget({
        title: 'Deferred by type (queue unavailable)',
        left: byType(METRIC.deferred, 'deferred'),
        stacked: true,
        width: 8,
      }),
      new GraphWidget({
        title: 'Rejected by type',
        left: byType(METRIC.rejected, 'rejected', MESSAGE_TYPE_DIMENSION_VALUES),
        stacked: true,
        width: 8,
      }),
      new GraphWidget({ title: 'Conflicts by type', left: byType(METRIC.conflict, 'conflict'), stacked: true, width: 8 }),
      new GraphWidget({
        title: 'Payload Status = Failed by type (REMD/IEMK rejections)',
        left: byType(METRIC.payloadStatusFailed, 'Failed'),
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
        right: [oldestAge],
        width: 12,
      }),
      new GraphWidget({ title: 'Documents by REMD state, per day', left: remdByState, stacked: true, width: 8 }),
      new GraphWidget({ title: 'Silent documents', left: [silent], width: 8 }),
      new GraphWidget({ title: 'Projection lag (ms)', left: [lag], width: 8 }),
      new SingleValueWidget({
        title: 'Dead letters / pending / undeliverable',
        metrics: [dlqDepth, pending, undeliverable],
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
