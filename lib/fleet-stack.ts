import { Aws, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  DashboardVariable,
  DefaultValue,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
  Values,
  VariableInputType,
  VariableType,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { COUNTED_OUTCOMES, METRIC, METRICS_NAMESPACE, SERVICE } from '../contract/observability';
import { FLEET_PARAMETERS, TICK_TOPIC_NAME, RESOURCE_PREFIX } from '../contract/names';
import { OversizeGuard } from './oversize-guard';
import { refusedSearch } from './refusals';

/** The fleet dashboard's name: dashboards are global to an account, so one fleet per region needs its own. */
export const FLEET_DASHBOARD_NAME = `${RESOURCE_PREFIX}-fleet-${Aws.REGION}`;

/** How often every site's Sweep runs (reconcile, silent documents). */
export const TICK_RATE = Duration.minutes(1);

export interface FleetStackProps extends StackProps {
  /**
   * Who is told when the shared WAF guard refuses callbacks (a refusal nothing else records): lib/app.ts
   * passes `fleet.alarmEmails`, or, where that is not set, every site's `alarmEmails`.
   */
  readonly alarmEmails: readonly string[];
  /** The configured sites, for the fleet dashboard's site selector. */
  readonly siteIds: readonly string[];
  /** The WAF rate rule's limit per source address and site (site-config.ts `senderRequestsPerSecond`). */
  readonly senderRequestsPerSecond: number;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * What the sites of one account and region share without sharing data or URLs (README, Deploying a fleet):
 * - one WAF web ACL (the oversize guard) associated with every site's stage: WAF bills per ACL, and an
 *   account has 100 of them by default;
 * - one schedule: an EventBridge rule every minute feeding an SNS topic every site's Sweep subscribes to,
 *   so a site uses no EventBridge rule (300 per bus) and no scheduler role (IAM roles: 1,000 per account);
 * - one dashboard with a site selector and a cross-site overview, instead of $3 a month per site;
 * - the alarms a site cannot have: WAF counts per ACL, not per stage.
 * It holds no data, no function and no IAM role. Deploy it after the account stack and before any site.
 */
export class FleetStack extends Stack {
  readonly guard: OversizeGuard;
  readonly tick: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: FleetStackProps) {
    super(scope, id, {
      description: 'N3.Health callback endpoints: what every site of this account and region shares (WAF guard, schedule, dashboard)',
      // Deleting it stops every site's sweep and unguards every stage: CloudFormation must be told twice.
      terminationProtection: true,
      ...props,
    });

    this.guard = new OversizeGuard(this, 'OversizeGuard', {
      name: `${RESOURCE_PREFIX}-fleet`,
      senderRequestsPerSecond: props.senderRequestsPerSecond,
    });
    new StringParameter(this, 'WebAclArnParameter', {
      parameterName: FLEET_PARAMETERS.webAclArn,
      stringValue: this.guard.webAcl.attrArn,
      description: 'N3 callback fleet: the WAF web ACL each site associates with its stage',
    });

    // The tick carries no data (EventBridge's scheduled-event JSON), so the topic needs no key of its own.
    this.tick = new Topic(this, 'Tick', {
      topicName: TICK_TOPIC_NAME,
      displayName: 'N3 callback fleet: every minute',
      enforceSSL: true,
    });
    const schedule = new Rule(this, 'TickSchedule', {
      description: "Every minute: each site's Sweep forwards what waits and counts silent documents",
      schedule: Schedule.rate(TICK_RATE),
    });
    // The target by hand: the events-targets helper lets any rule of the account publish; this, only this rule.
    schedule.addTarget({ bind: () => ({ arn: this.tick.topicArn }) });
    this.tick.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.tick.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': schedule.ruleArn } },
      }),
    );

    const alarmTopic = new Topic(this, 'Alarms', { displayName: 'N3 callback fleet alarms', enforceSSL: true });
    for (const email of props.alarmEmails) alarmTopic.addSubscription(new EmailSubscription(email));
    const alarm = (id: string, description: string, metric: IMetric) => {
      const created = new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(alarmTopic));
      this.alarms.push(created);
    };
    alarm(
      'Oversize',
      'N3 callback fleet: callbacks were rejected by the WAF guard, too large (over 4 MiB) or with a malformed Content-Length, before reaching any site: the access logs of the sites name the caller; ask the platform',
      this.guard.refused,
    );
    // A 429 is retried by the sender, but N3 gives up after 5 tries: if the address is the sender's, someone must know.
    alarm(
      'RateLimited',
      `N3 callback fleet: one source address sent one site more than ${props.senderRequestsPerSecond} requests a second (averaged over a minute) and got 429s from the WAF rate rule. If the address is in a site's senderCidrs, the sender is being held back (it retries; N3 gives up after 5 tries): raise fleet.senderRequestsPerSecond (cdk.json) and redeploy N3Callback-fleet; otherwise it is a flood the rule absorbed`,
      this.guard.rateLimited,
    );

    this.dashboard = fleetDashboard(this, props.siteIds, this.guard.refused, this.guard.rateLimited);
  }
}

/**
 * One dashboard for every site: a cross-site overview (one line per site, from search expressions, which
 * cost nothing per metric) and one site's detail, picked with the `site` selector (a dashboard variable that
 * sets the `site` dimension of every detail metric).
 */
function fleetDashboard(stack: Stack, siteIds: readonly string[], oversizeRefused: IMetric, rateLimited: IMetric): Dashboard {
  const [first] = siteIds;
  const dashboard = new Dashboard(stack, 'Dashboard', {
    dashboardName: FLEET_DASHBOARD_NAME,
    defaultInterval: Duration.hours(24),
    variables: [
      new DashboardVariable({
        id: 'site',
        label: 'Site',
        type: VariableType.PROPERTY,
        value: 'site',
        inputType: VariableInputType.SELECT,
        values: Values.fromValues(...siteIds.map((value) => ({ value }))),
        defaultValue: DefaultValue.value(first),
      }),
    ],
  });
  const perSite = (metricName: string, statistic: string) =>
    new MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},service,site} MetricName="${metricName}"', '${statistic}', 300)`,
      label: '',
      period: FIVE_MINUTES,
    });
  // One line per site, the 20 busiest: Metrics Insights orders and limits where SEARCH cannot (outcomes are site-wide).
  const outcomeBySite = (outcome: string) =>
    new MathExpression({
      expression: `SELECT SUM("${outcome}") FROM SCHEMA("${METRICS_NAMESPACE}", service, site) GROUP BY site ORDER BY SUM() DESC LIMIT 20`,
      label: outcome,
      period: FIVE_MINUTES,
    });
  const site = (metricName: string, statistic: string, label: string) =>
    new Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: SERVICE, site: first! },
      statistic,
      period: FIVE_MINUTES,
      label,
    });

  dashboard.addWidgets(
    new TextWidget({
      markdown:
        '# N3 callbacks: the fleet\nTop: every site (the 20 busiest where grouped). Bottom: the site picked in **Site** above. Each site has its own alarms.',
      width: 24,
      height: 2,
    }),
    // The volume from the gateway's own count (an AWS metric, not billed per series); the outcomes that need someone from ours.
    new GraphWidget({
      title: 'Requests, per site',
      left: [
        new MathExpression({
          expression: `SEARCH('{AWS/ApiGateway,ApiName} MetricName="Count" "${RESOURCE_PREFIX}"', 'Sum', 300)`,
          label: '',
          period: FIVE_MINUTES,
        }),
      ],
      width: 8,
    }),
    ...COUNTED_OUTCOMES.map(
      (outcome) => new GraphWidget({ title: `Acks: ${outcome}, per site (top 20)`, left: [outcomeBySite(outcome)], width: 8 }),
    ),
    new GraphWidget({ title: 'Rejected, per site', left: [perSite(METRIC.rejected, 'Sum')], width: 8 }),
    new GraphWidget({ title: 'Pending (not yet forwarded), per site', left: [perSite(METRIC.pendingCount, 'Maximum')], width: 8 }),
    new GraphWidget({ title: 'Silent documents, per site', left: [perSite(METRIC.silentDocuments, 'Maximum')], width: 8 }),
    new GraphWidget({ title: 'Undeliverable, per site', left: [perSite(METRIC.undeliverable, 'Sum')], width: 8 }),
    new GraphWidget({
      title: 'API 5xx, per site',
      left: [
        new MathExpression({
          expression: `SEARCH('{AWS/ApiGateway,ApiName} MetricName="5XXError" "${RESOURCE_PREFIX}"', 'Sum', 300)`,
          label: '',
          period: FIVE_MINUTES,
        }),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Rejected by the WAF guard (all sites)',
      left: [oversizeRefused],
      right: [rateLimited],
      width: 8,
    }),
    // From each site's access log (lib/refusals.ts): policy 403, throttle 429, unknown path, WAF, too large.
    new GraphWidget({ title: 'Refused by the gateway, per site and cause', left: [refusedSearch('', FIVE_MINUTES)], width: 8 }),
    new TextWidget({ markdown: '## The selected site', width: 24, height: 1 }),
    new GraphWidget({
      title: 'Rejected, pending, undeliverable',
      left: [
        site(METRIC.rejected, 'Sum', 'rejected'),
        site(METRIC.pendingCount, 'Maximum', 'pending'),
        site(METRIC.undeliverable, 'Sum', 'undeliverable'),
      ],
      width: 12,
    }),
    new GraphWidget({
      title: 'Silent documents; projection lag (ms)',
      left: [site(METRIC.silentDocuments, 'Maximum', 'silent documents')],
      right: [site(METRIC.projectionLag, 'Maximum', 'projection lag')],
      width: 12,
    }),
  );
  return dashboard;
}
