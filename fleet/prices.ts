/*
 * The one home of the prices this repo models with: public on-demand list prices, us-east-1, read on the
 * date below (USD). The benchmark's per-request cost model (dev/bench/models.ts, M7) and the fleet plan's idle
 * cost (fleet/plan.ts, M9) both read them here, so a price changes in one place. Each price names the public
 * page it was read from. Check them before budgeting: AWS changes prices, and other regions differ.
 */

export const PRICE_DATE = '2026-11';
export const PRICE_REGION = 'us-east-1';

/** What the benchmark's cost model (M7) prices per request. Keys unchanged: docs/benchmarks.json records them. */
export const PRICES = {
  date: PRICE_DATE,
  region: PRICE_REGION,
  apiGatewayRestPerMillion: 3.5,
  wafPerMillionRequests: 0.6,
  lambdaPerMillionRequests: 0.2,
  /** arm64, per GB-second. */
  lambdaArmPerGbSecond: 0.0000133334,
  dynamoWruPerMillion: 0.625,
  dynamoRruPerMillion: 0.125,
  s3PutPerMillion: 5,
  s3GetPerMillion: 0.4,
  /** FIFO, per million requests; every 64 KB of a request is one request. */
  sqsFifoPerMillion: 0.5,
} as const;

/** What a site costs while it receives nothing: per month unless the name says otherwise. */
export const FLEET_PRICES = {
  /** Per web ACL per month, whatever it is associated with. */
  wafWebAclPerMonth: 5,
  /** Per rule in a web ACL per month. */
  wafRulePerMonth: 1,
  /** Standard-resolution alarm, per metric it reads (a metric-math alarm pays for each metric in it). */
  alarmMetricPerMonth: 0.1,
  /** High-resolution alarm (period under 60 s), per metric it reads. */
  alarmMetricHighResolutionPerMonth: 0.3,
  compositeAlarmPerMonth: 0.5,
  /** Per dashboard beyond the account's free ones. */
  dashboardPerMonth: 3,
  /** Dashboards free per account (each of up to 50 metrics). */
  freeDashboards: 3,
  freeDashboardMaxMetrics: 50,
  /** Per custom metric (name + dimension values) per month, first tier, pro-rated by the hours it is sent. */
  customMetricPerMonth: 0.3,
  logsIngestionPerGb: 0.5,
  /** Logs Insights, per GB of log data a query scans. */
  logsInsightsPerGbScanned: 0.005,
  /** Per customer-managed KMS key per month. */
  kmsKeyPerMonth: 1,
  lambdaPerMillionRequests: PRICES.lambdaPerMillionRequests,
  lambdaArmPerGbSecond: PRICES.lambdaArmPerGbSecond,
  lambdaX86PerGbSecond: 0.0000166667,
  dynamoRruPerMillion: PRICES.dynamoRruPerMillion,
  dynamoWruPerMillion: PRICES.dynamoWruPerMillion,
  /** Standard topic publishes (the first million a month are free; not counted here). */
  snsPublishPerMillion: 0.5,
  /** SNS deliveries to Lambda functions are not charged. */
  snsLambdaDeliveryPerMillion: 0,
  /** Events of scheduled rules are AWS-service events: not charged. */
  eventBridgeScheduledRuleEventPerMillion: 0,
  /** EventBridge Scheduler invocations beyond the free 14 M a month (not counted here). */
  schedulerInvocationPerMillion: 1,
} as const;

type PriceKey = Exclude<keyof typeof PRICES, 'date' | 'region'> | keyof typeof FLEET_PRICES;

const WAF = 'https://aws.amazon.com/waf/pricing/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const DYNAMODB = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const SNS = 'https://aws.amazon.com/sns/pricing/';
const EVENTBRIDGE = 'https://aws.amazon.com/eventbridge/pricing/';

/** Where each price was read ({@link PRICE_DATE}, {@link PRICE_REGION}). A test checks every price has one. */
export const PRICE_SOURCES: Readonly<Record<PriceKey, string>> = {
  apiGatewayRestPerMillion: 'https://aws.amazon.com/api-gateway/pricing/',
  wafPerMillionRequests: WAF,
  lambdaPerMillionRequests: LAMBDA,
  lambdaArmPerGbSecond: LAMBDA,
  dynamoWruPerMillion: DYNAMODB,
  dynamoRruPerMillion: DYNAMODB,
  s3PutPerMillion: 'https://aws.amazon.com/s3/pricing/',
  s3GetPerMillion: 'https://aws.amazon.com/s3/pricing/',
  sqsFifoPerMillion: 'https://aws.amazon.com/sqs/pricing/',
  wafWebAclPerMonth: WAF,
  wafRulePerMonth: WAF,
  alarmMetricPerMonth: CLOUDWATCH,
  alarmMetricHighResolutionPerMonth: CLOUDWATCH,
  compositeAlarmPerMonth: CLOUDWATCH,
  dashboardPerMonth: CLOUDWATCH,
  freeDashboards: CLOUDWATCH,
  freeDashboardMaxMetrics: CLOUDWATCH,
  customMetricPerMonth: CLOUDWATCH,
  logsIngestionPerGb: CLOUDWATCH,
  logsInsightsPerGbScanned: CLOUDWATCH,
  kmsKeyPerMonth: 'https://aws.amazon.com/kms/pricing/',
  lambdaX86PerGbSecond: LAMBDA,
  snsPublishPerMillion: SNS,
  snsLambdaDeliveryPerMillion: SNS,
  eventBridgeScheduledRuleEventPerMillion: EVENTBRIDGE,
  schedulerInvocationPerMillion: EVENTBRIDGE,
};

export type FleetPrices = typeof FLEET_PRICES;
