import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
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
import { MESSAGE_TYPES } from '../lambdas/protocol/catalog';
import type { Storage } from './storage';

/** Where the functions' Powertools metrics land (see lambdas/handlers/index.ts). */
export const METRICS_NAMESPACE = 'N3Callback';
export const SERVICE = 'n3-callback';

export interface MonitoringProps {
  readonly siteId: string;
  readonly displayName: string;
  readonly api: RestApi;
  readonly functions: readonly LambdaFunction[];
  readonly storage: Storage;
  readonly alarmEmails: readonly string[];
}

const FIVE_MINUTES = Duration.minutes(5);

/** One dashboard and one alarm topic per site: what an operator watches and is woken by. */
export class Monitoring extends Construct {
  readonly dashboard: Dashboard;
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { api, storage, siteId } = props;

    this.topic = new Topic(this, 'Alarms', { displayName: `N3 callback alarms: ${props.displayName}`, enforceSSL: true });
    for (const email of props.alarmEmails) this.topic.addSubscription(new EmailSubscription(email));

    const byType = (metricName: string, label: string) =>
      MESSAGE_TYPES.map(
        (type) =>
          new Metric({
            namespace: METRICS_NAMESPACE,
            metricName,
            dimensionsMap: { service: SERVICE, site: siteId, MessageType: type },
            statistic: 'Sum',
            period: FIVE_MINUTES,
            label: `${label} ${type}`,
          }),
      );
    const total = (metrics: IMetric[], label: string) =>
      new MathExpression({
        expression: metrics.map((_, i) => `FILL(m${i}, 0)`).join(' + '),
        usingMetrics: Object.fromEntries(metrics.map((m, i) => [`m${i}`, m])),
        label,
        period: FIVE_MINUTES,
      });
    const pending = new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: 'PendingCount',
      dimensionsMap: { service: SERVICE, site: siteId },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    const oldestAge = storage.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' });
    const dlqDepth = storage.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' });

    const alarm = (name: string, metric: IMetric, threshold: number, description: string, evaluationPeriods = 1) => {
      const created = new Alarm(this, name, {
        alarmDescription: `${props.displayName}: ${description}`,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };
    alarm('Api5xx', api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }), 0, 'the API answered 5xx: the sender is retrying');
    for (const fn of props.functions) {
      alarm(`${fn.node.id}Errors`, fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), 0, `function ${fn.node.id} failed`);
    }
    alarm('DeadLetters', dlqDepth, 0, 'messages in the dead-letter queue: the MIS consumer could not process them');
    alarm('ConsumerLag', oldestAge, 15 * 60, 'the oldest message has waited over 15 minutes: the MIS consumer is behind or down');
    alarm('Pending', pending, 0, 'messages stored but not forwarded for 10 minutes: the queue refuses them', 10);
    alarm('Rejected', total(byType('rejected', 'rejected'), 'rejected'), 0, 'callbacks were refused: see rejected/ in the bucket');

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `n3-callback-${siteId}`,
      defaultInterval: Duration.hours(24),
    });
    const fnMetric = (pick: (fn: LambdaFunction) => IMetric) => props.functions.map(pick);
    this.dashboard.addWidgets(
      new TextWidget({ markdown: `# N3 callbacks: ${props.displayName}\nSite \`${siteId}\`. Refused requests: \`rejected/\` in the bucket.`, width: 24, height: 2 }),
      new GraphWidget({
        title: 'API requests, 4xx, 5xx',
        left: [api.metricCount({ period: FIVE_MINUTES }), api.metricClientError({ period: FIVE_MINUTES }), api.metricServerError({ period: FIVE_MINUTES })],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency p50 / p99 (ms)',
        left: [api.metricLatency({ period: FIVE_MINUTES, statistic: 'p50' }), api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' })],
        width: 12,
      }),
      new GraphWidget({ title: 'Accepted by type', left: byType('accepted', 'accepted'), stacked: true, width: 8 }),
      new GraphWidget({ title: 'Duplicates by type', left: byType('duplicate', 'duplicate'), stacked: true, width: 8 }),
      new GraphWidget({ title: 'Deferred by type (queue unavailable)', left: byType('deferred', 'deferred'), stacked: true, width: 8 }),
      new GraphWidget({ title: 'Rejected by type', left: byType('rejected', 'rejected'), stacked: true, width: 8 }),
      new GraphWidget({ title: 'Conflicts by type', left: byType('conflict', 'conflict'), stacked: true, width: 8 }),
      new GraphWidget({
        title: 'Payload Status = Failed by type (REMD/IEMK refusals)',
        left: byType('PayloadStatusFailed', 'Failed'),
        stacked: true,
        width: 8,
      }),
      new GraphWidget({ title: 'Function errors', left: fnMetric((fn) => fn.metricErrors({ period: FIVE_MINUTES })), width: 8 }),
      new GraphWidget({ title: 'Function throttles', left: fnMetric((fn) => fn.metricThrottles({ period: FIVE_MINUTES })), width: 8 }),
      new GraphWidget({ title: 'Function duration p99 (ms)', left: fnMetric((fn) => fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' })), width: 8 }),
      new GraphWidget({
        title: 'MIS queue: depth and age of oldest (s)',
        left: [storage.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) })],
        right: [oldestAge],
        width: 12,
      }),
      new SingleValueWidget({ title: 'Dead letters / pending', metrics: [dlqDepth, pending], width: 12 }),
    );
  }
}
