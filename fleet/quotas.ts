/*
 * Default quotas a fleet of sites uses up, as published (read 2026-11). A quota is met when one more site's
 * deploy would take the count past it: that site's stack fails to create. `raisable` says whether the
 * Service Quotas console (or support) can lift it; `code` is the Service Quotas code where we know it.
 */

/** What a stack's template is counted for; `codeBytes` is the functions' deployed code (count × bundle). */
export type CountKey =
  | 'iamRoles'
  | 'iamManagedPolicies'
  | 'wafWebAcls'
  | 'eventBridgeRules'
  | 'schedulerSchedules'
  | 'restApis'
  | 'dynamoDbTables'
  | 'lambdaFunctions'
  | 'lambdaCodeBytes'
  | 'alarms'
  | 'dashboards'
  | 'stacks'
  | 's3Buckets'
  | 'snsTopics'
  | 'sqsQueues'
  | 'kmsKeys';

export interface Quota {
  readonly key: CountKey;
  readonly name: string;
  readonly scope: 'account' | 'region' | 'event bus';
  /** null: no count quota (the row still shows the count). */
  readonly limit: number | null;
  readonly raisable: boolean;
  /** How to raise it, or what to do when it cannot be. */
  readonly how: string;
  readonly code?: string;
  readonly source: string;
  /** What a CDK-bootstrapped account already holds before the first of our stacks (override per quota). */
  readonly baseline: number;
  readonly baselineNote: string;
  readonly unit?: 'bytes';
}

const SQ = (service: string, name: string, code?: string) => `Service Quotas console → ${service} → "${name}"${code ? ` (${code})` : ''}`;

export const QUOTAS: readonly Quota[] = [
  {
    key: 'iamRoles',
    name: 'IAM roles',
    scope: 'account',
    limit: 1_000,
    raisable: true,
    how: `${SQ('AWS Identity and Access Management (IAM)', 'Roles per account', 'L-FE177D64')}, up to 5,000`,
    code: 'L-FE177D64',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html',
    baseline: 5,
    baselineNote: 'CDK bootstrap: 5 roles (deploy, CloudFormation execution, file and image publishing, lookup); --existing-roles',
  },
  {
    key: 'iamManagedPolicies',
    name: 'IAM customer managed policies',
    scope: 'account',
    limit: 1_500,
    raisable: true,
    how: `${SQ('AWS Identity and Access Management (IAM)', 'Customer managed policies per account', 'L-E95E4862')}, up to 5,000`,
    code: 'L-E95E4862',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html',
    baseline: 0,
    baselineNote: 'CDK bootstrap creates none (its roles carry inline policies)',
  },
  {
    key: 'wafWebAcls',
    name: 'WAF web ACLs',
    scope: 'region',
    limit: 100,
    raisable: true,
    how: SQ('AWS WAF V2', 'Maximum web ACLs per account in WAF for regional'),
    source: 'https://docs.aws.amazon.com/waf/latest/developerguide/limits.html',
    baseline: 0,
    baselineNote: 'none',
  },
  {
    key: 'eventBridgeRules',
    name: 'EventBridge rules (default bus)',
    scope: 'event bus',
    limit: 300,
    raisable: true,
    how: SQ('Amazon EventBridge', 'Number of rules', 'L-244521F2'),
    code: 'L-244521F2',
    source: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
    baseline: 0,
    baselineNote: "none of ours; other tools' rules on the default bus count too",
  },
  {
    key: 'schedulerSchedules',
    name: 'EventBridge Scheduler schedules',
    scope: 'region',
    limit: 1_000_000,
    raisable: true,
    how: SQ('Amazon EventBridge Scheduler', 'Number of schedules'),
    source: 'https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html',
    baseline: 0,
    baselineNote: 'none',
  },
  {
    key: 'restApis',
    name: 'API Gateway regional REST APIs',
    scope: 'region',
    limit: 600,
    raisable: false,
    how: 'cannot be raised: put further sites in another account or region (README, Deploying a fleet)',
    source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html',
    baseline: 0,
    baselineNote: 'none of ours; any other regional REST API in the account and region counts',
  },
  {
    key: 'dynamoDbTables',
    name: 'DynamoDB tables',
    scope: 'region',
    limit: 2_500,
    raisable: true,
    how: SQ('Amazon DynamoDB', 'Maximum number of tables', 'L-F98FE922'),
    code: 'L-F98FE922',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html',
    baseline: 0,
    baselineNote: 'none',
  },
  {
    key: 'lambdaFunctions',
    name: 'Lambda functions',
    scope: 'region',
    limit: null,
    raisable: true,
    how: 'no count quota; code storage is the limit (next row)',
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
    baseline: 0,
    baselineNote: 'none',
  },
  {
    key: 'lambdaCodeBytes',
    name: 'Lambda code storage',
    scope: 'region',
    limit: 75 * 1024 ** 3,
    raisable: true,
    how: SQ('AWS Lambda', 'Function and layer storage', 'L-2ACBD22F'),
    code: 'L-2ACBD22F',
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
    baseline: 0,
    baselineNote: 'none',
    unit: 'bytes',
  },
  {
    key: 'alarms',
    name: 'CloudWatch alarms',
    scope: 'region',
    limit: null,
    raisable: true,
    how: 'no limit on the number of alarms per account (a metric-math alarm reads at most 10 metrics)',
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html',
    baseline: 0,
    baselineNote: 'none',
  },
  {
    key: 'dashboards',
    name: 'CloudWatch dashboards',
    scope: 'account',
    limit: 5_000,
    raisable: true,
    how: 'CloudWatch quotas page: up to 5,000 per account; ask AWS Support beyond',
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html',
    baseline: 0,
    baselineNote: 'none',
  },
  {
    key: 'stacks',
    name: 'CloudFormation stacks',
    scope: 'region',
    limit: 2_000,
    raisable: true,
    how: SQ('AWS CloudFormation', 'Stack count', 'L-0485CB21'),
    code: 'L-0485CB21',
    source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html',
    baseline: 1,
    baselineNote: 'CDK bootstrap: the CDKToolkit stack',
  },
  {
    key: 's3Buckets',
    name: 'S3 general purpose buckets',
    scope: 'account',
    limit: 10_000,
    raisable: true,
    how: SQ('Amazon Simple Storage Service (Amazon S3)', 'General purpose buckets', 'L-DC2B2D3D'),
    code: 'L-DC2B2D3D',
    source: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/BucketRestrictions.html',
    baseline: 1,
    baselineNote: 'CDK bootstrap: the staging bucket',
  },
  {
    key: 'snsTopics',
    name: 'SNS standard topics',
    scope: 'account',
    limit: 100_000,
    raisable: true,
    how: SQ('Amazon Simple Notification Service (Amazon SNS)', 'Topics per account', 'L-61103206'),
    code: 'L-61103206',
    source: 'https://docs.aws.amazon.com/general/latest/gr/sns.html',
    baseline: 0,
    baselineNote: 'none',
  },
  {
    key: 'sqsQueues',
    name: 'SQS queues',
    scope: 'region',
    limit: null,
    raisable: true,
    how: 'no count quota',
    source: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html',
    baseline: 0,
    baselineNote: 'none',
  },
  {
    key: 'kmsKeys',
    name: 'KMS customer managed keys',
    scope: 'region',
    limit: 100_000,
    raisable: true,
    how: SQ('AWS Key Management Service (AWS KMS)', 'Customer Master Keys (CMKs)'),
    source: 'https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html',
    baseline: 0,
    baselineNote: 'none',
  },
];

/** Shared rate quotas: oversubscribing them throttles requests under load; nothing fails to deploy. */
export const RATE_QUOTAS = {
  apiGatewayRequestsPerSecond: {
    limit: 10_000,
    raisable: true,
    how: SQ('Amazon API Gateway', 'Throttle rate', 'L-8A5B8E43'),
    source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html',
    note: 'account and region, across all APIs; some newer regions default to 2,500',
  },
  lambdaConcurrency: {
    limit: 1_000,
    raisable: true,
    how: SQ('AWS Lambda', 'Concurrent executions', 'L-B99A9384'),
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
    note: 'region, shared by every function; new accounts may start lower',
  },
} as const;
