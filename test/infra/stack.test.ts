import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { greaterThanPattern, MAX_BODY_BYTES } from '../../contract/limits';
import { MESSAGE_TYPES } from '../../contract/catalog';
import { defineApp } from '../../lib/app';
import { SITE_LOG_QUERIES, SITE_LOG_WIDGETS } from '../../lib/site-dashboard';
import { CDK_JSON } from './synth';
import type { CallbackStack } from '../../lib/callback-stack';
import { parseSites } from '../../lib/site-config';
import { EXAMPLES } from '../../testing/messages';

/*
 * The infrastructure, proven offline: assertion tests on the synthesised templates and the
 * cdk-nag AwsSolutions pack run as part of synthesis. Bundling is skipped here (`npm run
 * synth` does it for real).
 */

const SITES = [
  {
    id: 'mo-1',
    displayName: 'Больница № 1',
    example: true,
    senderCidrs: ['198.51.100.0/24', '203.0.113.7/32'],
    secretPathSegment: 'aaaaBBBBccccDDDD1234',
    alarmEmails: ['oncall@mo1.example'],
    retentionDays: 90,
    lpuAllowlist: ['20dfadd0-c709-43b0-a130-5a16301b0217'],
    dashboard: true,
  },
  {
    id: 'mo-2',
    displayName: 'Диспансер',
    allowAnySender: true,
    secretPathSegment: 'mo2SecretSegment0123',
    alarmEmails: [],
    retentionDays: 30,
    executionLogs: true,
    oversizeGuard: false,
    encryption: 'kms',
  },
];

const outdirs: string[] = [];
function synthApp(context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...CDK_JSON.context, sites: SITES, 'aws:cdk:bundling-stacks': [], ...context } });
  const stacks = defineApp(app);
  const assembly = app.synth(); // throws "Validation failed" on any unacknowledged cdk-nag error
  return { app, stacks, assembly, outdir };
}
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('sites configuration', () => {
  it('fails naming the site and the field', () => {
    expect(() => parseSites([{ ...SITES[0], id: 'MO 1' }])).toThrow(/site "MO 1": id: lower-case letters/);
    expect(() => parseSites([{ ...SITES[0], senderCidrs: ['198.51.100.0/33'] }])).toThrow(/site "mo-1": senderCidrs\[0\]: an IPv4 CIDR/);
    expect(() => parseSites([{ ...SITES[0], alarmEmails: ['not-mail'] }])).toThrow(/alarmEmails\[0\]: must be an e-mail address/);
    expect(() => parseSites([{ ...SITES[0], secretPathSegment: 'short' }])).toThrow(/secretPathSegment: 16-64/);
    expect(() => parseSites([{ ...SITES[0], colour: 'red' }])).toThrow(/colour/);
    expect(() => parseSites([SITES[0], SITES[0]])).toThrow(/site "mo-1": id: used by more than one site/);
    expect(() => parseSites(undefined)).toThrow(/non-empty list of sites/);
  });

  it('fails synth for a -c site that is not configured, listing the configured ones', () => {
    expect(() => synthApp({ site: 'mo-9' })).toThrow('-c site=mo-9: no such site; configured: mo-1, mo-2');
  });

  it('ships two example sites in cdk.json that pass validation', () => {
    expect(parseSites(CDK_JSON.context.sites)).toHaveLength(2);
  });

  it('ships examples that every example site accepts (its Lpu allowlist included)', () => {
    for (const site of parseSites(CDK_JSON.context.sites)) {
      if (site.lpuAllowlist.length === 0) continue;
      const allowed = new Set(site.lpuAllowlist.map((id) => id.toLowerCase()));
      for (const [type, example] of Object.entries(EXAMPLES))
        expect(allowed.has(String(example.Lpu).toLowerCase()), `${site.id} ${type}`).toBe(true);
    }
  });
});

describe('site stacks', () => {
  let stacks: CallbackStack[];
  let outdir: string;
  let site1: Template;
  let site2: Template;

  beforeAll(() => {
    ({ stacks, outdir } = synthApp());
    [site1, site2] = stacks.map((stack) => Template.fromStack(stack)) as [Template, Template];
  });

  it('makes one stack per site, with distinct names and nothing shared', () => {
    expect(stacks.map((s) => s.stackName)).toEqual(['N3Callback-mo-1', 'N3Callback-mo-2']);
    for (const template of [site1!, site2!]) {
      expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
    }
    const names = (t: Template) => Object.values(t.findResources('AWS::ApiGateway::RestApi')).map((r) => r.Properties.Name);
    expect([...names(site1!), ...names(site2!)]).toEqual(['n3-callback-mo-1', 'n3-callback-mo-2']);
  });

  it('synthesises only the named site with -c site', () => {
    const { stacks: only } = synthApp({ site: 'mo-2' });
    expect(only.map((s) => s.stackName)).toEqual(['N3Callback-mo-2']);
  });

  it('leaves no unacknowledged cdk-nag finding, errors or warnings', () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations?: unknown[] }>;
    };
    const nag = report.pluginReports.filter((r) => r.pluginName.startsWith('AwsSolutions'));
    expect(nag.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it('gives every acknowledged finding a reason, written into the template', () => {
    const acknowledged = Object.values(
      site1!.toJSON().Resources as Record<
        string,
        { Metadata?: { cdk_nag?: { rules_to_suppress: Array<{ id: string; reason: string }> } } }
      >,
    ).flatMap((resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? []);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(60);
    // APIG3 (no WAF) is met by the oversize guard; mo-2 turns it off and acknowledges it.
    expect(new Set(acknowledged.map((a) => a.id.replace(/\[.*$/, '')))).toEqual(
      new Set([
        'AwsSolutions-APIG2',
        'AwsSolutions-APIG4',
        'AwsSolutions-APIG6',
        'AwsSolutions-COG4',
        'AwsSolutions-IAM5',
        'AwsSolutions-SQS3',
      ]),
    );
  });

  it('runs cdk-nag on every stack: a non-compliant resource fails the synth', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
    outdirs.push(outdir);
    const app = new App({ outdir, context: { ...CDK_JSON.context, sites: SITES, 'aws:cdk:bundling-stacks': [] } });
    const [, second] = defineApp(app);
    new Bucket(second!, 'Leaky');
    expect(() => app.synth()).toThrow(/AwsSolutions/);
  });

  it('routes each of the six types to its own function, POST only, plus a catch-all', () => {
    const methods = site1!.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: 'POST' } });
    expect(Object.keys(methods)).toHaveLength(6);
    const integrated = Object.values(methods).map((m) => JSON.stringify(m.Properties.Integration.Uri));
    expect(new Set(integrated).size).toBe(6);
    for (const type of MESSAGE_TYPES) {
      site1!.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: type });
      expect(integrated.some((uri) => uri.includes(`Functions${type}`))).toBe(true);
    }
    site1!.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    site1!.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: SITES[0]!.secretPathSegment });
    site2!.resourcePropertiesCountIs('AWS::ApiGateway::Resource', { PathPart: SITES[0]!.secretPathSegment }, 0);
  });

  it('takes every body as binary, throttles the stage and keeps JSON access logs without bodies', () => {
    site1!.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: ['*/*'], EndpointConfiguration: { Types: ['REGIONAL'] } });
    site1!.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'n3',
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([Match.objectLike({ DataTraceEnabled: false, ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })]),
    });
  });

  it('keeps the secret path segment out of the access logs (no resource path, no path)', () => {
    const [stage] = Object.values(site1!.findResources('AWS::ApiGateway::Stage')) as Array<{
      Properties: { AccessLogSetting: { Format: string } };
    }>;
    const format = stage!.Properties.AccessLogSetting.Format;
    expect(format).toContain('$context.status');
    expect(format).not.toContain('$context.resourcePath');
    expect(format).not.toMatch(/\$context\.path\b/);
  });

  it('answers gateway errors in the ack shape', () => {
    for (const [type, status] of [
      ['MISSING_AUTHENTICATION_TOKEN', '404'],
      ['ACCESS_DENIED', '403'],
      ['REQUEST_TOO_LARGE', '413'],
      ['THROTTLED', '429'],
    ] as const) {
      site1!.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status,
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"MessageId":"","Message":".+","Status":"Failed"\\}$') },
      });
    }
    site1!.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'DEFAULT_5XX' });
  });

  it('has a resource policy allowing only the sender CIDRs, and no address rule where a site allows any sender', () => {
    site1!.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { NotIpAddress: { 'aws:SourceIp': ['198.51.100.0/24', '203.0.113.7/32'] } } }),
        ]),
      },
    });
    const [api2] = Object.values(site2!.findResources('AWS::ApiGateway::RestApi'));
    const statements = api2!.Properties.Policy.Statement as Array<{ Effect: string }>;
    expect(statements.map((s) => s.Effect)).toEqual(['Allow', 'Allow']);
    site2!.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'mo2SecretSegment0123' });
  });

  it('runs every function on nodejs24.x arm64 with the site environment', () => {
    const functions = site1!.findResources('AWS::Lambda::Function', {
      Properties: { Handler: Match.stringLikeRegexp('^(receive|sweep|project|documents)\\.') },
    });
    expect(
      Object.values(functions)
        .map((f) => f.Properties.Handler)
        .sort(),
    ).toEqual(
      [...[...MESSAGE_TYPES, 'Fallback'].map((h) => `receive.${h}`), 'sweep.Sweep', 'project.Project', 'documents.Documents'].sort(),
    );
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining(['SITE_ID', 'TABLE_NAME', 'QUEUE_URL', 'BUCKET_NAME', 'RETENTION_DAYS', 'LPU_ALLOWLIST']),
      );
      expect(fn.Properties.Environment.Variables.SITE_ID).toBe('mo-1');
    }
    // At most one Sweep per site: it ends before the next one-minute tick, and a failed or late run is not retried.
    site1!.hasResourceProperties('AWS::Lambda::Function', { Handler: 'sweep.Sweep', Timeout: 40 });
    const sweepInvokeConfigs = Object.values(site1!.findResources('AWS::Lambda::EventInvokeConfig')).filter((config) =>
      /^FunctionsSweep/.test(String(config.Properties.FunctionName?.Ref)),
    );
    expect(sweepInvokeConfigs.map((config) => config.Properties)).toEqual([
      expect.objectContaining({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 }),
    ]);
    // Reserving concurrency fails stack creation on accounts with a low quota; overlapping sweeps are safe without it.
    for (const template of [site1!, site2!]) {
      template.resourcePropertiesCountIs('AWS::Lambda::Function', { ReservedConcurrentExecutions: Match.anyValue() }, 0);
      expect(JSON.stringify(template.toJSON())).not.toContain('ReservedConcurrentExecutions');
    }
    // The schedule is the fleet's tick (one rule for every site): a site subscribes its Sweep to this account's
    // topic of that name (built, not read from a parameter anyone could write), and owns no rule.
    for (const template of [site1!, site2!]) {
      template.resourceCountIs('AWS::Events::Rule', 0);
      template.resourceCountIs('AWS::Scheduler::Schedule', 0);
      const [tick] = Object.values(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'lambda' } }));
      expect(JSON.stringify(tick!.Properties.TopicArn)).toBe(
        JSON.stringify({
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':sns:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':n3-callback-fleet-tick'],
          ],
        }),
      );
      expect(tick!.Properties.Endpoint).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FunctionsSweep/), 'Arn'] });
    }
  });

  it('grants each function exactly the actions it uses', () => {
    const actionsOf = (role: string) => {
      const policies = site1!.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^Functions${role}Role`) }] },
      });
      return Object.values(policies)
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>)
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
        .sort();
    };
    const receiver = [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:DeleteObject',
      's3:PutObject',
      's3:PutObject',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ];
    // Four roles: the seven receiving functions share one, as they share every grant; the others have their own.
    const lambdaRoles = Object.keys(
      site1!.findResources('AWS::IAM::Role', {
        Properties: {
          AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
        },
      }),
    );
    expect(lambdaRoles.map((id) => id.replace(/Role[0-9A-F]{8}$/, '')).sort()).toEqual(
      ['FunctionsIngest', 'FunctionsSweep', 'FunctionsProject', 'FunctionsDocuments'].sort(),
    );
    expect(actionsOf('Ingest')).toEqual(receiver);
    const roleOf = (handler: string) =>
      Object.values(site1!.findResources('AWS::Lambda::Function', { Properties: { Handler: `receive.${handler}` } }))[0]!.Properties.Role;
    for (const name of [...MESSAGE_TYPES, 'Fallback']) expect(JSON.stringify(roleOf(name)), name).toContain('"FunctionsIngestRole');
    // …and writes exactly their seven log groups, nothing else's.
    const ingestLogWrites = Object.values(
      site1!.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^FunctionsIngestRole') }] } }),
    )
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string[]; Resource: unknown }>)
      .filter((statement) => JSON.stringify(statement.Action).includes('logs:'))
      .flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]))
      .map((resource) => JSON.stringify(resource).match(/Functions(\w+?)Logs/)![1])
      .sort();
    expect(ingestLogWrites).toEqual([...MESSAGE_TYPES, 'Fallback'].sort());
    expect(actionsOf('Project')).toEqual(
      [
        'dynamodb:DescribeStream',
        'dynamodb:GetItem',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
        'dynamodb:PutItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(actionsOf('Documents')).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    // Reconcile (pending index, the records, the queue) and the silence count (due index, documents: reads).
    expect(actionsOf('Sweep')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    // No AWS-managed policies on function roles: each writes only its own log group.
    for (const role of Object.values(
      site1!.findResources('AWS::IAM::Role', {
        Properties: {
          AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
        },
      }),
    )) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('keeps the table keyed by MessageId, with the pending and by-day indexes, TTL, PITR, and retained', () => {
    site1!.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'MessageId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: [
          {
            IndexName: 'pending',
            KeySchema: [
              { AttributeName: 'pendingPartition', KeyType: 'HASH' },
              { AttributeName: 'pendingSince', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
          {
            IndexName: 'arrivals',
            KeySchema: [
              { AttributeName: 'receivedDay', KeyType: 'HASH' },
              { AttributeName: 'receivedAt', KeyType: 'RANGE' },
            ],
            Projection: {
              ProjectionType: 'INCLUDE',
              NonKeyAttributes: ['messageType', 'status', 'lpu', 'documentKey', 'payloadBytes'],
            },
          },
        ],
      }),
    });
  });

  it("keeps version 1's by-day index only while a site moves (one index added or removed per deploy)", () => {
    const { stacks } = synthApp({ sites: [{ ...SITES[1], v1DayIndex: true }] });
    const [table] = Object.values(Template.fromStack(stacks[0]!).findResources('AWS::DynamoDB::Table'));
    expect(table!.Properties.GlobalSecondaryIndexes.map((i: { IndexName: string }) => i.IndexName)).toEqual([
      'pending',
      'arrivals',
      'byDay',
    ]);
  });

  it('has a high-throughput FIFO queue with SSE and a FIFO dead-letter queue after 5 receives', () => {
    site1!.resourceCountIs('AWS::SQS::Queue', 3); // MIS queue, its DLQ, the projector's failure queue
    site1!.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      FifoThroughputLimit: 'perMessageGroupId',
      DeduplicationScope: 'messageGroup',
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    site1!.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('keeps the bucket private, encrypted, TLS-only, and expiring after the retention days', () => {
    site1!.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'mo-1/', ExpirationInDays: 90 }),
          Match.objectLike({ Prefix: 'rejected/', ExpirationInDays: 90 }),
        ]),
      },
      LoggingConfiguration: Match.anyValue(),
    });
  });

  it('alarms on 5xx, sweep errors, dead letters, consumer lag, pending, undeliverable, rejections, silence and projection, to the site topic', () => {
    const alarms = Object.values(site1!.findResources('AWS::CloudWatch::Alarm'));
    const names = (template: Template) =>
      Object.keys(template.findResources('AWS::CloudWatch::Alarm'))
        .map((id) => id.replace(/^Monitoring/, '').replace(/[0-9A-F]{8}$/, ''))
        .sort();
    const expected = [
      'Api5xx',
      'SweepErrors',
      'SweepNotRunning',
      'DeadLetters',
      'ConsumerLag',
      'Pending',
      'Undeliverable',
      'Rejected',
      'RejectedNotKept',
      'SilentDocuments',
      'ProjectionFailures',
      'SenderRefused',
    ].sort();
    expect(names(site1!)).toEqual(expected);
    // The kms site (mo-2) also alarms on its key (below).
    expect(names(site2!)).toEqual([...expected, 'KeyUnusable'].sort());
    // One metric each: CloudWatch bills every metric an alarm reads ($0.10 a month), a sum of seven as seven.
    // SenderRefused reads two (refused and answered, from the access log: test/infra/refusals.test.ts).
    for (const [id, alarm] of Object.entries(site1!.findResources('AWS::CloudWatch::Alarm'))) {
      const read = (alarm.Properties.Metrics as Array<{ MetricStat?: unknown }> | undefined)?.filter((m) => m.MetricStat) ?? [alarm];
      expect(read, id).toHaveLength(id.startsWith('MonitoringSenderRefused') ? 2 : 1);
    }
    const siteWide = (metricName: string) =>
      Match.objectLike({
        MetricStat: Match.objectLike({
          Metric: {
            Namespace: 'N3Callback',
            MetricName: metricName,
            Dimensions: [
              { Name: 'service', Value: 'n3-callback' },
              { Name: 'site', Value: 'mo-1' },
            ],
          },
          Stat: 'Sum',
        }),
      });
    site1!.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('UNDELIVERABLE'),
      Metrics: [siteWide('undeliverable')],
      Threshold: 0,
    });
    site1!.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('callbacks were rejected .*n3-callback rejected --site mo-1 --since 1h'),
      Metrics: [siteWide('rejected')],
    });
    site1!.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('could not be kept'),
      Metrics: [siteWide('rejectedNotKept')],
    });
    site1!.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^FunctionsSweep') } }],
    });
    site1!.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('n3-callback silent --site mo-1'),
      EvaluationPeriods: 12,
      Threshold: 0,
    });
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    site1!.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
    site1!.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'PendingCount', EvaluationPeriods: 10, Threshold: 0 });
    site1!.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@mo1.example' });
    // A dashboard of its own only where the site asks (mo-1); every site is on the fleet dashboard.
    site1!.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'n3-callback-mo-1' });
    site2!.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    site2!.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'email' }, 0);
  });

  it('describes every alarm with the site (name and id), what it means and the one command to look with, within CloudWatch’s 1,024 characters', () => {
    // References (log group and queue names) as a marker; their real names are at most this long.
    const text = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const o = value as { Ref?: string; 'Fn::GetAtt'?: string[]; 'Fn::Join'?: [string, unknown[]] };
      if (o['Fn::Join']) return o['Fn::Join'][1].map(text).join(o['Fn::Join'][0]);
      return `(ref ${o.Ref ?? o['Fn::GetAtt']?.join('.')})`;
    };
    const LOOK =
      /(n3-callback [a-z]+ --site (mo-1|mo-2)\b|npm run fleet -- doctor --site (mo-1|mo-2)\b|aws [a-z]+ [a-z-]+ |CloudWatch Logs Insights)/;
    for (const [template, id, name] of [
      [site1!, 'mo-1', SITES[0]!.displayName],
      [site2!, 'mo-2', SITES[1]!.displayName],
    ] as const) {
      const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms.length).toBeGreaterThanOrEqual(12);
      for (const [logicalId, alarm] of alarms) {
        const description = text(alarm.Properties.AlarmDescription);
        expect(description.startsWith(`${name} (site ${id}): `), `${logicalId}: ${description}`).toBe(true);
        expect(description, logicalId).toMatch(LOOK);
        // Every CLI command it gives names this site, never the other.
        for (const [command] of description.matchAll(/n3-callback [a-z]+[^.;]*/g))
          expect(command, `${logicalId}: ${command}`).toContain(`--site ${id}`);
        expect(description.replace(/\(ref [^)]*\)/g, 'x'.repeat(120)).length, logicalId).toBeLessThanOrEqual(1024);
      }
    }
  });

  it('breaks callbacks down by type, outcome and cause from the receivers’ logs (Logs Insights), and reads every metric of ours site-wide', () => {
    const [dashboard] = Object.values(site1!.findResources('AWS::CloudWatch::Dashboard'));
    const parts = dashboard!.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part).replace(/"/g, "'"))).join('')) as {
      widgets: Array<{ type: string; properties: { query?: string; metrics?: unknown[][] } }>;
    };
    const queries = body.widgets.filter((w) => w.type === 'log').map((w) => w.properties.query!);
    expect(queries).toHaveLength(SITE_LOG_WIDGETS);
    const receiverLogs = Object.keys(site1!.findResources('AWS::Logs::LogGroup')).filter((id) =>
      [...MESSAGE_TYPES, 'Fallback'].some((name) => id.startsWith(`Functions${name}Logs`)),
    );
    expect(receiverLogs).toHaveLength(MESSAGE_TYPES.length + 1);
    for (const key of ['outcomesByType', 'rejectedByCause', 'latestRejected'] as const) {
      const query = queries.find((q) => q.includes(SITE_LOG_QUERIES[key].join('\n| ')));
      expect(query, key).toBeDefined();
      // Over the seven receivers' log groups, each named in the widget's SOURCE.
      for (const id of receiverLogs) expect(query, `${key} reads ${id}`).toContain(id);
    }
    expect(queries.find((q) => q.includes(SITE_LOG_QUERIES.remdByDay.join('\n| ')))).toMatch(/FunctionsProjectLogs/);
    // Our metrics, on the dashboard as in the alarms: service and site only, never a per-type series.
    const ours = body.widgets.flatMap((w) => w.properties.metrics ?? []).filter((row) => row[0] === 'N3Callback');
    expect(ours.length).toBeGreaterThan(0);
    for (const row of ours) expect(row.slice(2, 6), String(row[1])).toEqual(['service', 'n3-callback', 'site', 'mo-1']);
    expect(JSON.stringify(site1!.toJSON())).not.toContain('MessageType');
  });

  it('outputs what an integration engineer needs', () => {
    const outputs = Object.keys(site1!.toJSON().Outputs);
    expect(outputs).toEqual(
      expect.arrayContaining(['CallbackBaseUrl', 'QueueUrl', 'DlqUrl', 'TableName', 'BucketName', 'DashboardName', 'ConsumerPolicyArn']),
    );
    // The secret segment stays out of outputs (anyone who may describe the stack reads them): a placeholder.
    expect(JSON.stringify(site1!.toJSON().Outputs.CallbackBaseUrl.Value)).toContain('/<secretPathSegment>/');
    expect(JSON.stringify(site1!.toJSON().Outputs)).not.toContain(SITES[0]!.secretPathSegment);
  });

  it('gives the MIS consumer only receive, delete and visibility on its queue, and reads of payloads', () => {
    site1!.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
          }),
          Match.objectLike({ Action: 's3:GetObject' }),
          Match.objectLike({ Action: 'execute-api:Invoke' }),
        ],
      },
    });
  });

  it("encrypts a site's tables, queues and payload bucket with its own rotated, retained key where it asks (encryption: 'kms')", () => {
    site1!.resourceCountIs('AWS::KMS::Key', 0);
    site2!.resourceCountIs('AWS::KMS::Key', 1);
    const [keyId] = Object.keys(site2!.findResources('AWS::KMS::Key'));
    const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
    site2!.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ EnableKeyRotation: true }) });
    site2!.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/n3-callback-mo-2' });
    const tables = Object.values(site2!.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(2);
    for (const table of tables)
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn });
    const queues = Object.values(site2!.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(3);
    for (const queue of queues) expect(queue.Properties.KmsMasterKeyId).toEqual(keyArn);
    site2!.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } },
        ],
      },
      LifecycleConfiguration: Match.anyValue(),
    });
  });

  it("lets only the site's functions and its consumer policy use its key", () => {
    const [keyId] = Object.keys(site2!.findResources('AWS::KMS::Key'));
    // The key policy only lets the account administer the key through IAM; no principal is named in it.
    const [key] = Object.values(site2!.findResources('AWS::KMS::Key'));
    const keyStatements = key!.Properties.KeyPolicy.Statement as Array<{ Action: string; Principal: unknown }>;
    expect(keyStatements).toHaveLength(1);
    expect(JSON.stringify(keyStatements[0]!.Principal)).toContain(':root');
    // Every IAM statement on the key: a site function's role, or the consumer policy (decrypt only).
    const functionRoles = new Set(
      Object.values(
        site2!.findResources('AWS::Lambda::Function', {
          Properties: { Handler: Match.stringLikeRegexp('^(receive|sweep|project|documents)\\.') },
        }),
      ).map((fn) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]),
    );
    const grantees: string[] = [];
    for (const [id, policy] of Object.entries({
      ...site2!.findResources('AWS::IAM::Policy'),
      ...site2!.findResources('AWS::IAM::ManagedPolicy'),
    })) {
      const statements = (policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>).filter(
        (st) => JSON.stringify(st.Resource).includes(keyId!),
      );
      if (statements.length === 0) continue;
      if (policy.Type === 'AWS::IAM::ManagedPolicy') {
        expect(id).toMatch(/^ConsumerPolicy/);
        expect(statements.map((st) => st.Action)).toEqual(['kms:Decrypt']);
        grantees.push('consumer');
        continue;
      }
      const roles = (policy.Properties.Roles as Array<{ Ref: string }>).map((r) => r.Ref);
      for (const role of roles) expect(functionRoles.has(role), role).toBe(true);
      grantees.push(...roles);
    }
    // All eleven functions use the key (each reads or writes a table, the queue or the bucket), and the consumer.
    expect(new Set(grantees)).toEqual(new Set([...functionRoles, 'consumer']));
  });

  it("alarms when a kms site's own key cannot be used (KeyUnusable, counted by its functions), and only on a kms site", () => {
    site2!.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp("the site's KMS key cannot be used .*alias/n3-callback-mo-2"),
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'N3Callback',
              MetricName: 'KeyUnusable',
              Dimensions: [
                { Name: 'service', Value: 'n3-callback' },
                { Name: 'site', Value: 'mo-2' },
              ],
            },
            Stat: 'Sum',
          }),
        }),
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [Match.anyValue()],
    });
    site1!.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('KMS key') }, 0);
  });

  it('serves the document API on IAM auth, outside the sender CIDR rule, to this account only', () => {
    const methods = Object.values(site1!.findResources('AWS::ApiGateway::Method', { Properties: { AuthorizationType: 'AWS_IAM' } }));
    expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'GET', 'PUT']);
    const [api] = Object.values(site1!.findResources('AWS::ApiGateway::RestApi'));
    const statements = api!.Properties.Policy.Statement as Array<Record<string, unknown>>;
    const deny = statements.find((s) => s.Effect === 'Deny')!;
    expect(deny.NotResource).toEqual(['execute-api:/*/*/documents', 'execute-api:/*/*/documents/*']);
    const documentsAllow = statements.find((s) => s.Effect === 'Allow' && s.Resource)!;
    expect(JSON.stringify(documentsAllow.Principal)).toContain(':root');
    site1!.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
    });
    site1!.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
    expect(Object.keys(site1!.toJSON().Outputs)).toEqual(expect.arrayContaining(['DocumentsApiUrl', 'DocumentsTableName']));
  });
});

/*
 * Finding (issue 24, 6): switching a site from `kms` back to `aws-managed` dropped the key's grants while queued
 * messages and payloads were still encrypted with it. Leaving `kms` now goes through `kms-retiring`, which keeps
 * the very key, decrypt only, and says so at every synth.
 */
describe("leaving a site's own key (encryption: 'kms-retiring')", () => {
  let kms: Template;
  let retiring: Template;
  let retiringStack: CallbackStack;

  beforeAll(() => {
    const site = { ...SITES[1]!, id: 'mo-3', encryption: 'kms-retiring' };
    retiringStack = synthApp({ sites: [site] }).stacks[0]!;
    retiring = Template.fromStack(retiringStack);
    kms = Template.fromStack(synthApp({ site: 'mo-2' }).stacks[0]!);
  });

  const keyIds = (template: Template) => Object.keys(template.findResources('AWS::KMS::Key'));

  it('keeps the very key resource a kms site has (the same logical id, retained, its alias)', () => {
    expect(keyIds(retiring)).toHaveLength(1);
    expect(keyIds(retiring)).toEqual(keyIds(kms));
    retiring.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    retiring.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/n3-callback-mo-3' });
  });

  it('encrypts nothing new with it: tables, queues and bucket back on the services’ own encryption', () => {
    const [keyId] = keyIds(retiring);
    for (const table of Object.values(retiring.findResources('AWS::DynamoDB::Table')))
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    for (const queue of Object.values(retiring.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties.KmsMasterKeyId).toBeUndefined();
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
    for (const bucket of Object.values(retiring.findResources('AWS::S3::Bucket')))
      expect(JSON.stringify(bucket.Properties.BucketEncryption)).not.toContain(keyId!);
  });

  it('keeps decrypt, and only decrypt, for the consumer and the functions that read the site’s data', () => {
    const [keyId] = keyIds(retiring);
    const onKey: Array<{ policy: string; actions: string[] }> = [];
    for (const [id, policy] of Object.entries({
      ...retiring.findResources('AWS::IAM::Policy'),
      ...retiring.findResources('AWS::IAM::ManagedPolicy'),
    })) {
      for (const st of policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>) {
        if (JSON.stringify(st.Resource).includes(keyId!)) onKey.push({ policy: id, actions: [st.Action].flat() });
      }
    }
    const consumer = onKey.filter((g) => g.policy.startsWith('ConsumerPolicy'));
    expect(consumer.map((g) => g.actions)).toEqual([['kms:Decrypt']]);
    // The four roles that read the tables, the stream or the queue's data: the receivers', the Sweep's, the projector's, the document API's.
    const roles = onKey.filter((g) => !g.policy.startsWith('ConsumerPolicy'));
    expect(roles.map((g) => g.policy.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'FunctionsDocumentsRoleDefaultPolicy',
      'FunctionsIngestRoleDefaultPolicy',
      'FunctionsProjectRoleDefaultPolicy',
      'FunctionsSweepRoleDefaultPolicy',
    ]);
    for (const grant of roles) expect(grant.actions.sort(), grant.policy).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
  });

  it('says so at synth, in one warning line naming the key and when it may go', () => {
    const warnings = Annotations.fromStack(retiringStack).findWarning('*', Match.anyValue());
    const texts = warnings.map((w) => String(w.entry.data));
    const line = texts.find((t) => t.includes('kms-retiring'));
    expect(line).toMatch(
      /^site mo-3: "encryption": "kms-retiring" keeps the key alias\/n3-callback-mo-3, decrypt only, .*35 days after the deploy that set it, set "aws-managed" and schedule the key's deletion/,
    );
    expect(line).not.toContain('\n');
  });

  it('has no KeyUnusable alarm: no function uses the key any more', () => {
    retiring.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('KMS key') }, 0);
  });
});

describe('what can stop a first deploy', () => {
  it('synthesises region- and account-agnostic templates even when the CLI fills in a default region', () => {
    const saved = { region: process.env.CDK_DEFAULT_REGION, account: process.env.CDK_DEFAULT_ACCOUNT };
    Object.assign(process.env, { CDK_DEFAULT_REGION: 'us-east-1', CDK_DEFAULT_ACCOUNT: '123456789012' });
    try {
      const { assembly } = synthApp();
      expect(assembly.stacks.length).toBe(4);
      for (const stack of assembly.stacks) {
        const text = JSON.stringify(stack.template);
        expect(text, stack.stackName).not.toContain('us-east-1');
        expect(text, stack.stackName).not.toContain('123456789012');
        expect(stack.environment.region).toBe('unknown-region');
      }
    } finally {
      for (const [key, value] of [
        ['CDK_DEFAULT_REGION', saved.region],
        ['CDK_DEFAULT_ACCOUNT', saved.account],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("keeps every log group the stack owns for the site's retention", () => {
    const { stacks } = synthApp();
    for (const [stack, days] of [
      [stacks[0]!, 90],
      [stacks[1]!, 30],
    ] as const) {
      const groups = Object.values(Template.fromStack(stack).findResources('AWS::Logs::LogGroup'));
      expect(groups.length).toBeGreaterThanOrEqual(9); // 8 functions + access logs (+ execution logs)
      for (const group of groups) expect(group.Properties.RetentionInDays).toBe(days);
    }
  });

  it('leaves the account-wide API Gateway role to one stack; execution logs only where a site asks, into a group it owns', () => {
    const { assembly, stacks } = synthApp();
    const [site1, site2] = stacks.map((stack) => Template.fromStack(stack)) as [Template, Template];
    for (const site of [site1, site2]) site.resourceCountIs('AWS::ApiGateway::Account', 0);
    const account = assembly.getStackByName('N3Callback-account').template as { Resources: Record<string, { Type: string }> };
    expect(Object.values(account.Resources).filter((r) => r.Type === 'AWS::ApiGateway::Account')).toHaveLength(1);

    site1.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: Match.arrayWith([Match.objectLike({ LoggingLevel: 'OFF' })]) });
    site2.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ LoggingLevel: 'ERROR' })]),
    });
    const named = Object.values(site2.findResources('AWS::Logs::LogGroup')).filter((g) => g.Properties.LogGroupName);
    expect(JSON.stringify(named[0]?.Properties.LogGroupName)).toMatch(/API-Gateway-Execution-Logs_.*\/n3/);
  });

  it('deploys the account stack only with the whole app, not with -c site', () => {
    const { assembly } = synthApp({ site: 'mo-1' });
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['N3Callback-mo-1']);
  });
});

describe('bodies the gateway takes but Lambda cannot', () => {
  it("associates each guarded site's stage with the fleet's WAF web ACL, read from SSM at deploy time", () => {
    const { stacks } = synthApp();
    const [site1, site2] = stacks.map((stack) => Template.fromStack(stack)) as [Template, Template];
    site1.resourceCountIs('AWS::WAFv2::WebACL', 0);
    site1.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { Ref: Match.stringLikeRegexp('^SsmParameterValuen3callbackfleetwebaclarn') },
      ResourceArn: Match.anyValue(),
    });
    site2.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0); // oversizeGuard: false
  });

  it('builds the WAF pattern to match exactly the numbers above the limit', () => {
    const pattern = new RegExp(greaterThanPattern(MAX_BODY_BYTES));
    fc.assert(
      fc.property(fc.nat({ max: 100 * MAX_BODY_BYTES }), (n) => pattern.test(String(n)) === n > MAX_BODY_BYTES),
      { numRuns: 5_000 },
    );
    for (const n of [MAX_BODY_BYTES - 1, MAX_BODY_BYTES, MAX_BODY_BYTES + 1, 9_999_999, 10_000_000]) {
      expect(pattern.test(String(n))).toBe(n > MAX_BODY_BYTES);
    }
    for (const limit of [0, 9, 10, 99, 4_500_000]) {
      const re = new RegExp(greaterThanPattern(limit));
      fc.assert(fc.property(fc.nat({ max: 10 * limit + 100 }), (n) => re.test(String(n)) === n > limit));
    }
  });
});
