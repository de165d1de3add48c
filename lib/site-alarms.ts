import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, type AlarmProps, ComparisonOperator, type IMetric, type Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRIC } from '../contract/observability';
import { keyAlias, stackName } from '../contract/names';
import type { GatewayRefusals } from './refusals';
import { FIVE_MINUTES, SiteMetrics } from './site-metrics';
import type { Storage } from './storage';

export interface SiteAlarmsProps {
  /** The site: the dimension of its own metrics, and named in the runbook commands the descriptions give. */
  readonly siteId: string;
  /** Names the site in the topic and, with its id, in every alarm's description. */
  readonly displayName: string;
  /** The site's API: its 5xx (Api5xx). */
  readonly api: RestApi;
  /** The one function whose failure no other alarm sees (see the alarms below). */
  readonly sweep: LambdaFunction;
  /** The site's queues (DeadLetters, ConsumerLag, ProjectionFailures) and key (KeyUnusable, where it has its own). */
  readonly storage: Storage;
  /** Who the alarm topic e-mails (each address confirms its subscription once). */
  readonly alarmEmails: readonly string[];
  /**
   * The gateway's own refusals (lib/refusals.ts): the SenderRefused alarm.
   * @default no SenderRefused alarm
   */
  readonly refusals?: GatewayRefusals;
  /**
   * Minutes SilentDocuments may stay above zero before alarming.
   * @default 60
   */
  readonly silentAlarmMinutes?: number;
}

/**
 * The site's alarms and alarm topic: what an operator is woken by.
 * Each alarm reads one metric (CloudWatch bills $0.10 a month per metric an alarm reads, which made the
 * alarms most of an idle site's bill), and every failure still reaches one:
 * - a receiving function or the document API failing is a 5xx of the API (Api5xx);
 * - the projector failing ends, after its retries, in the ProjectionFailures queue;
 * - the sweep is the only function nothing else watches: its errors (SweepErrors), and its absence
 *   (SweepNotRunning: it is invoked by the fleet's tick, and writes nothing when there is nothing to count);
 * - rejections are counted site-wide (by type and cause in the logs: the site dashboard, lib/site-dashboard.ts);
 * - what the gateway refuses before any function runs is counted from its access log (lib/refusals.ts); the
 *   sender locked out (SenderRefused) alarms, reading two metrics; other refusals are on the dashboards only.
 */
export class SiteAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  /** Every metric of the functions' own namespace that an alarm watches (checked against what they emit). */
  readonly watched: Metric[];

  constructor(scope: Construct, id: string, props: SiteAlarmsProps) {
    super(scope, id);
    const { api, storage, siteId } = props;
    const metrics = new SiteMetrics(siteId, storage);
    this.watched = metrics.watched;

    this.topic = new Topic(this, 'Alarms', { displayName: `N3 callback alarms: ${props.displayName}`, enforceSSL: true });
    for (const email of props.alarmEmails) this.topic.addSubscription(new EmailSubscription(email));

    // Every description: the site (its name and id), what the alarm means, and the one command to look with
    // (docs/operations.md says the same at more length). The CLI's commands name the site with `--site`.
    const cli = (command: string) => `n3-callback ${command} --site ${siteId}`;
    const alarm = (
      name: string,
      metric: IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
      more: Partial<AlarmProps> = {},
    ) => {
      const created = new Alarm(this, name, {
        alarmDescription: `${props.displayName} (site ${siteId}): ${description}`,
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
    // The receivers' log groups: CloudFormation names them after the stack and the function (N3Callback-<id>-Functions<Type>Logs…).
    const receiverLogs = `the log groups starting ${stackName(siteId)}-Functions in CloudWatch Logs Insights`;
    alarm(
      'Api5xx',
      api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      0,
      `the API answered 5xx (a receiving function or the document API failed, or the table is unavailable): the sender is retrying. Look: ${receiverLogs}, query: filter outcome = "failed" | stats count(*) by messageType, error.name`,
    );
    alarm(
      'SweepErrors',
      props.sweep.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      0,
      `the Sweep function failed: stored messages are not forwarded and silent documents not counted until it runs again. Look: aws logs tail ${props.sweep.logGroup.logGroupName} --since 1h`,
    );
    alarm(
      'DeadLetters',
      metrics.deadLetters(),
      0,
      `messages in the dead-letter queue: the MIS consumer could not process them after 5 receives; fix the consumer, then: ${cli('redrive')}`,
    );
    alarm(
      'ConsumerLag',
      metrics.consumerLag(),
      15 * 60,
      `the oldest message has waited over 15 minutes: the MIS consumer is behind or down. Look: aws sqs get-queue-attributes --queue-url ${storage.queue.queueUrl} --attribute-names ApproximateNumberOfMessages ApproximateAgeOfOldestMessage`,
    );
    // 8 of 10: the sweep arrives through EventBridge, SNS and an asynchronous invoke; a minute it lands late in
    // must not reset the count.
    alarm(
      'Pending',
      metrics.pendingCount(),
      0,
      `messages stored but not forwarded for 10 minutes: the MIS queue refuses them or is unavailable. Look: ${cli('tail')} --since 1h --once (state RECEIVED), then aws logs tail ${props.sweep.logGroup.logGroupName} --since 1h`,
      10,
      { datapointsToAlarm: 8 },
    );
    // The sweep's metrics are written only when not zero, so a sweep that never runs looks like a quiet site:
    // its own invocations, missing data breaching, are what tells the two apart (the fleet's tick stopped, the
    // site's subscription to it was lost, the fleet stack was deleted).
    alarm(
      'SweepNotRunning',
      props.sweep.metricInvocations({ period: FIVE_MINUTES, statistic: 'Sum' }),
      1,
      `the Sweep has not run for 15 minutes: stored messages are not forwarded and silent documents not counted. Look: npm run fleet -- doctor --site ${siteId} (it names what is wrong with the fleet's tick or this site's subscription to it; add --repair to subscribe the Sweep again)`,
      3,
      { comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD, treatMissingData: TreatMissingData.BREACHING },
    );
    alarm(
      'Undeliverable',
      metrics.undeliverable(),
      0,
      `the MIS queue refused stored messages for good (their characters or size), or the Sweep found a pending record it cannot read (refusal UnreadableRecord): kept as UNDELIVERABLE in the table, not forwarded. Look: ${cli('rejected')} --since 1h (code undeliverable; the Sweep's are in its log)`,
    );
    alarm(
      'Rejected',
      metrics.own(METRIC.rejected, { label: 'rejected' }),
      0,
      `callbacks were rejected (400/404/405/409/413/422), each kept under rejected/ in the bucket with its reason. Look: ${cli('rejected')} --since 1h`,
    );
    alarm(
      'RejectedNotKept',
      metrics.own(METRIC.rejectedNotKept, { label: 'rejected and not kept' }),
      0,
      `a rejected callback could not be kept in the bucket: it is recorded nowhere else but its log line (check the bucket and the ingest role). Look: ${receiverLogs}, query: filter message = "rejected request not kept" | fields @timestamp, messageType, code, reason, error.name`,
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
        metrics.own(METRIC.keyUnusable, { label: 'KMS key unusable' }),
        0,
        `the site's KMS key cannot be used (disabled, pending deletion, or its grants removed): every callback is answered 5xx and nothing is stored. Look: aws kms describe-key --key-id ${keyAlias(siteId)}, then enable-key or cancel-key-deletion`,
      );
    }
    alarm(
      'SilentDocuments',
      metrics.silentDocuments(),
      0,
      `documents the MIS expected an answer about got none in time. Look: ${cli('silent')}`,
      Math.max(1, Math.round((props.silentAlarmMinutes ?? 60) / 5)),
    );
    alarm(
      'ProjectionFailures',
      storage.projectionFailures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      0,
      `stream batches the document projector gave up on: documents are behind the messages. Look: the Project function's log (its errors) and the ProjectionFailures queue; once fixed, rebuild: ${cli('reproject')}`,
    );
  }
}
