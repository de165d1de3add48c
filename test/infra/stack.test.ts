import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_TYPES } from '../../lambdas/protocol/catalog';
import { defineApp } from '../../lib/app';
import type { CallbackStack } from '../../lib/callback-stack';
import { parseSites } from '../../lib/site-config';

/*
 * The infrastructure, proven offline: assertion tests on the synthesised templates and the
 * cdk-nag AwsSolutions pack run as part of synthesis. Bundling is skipped here (`npm run
 * synth` does it for real).
 */

const SITES = [
  {
    id: 'mo-1',
    displayName: 'Больница № 1',
    senderCidrs: ['198.51.100.0/24', '203.0.113.7/32'],
    secretPathSegment: 'aaaaBBBBccccDDDD1234',
    alarmEmails: ['oncall@mo1.example'],
    retentionDays: 90,
    lpuAllowlist: ['20dfadd0-c709-43b0-a130-5a16301b0217'],
  },
  { id: 'mo-2', displayName: 'Диспансер', alarmEmails: [] },
];

// The same feature flags the CLI gets from cdk.json, with the test's own sites.
const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

const outdirs: string[] = [];
function synthApp(context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...CDK_JSON.context, sites: SITES, 'aws:cdk:bundling-stacks': [], ...context } });
  const stacks = defineApp(app);
  const assembly = app.synth(); // throws "Validation failed" on any unacknowledged cdk-nag error
  return { app, stacks, assembly, outdir };
}
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('sites configuration', () => {
  it('fails naming the site and the field', () => {
    expect(() => parseSites([{ ...SITES[0], id: 'MO 1' }])).toThrow(/site "MO 1": id: lower-case letters/);
    expect(() => parseSites([{ ...SITES[0], senderCidrs: ['198.51.100.0/33'] }])).toThrow(/site "mo-1": senderCidrs.0: an IPv4 CIDR/);
    expect(() => parseSites([{ ...SITES[0], alarmEmails: ['not-mail'] }])).toThrow(/alarmEmails.0: an e-mail address/);
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
    const acknowledged = Object.values(site1!.toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: Array<{ id: string; reason: string }> } } }>)
      .flatMap((resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? []);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(60);
    expect(new Set(acknowledged.map((a) => a.id.replace(/\[.*$/, '')))).toEqual(
      new Set(['AwsSolutions-APIG2', 'AwsSolutions-APIG3', 'AwsSolutions-APIG4', 'AwsSolutions-COG4', 'AwsSolutions-IAM4', 'AwsSolutions-IAM5']),
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

  it('answers gateway errors in the ack shape', () => {
    for (const [type, status] of [['MISSING_AUTHENTICATION_TOKEN', '404'], ['ACCESS_DENIED', '403'], ['REQUEST_TOO_LARGE', '413'], ['THROTTLED', '429']] as const) {
      site1!.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status,
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"MessageId":"","Message":".+","Status":"Failed"\\}$') },
      });
    }
    site1!.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'DEFAULT_5XX' });
  });

  it('has a resource policy allowing only the sender CIDRs, and none where no CIDRs are set', () => {
    site1!.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { NotIpAddress: { 'aws:SourceIp': ['198.51.100.0/24', '203.0.113.7/32'] } } }),
        ]),
      },
    });
    const [api2] = Object.values(site2!.findResources('AWS::ApiGateway::RestApi'));
    expect(api2!.Properties.Policy).toBeUndefined();
  });

  it('runs every function on nodejs24.x arm64 with the site environment', () => {
    const functions = site1!.findResources('AWS::Lambda::Function', { Properties: { Handler: Match.stringLikeRegexp('^index\\.') } });
    expect(Object.values(functions).map((f) => f.Properties.Handler).sort()).toEqual(
      [...MESSAGE_TYPES, 'Fallback', 'Reconcile'].map((h) => `index.${h}`).sort(),
    );
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining(['SITE_ID', 'TABLE_NAME', 'QUEUE_URL', 'BUCKET_NAME', 'RETENTION_DAYS', 'LPU_ALLOWLIST']),
      );
      expect(fn.Properties.Environment.Variables.SITE_ID).toBe('mo-1');
    }
    site1!.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.Reconcile', ReservedConcurrentExecutions: 1 });
    site1!.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it('grants each function exactly the actions it uses', () => {
    const actionsOf = (role: string) => {
      const policies = site1!.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^Functions${role}Role`) }] } });
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
    for (const name of [...MESSAGE_TYPES, 'Fallback']) expect(actionsOf(name)).toEqual(receiver);
    expect(actionsOf('Reconcile')).toEqual([
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
    for (const role of Object.values(site1!.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }) } }))) {
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
            IndexName: 'byDay',
            KeySchema: [
              { AttributeName: 'receivedDay', KeyType: 'HASH' },
              { AttributeName: 'receivedAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['messageType', 'state', 'status', 'lpu', 'documentKey', 'payloadBytes'] },
          },
        ],
      }),
    });
  });

  it('has a high-throughput FIFO queue with SSE and a FIFO dead-letter queue after 5 receives', () => {
    site1!.resourceCountIs('AWS::SQS::Queue', 2);
    site1!.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      FifoThroughputLimit: 'perMessageGroupId',
      DeduplicationScope: 'messageGroup',
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    site1!.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('keeps the bucket private, encrypted, TLS-only, and expiring after the retention days', () => {
    site1!.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
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

  it('alarms on 5xx, function errors, dead letters, consumer lag, pending and rejections, to the site topic', () => {
    const alarms = Object.values(site1!.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(1 + 8 + 4);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    site1!.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
    site1!.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'PendingCount', EvaluationPeriods: 10, Threshold: 0 });
    site1!.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@mo1.example' });
    site1!.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'n3-callback-mo-1' });
    site2!.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('outputs what an integration engineer needs', () => {
    const outputs = Object.keys(site1!.toJSON().Outputs);
    expect(outputs).toEqual(
      expect.arrayContaining(['CallbackBaseUrl', 'QueueUrl', 'DlqUrl', 'TableName', 'BucketName', 'DashboardName', 'ConsumerPolicyArn']),
    );
    expect(JSON.stringify(site1!.toJSON().Outputs.CallbackBaseUrl.Value)).toContain(`${SITES[0]!.secretPathSegment}/`);
  });

  it('gives the MIS consumer only receive, delete and visibility on its queue, and reads of payloads', () => {
    site1!.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'] }),
          Match.objectLike({ Action: 's3:GetObject' }),
        ],
      },
    });
  });
});
