import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { defineApp } from '../lib/app';
import type { CountKey } from './quotas';

/*
 * Counts come from synthesised CloudFormation templates, never typed in: what a stack holds (resource types,
 * alarms and the metrics each reads, dashboards and their metric lines, WAF rules, schedules), as the plan
 * needs it. A stack defineApp returns is a site; any other stack of the app (the account stack, the fleet
 * stack) is shared.
 */

type Resource = { Type: string; Properties?: Record<string, unknown> };
export type Template = { Resources?: Record<string, Resource> };

export interface ScheduledWork {
  /** The rule, schedule or subscription. */
  readonly id: string;
  /** Invocations a month of each target (a 730-hour month). null: a cron expression, not modelled. */
  readonly runsPerMonth: number | null;
  /** The Lambda functions it invokes, with their memory and architecture. */
  readonly functions: ReadonlyArray<{ id: string; memoryMb: number; arm: boolean }>;
  /** SNS topics of this stack it publishes to (a fleet tick). */
  readonly topics: number;
  readonly via: 'rule' | 'scheduler' | 'shared tick';
}

export interface StackCounts {
  readonly stack: string;
  readonly siteId?: string;
  readonly resources: number;
  readonly types: Readonly<Record<string, number>>;
  /** Quota counts, except code bytes (which need the bundle size: see plan.ts). */
  readonly quota: Readonly<Record<Exclude<CountKey, 'lambdaCodeBytes'>, number>>;
  readonly alarms: ReadonlyArray<{ id: string; metrics: number; highResolution: boolean; composite: boolean }>;
  /** Metric lines per dashboard; null when the body could not be read (then never counted as free). */
  readonly dashboards: ReadonlyArray<{ id: string; metrics: number | null }>;
  readonly webAcls: ReadonlyArray<{ id: string; rules: number }>;
  readonly scheduled: readonly ScheduledWork[];
  /** Lambda subscriptions to a topic defined in no stack of the site's own: the fleet's tick. */
  readonly tickSubscriptions: ReadonlyArray<{ id: string; function: { id: string; memoryMb: number; arm: boolean } | null }>;
  /** The stage-wide throttle (`/*` `/*`) of each REST API stage, requests a second. */
  readonly stageRatesPerSecond: readonly number[];
}

const MINUTES_PER_MONTH = 730 * 60;

/** `rate(5 minutes)` → runs a month; a cron expression → null (not modelled). */
export function runsPerMonth(expression: string): number | null {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!rate) return null;
  const minutes = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 }[rate[2] as 'minute'] * Number(rate[1]);
  return MINUTES_PER_MONTH / minutes;
}

/** The logical id a `Ref` / `Fn::GetAtt` points at, if the value is one. */
function target(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return v.Ref ?? v['Fn::GetAtt']?.[0];
}

/** A dashboard body as text: CloudFormation tokens inside it become a placeholder, so that the JSON parses. */
function bodyText(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  const join = (body as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (!join) return undefined;
  return join[1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(join[0]);
}

function dashboardMetrics(body: unknown): number | null {
  const text = bodyText(body);
  if (text === undefined) return null;
  try {
    const parsed = JSON.parse(text) as { widgets?: Array<{ properties?: { metrics?: unknown[] } }> };
    return (parsed.widgets ?? []).reduce((sum, widget) => sum + (widget.properties?.metrics?.length ?? 0), 0);
  } catch {
    return null;
  }
}

export function countTemplate(stack: string, template: Template, siteId?: string): StackCounts {
  const resources = template.Resources ?? {};
  const entries = Object.entries(resources);
  const types: Record<string, number> = {};
  for (const [, r] of entries) types[r.Type] = (types[r.Type] ?? 0) + 1;
  const n = (...names: string[]) => names.reduce((sum, name) => sum + (types[name] ?? 0), 0);
  const props = (r: Resource) => r.Properties ?? {};

  const fn = (id: string | undefined) => {
    const r = id === undefined ? undefined : resources[id];
    if (r?.Type !== 'AWS::Lambda::Function') return undefined;
    const p = props(r) as { MemorySize?: number; Architectures?: string[] };
    // CloudFormation's defaults when the template leaves them out: 128 MB, x86_64.
    return { id: id!, memoryMb: p.MemorySize ?? 128, arm: (p.Architectures ?? []).includes('arm64') };
  };

  const scheduled: ScheduledWork[] = [];
  const eventBridgeRules = entries.filter(([, r]) => {
    if (r.Type !== 'AWS::Events::Rule') return false;
    const bus = props(r).EventBusName;
    return bus === undefined || bus === 'default';
  }).length;
  for (const [id, r] of entries) {
    const p = props(r) as { ScheduleExpression?: string; Targets?: Array<{ Arn: unknown }>; Target?: { Arn: unknown } };
    if (typeof p.ScheduleExpression !== 'string') continue;
    if (r.Type !== 'AWS::Events::Rule' && r.Type !== 'AWS::Scheduler::Schedule') continue;
    const arns = (p.Targets ?? (p.Target ? [p.Target] : [])).map((t) => target(t.Arn));
    scheduled.push({
      id,
      runsPerMonth: runsPerMonth(p.ScheduleExpression),
      functions: arns.map(fn).filter((f) => f !== undefined),
      topics: arns.filter((a) => a !== undefined && resources[a]?.Type === 'AWS::SNS::Topic').length,
      via: r.Type === 'AWS::Events::Rule' ? 'rule' : 'scheduler',
    });
  }

  const tickSubscriptions = entries
    .filter(([, r]) => r.Type === 'AWS::SNS::Subscription' && props(r).Protocol === 'lambda')
    .filter(([, r]) => {
      const topic = target(props(r).TopicArn);
      return topic === undefined || resources[topic]?.Type !== 'AWS::SNS::Topic';
    })
    .map(([id, r]) => ({ id, function: fn(target(props(r).Endpoint)) ?? null }));

  const alarms = entries
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::CompositeAlarm')
    .map(([id, r]) => {
      const p = props(r) as { Metrics?: Array<{ MetricStat?: { Period?: number } }>; Period?: number };
      if (r.Type === 'AWS::CloudWatch::CompositeAlarm') return { id, metrics: 0, highResolution: false, composite: true };
      // A metric-math alarm is billed per metric it reads: its MetricStat entries, not its expressions.
      const stats = p.Metrics?.filter((m) => m.MetricStat !== undefined);
      const periods = stats ? stats.map((m) => m.MetricStat!.Period ?? 60) : [p.Period ?? 60];
      return { id, metrics: stats ? stats.length : 1, highResolution: periods.some((s) => s < 60), composite: false };
    });

  const stageRatesPerSecond = entries
    .filter(([, r]) => r.Type === 'AWS::ApiGateway::Stage')
    .map(([, r]) => {
      const settings = (props(r).MethodSettings ?? []) as Array<{
        HttpMethod?: string;
        ResourcePath?: string;
        ThrottlingRateLimit?: number;
      }>;
      const all = settings.find((s) => s.HttpMethod === '*' && s.ResourcePath === '/*');
      // No stage throttle: the account's whole rate is this stage's to take.
      return all?.ThrottlingRateLimit ?? 10_000;
    });

  return {
    stack,
    siteId,
    resources: entries.length,
    types,
    quota: {
      iamRoles: n('AWS::IAM::Role'),
      iamManagedPolicies: n('AWS::IAM::ManagedPolicy'),
      wafWebAcls: entries.filter(([, r]) => r.Type === 'AWS::WAFv2::WebACL' && props(r).Scope !== 'CLOUDFRONT').length,
      eventBridgeRules,
      schedulerSchedules: n('AWS::Scheduler::Schedule'),
      restApis: n('AWS::ApiGateway::RestApi'),
      dynamoDbTables: n('AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'),
      lambdaFunctions: n('AWS::Lambda::Function'),
      alarms: n('AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm'),
      dashboards: n('AWS::CloudWatch::Dashboard'),
      stacks: 1,
      s3Buckets: n('AWS::S3::Bucket'),
      snsTopics: n('AWS::SNS::Topic'),
      sqsQueues: n('AWS::SQS::Queue'),
      kmsKeys: n('AWS::KMS::Key'),
    },
    alarms,
    dashboards: entries
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard')
      .map(([id, r]) => ({ id, metrics: dashboardMetrics(props(r).DashboardBody) })),
    webAcls: entries
      .filter(([, r]) => r.Type === 'AWS::WAFv2::WebACL')
      .map(([id, r]) => ({ id, rules: ((props(r).Rules as unknown[] | undefined) ?? []).length })),
    scheduled,
    tickSubscriptions,
    stageRatesPerSecond,
  };
}

/** cdk.json as shipped: feature flags and the example sites. */
export function cdkContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;
}

export interface Synthesised {
  readonly sites: StackCounts[];
  readonly shared: StackCounts[];
  readonly seconds: number;
}

/**
 * Synthesises the app in-process (as `cdk synth` would, bundling skipped: code size is not read from the
 * templates) and counts every stack. `context` replaces keys of cdk.json's context, e.g. `sites`.
 */
export function synthesiseAndCount(context: Record<string, unknown> = {}): Synthesised {
  const started = performance.now();
  const outdir = mkdtempSync(join(tmpdir(), 'fleet-plan-'));
  try {
    const app = new App({ outdir, context: { ...cdkContext(), ...context, 'aws:cdk:bundling-stacks': [] } });
    const siteStacks = defineApp(app);
    const assembly = app.synth();
    const siteOf = new Map(siteStacks.map((s) => [s.artifactId, s.siteId]));
    const sites: StackCounts[] = [];
    const shared: StackCounts[] = [];
    for (const artifact of assembly.stacks) {
      const siteId = siteOf.get(artifact.id);
      const counts = countTemplate(artifact.stackName, artifact.template as Template, siteId);
      (siteId === undefined ? shared : sites).push(counts);
    }
    return { sites, shared, seconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A generated site: a copy of the first configured site under a new id (generated sites are identical). */
export function generatedSite(template: Record<string, unknown>, index = 1): Record<string, unknown> {
  const id = `fleet-${String(index).padStart(4, '0')}`;
  return { ...template, id, displayName: `Generated site ${id}` };
}
