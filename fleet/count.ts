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
  /**
   * Each REST API stage's request bound, requests a second: the sum over its methods of each one's throttle, since
   * API Gateway applies the stage's default throttle to every method separately (a site without a secret segment has 8 callback methods: at 100, 800).
   */
  readonly stageRatesPerSecond: readonly number[];
  readonly concurrency: StackConcurrency;
}

/** A function the stack's REST API invokes, and what it can hold of the account's concurrency. */
export interface ApiFunction {
  readonly id: string;
  readonly timeoutSeconds: number;
  /** Its reserved concurrency; null: none (it draws on the account's unreserved pool). */
  readonly reserved: number | null;
  /** The methods that invoke it, each with its throttle. */
  readonly methods: ReadonlyArray<{ readonly method: string; readonly rate: number; readonly burst: number }>;
  /**
   * The most it can run at once without a reservation: over its methods, burst + rate × timeout (a token bucket lets
   * at most that many requests in during one timeout, each of which may run that long).
   */
  readonly bound: number;
}

export interface StackConcurrency {
  readonly apiFunctions: readonly ApiFunction[];
  /** ReservedConcurrentExecutions summed over every function of the stack. */
  readonly reserved: number;
  /**
   * The most of the account's concurrency the stack can hold at once: each reserved function its reservation, each
   * other function the API invokes its bound. Functions run by a stream or the tick are not in it (their concurrency
   * follows stream shards and ticks, not requests: the plan counts the tick burst apart).
   */
  readonly share: number;
  /** Whether every function the API invokes is reserved, so that `share` is a cap and not a worst case. */
  readonly capped: boolean;
}

/** API Gateway's account defaults where a stage sets no throttle (requests a second, burst). */
const ACCOUNT_RATE = 10_000;
const ACCOUNT_BURST = 5_000;
/** CloudFormation's default Lambda timeout, seconds. */
const DEFAULT_TIMEOUT_SECONDS = 3;

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

  const { stageRatesPerSecond, concurrency } = countApis(resources);

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
    concurrency,
  };
}

type MethodSetting = { HttpMethod?: string; ResourcePath?: string; ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number };

/**
 * Each stage's methods with their throttles, and the functions they invoke. A method's throttle is its own method
 * setting (`/~1documents/GET`), else the stage's default (`/*` `*`), else the account's. An `ANY` method counts as
 * one (unverified on AWS: should the gateway keep one bucket per verb, the catch-all takes up to 7 times its rate).
 */
function countApis(resources: Record<string, Resource>): { stageRatesPerSecond: number[]; concurrency: StackConcurrency } {
  const entries = Object.entries(resources);
  const props = (r: Resource) => r.Properties ?? {};
  const paths = new Map<string, string>();
  const pathOf = (ref: unknown): string => {
    const id = target(ref);
    const r = id === undefined ? undefined : resources[id];
    if (id === undefined || r?.Type !== 'AWS::ApiGateway::Resource') return '/'; // the API's root resource
    if (!paths.has(id)) {
      const parent = pathOf(props(r).ParentId);
      paths.set(id, `${parent === '/' ? '' : parent}/${String(props(r).PathPart)}`);
    }
    return paths.get(id)!;
  };
  const methods = entries
    .filter(([, r]) => r.Type === 'AWS::ApiGateway::Method')
    .map(([, r]) => {
      const p = props(r) as { RestApiId?: unknown; ResourceId?: unknown; HttpMethod?: string; Integration?: { Uri?: unknown } };
      const uri = p.Integration?.Uri as { 'Fn::Join'?: [string, unknown[]] } | undefined;
      const fn = (uri?.['Fn::Join']?.[1] ?? [])
        .map(target)
        .find((id) => id !== undefined && resources[id]?.Type === 'AWS::Lambda::Function');
      return { api: target(p.RestApiId), path: pathOf(p.ResourceId), verb: p.HttpMethod ?? 'ANY', fn };
    });

  const perFunction = new Map<string, Array<{ method: string; rate: number; burst: number }>>();
  const stageRatesPerSecond = entries
    .filter(([, r]) => r.Type === 'AWS::ApiGateway::Stage')
    .map(([, r]) => {
      const settings = (props(r).MethodSettings ?? []) as MethodSetting[];
      const all = settings.find((s) => s.HttpMethod === '*' && s.ResourcePath === '/*');
      const api = target(props(r).RestApiId);
      const own = methods.filter((m) => m.api === api);
      // A stage whose methods the template does not list (an OpenAPI body): its default once, as a floor.
      if (own.length === 0) return all?.ThrottlingRateLimit ?? ACCOUNT_RATE;
      let sum = 0;
      for (const m of own) {
        // Method settings name a resource by its path with every "/" escaped: /documents/{id} → /~1documents~1{id}.
        const key = `/${m.path.replaceAll('/', '~1')}`;
        const setting = settings.find((s) => s.ResourcePath === key && (s.HttpMethod === m.verb || s.HttpMethod === '*'));
        const rate = setting?.ThrottlingRateLimit ?? all?.ThrottlingRateLimit ?? ACCOUNT_RATE;
        const burst = setting?.ThrottlingBurstLimit ?? all?.ThrottlingBurstLimit ?? ACCOUNT_BURST;
        sum += rate;
        if (m.fn !== undefined) perFunction.set(m.fn, [...(perFunction.get(m.fn) ?? []), { method: `${m.verb} ${m.path}`, rate, burst }]);
      }
      return sum;
    });

  const functions = entries.filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const reservedOf = (r: Resource) => (props(r).ReservedConcurrentExecutions as number | undefined) ?? null;
  const apiFunctions: ApiFunction[] = functions
    .filter(([id]) => perFunction.has(id))
    .map(([id, r]) => {
      const timeoutSeconds = (props(r).Timeout as number | undefined) ?? DEFAULT_TIMEOUT_SECONDS;
      const methodsOf = perFunction.get(id)!;
      const bound = methodsOf.reduce((sum, m) => sum + m.burst + m.rate * timeoutSeconds, 0);
      return { id, timeoutSeconds, reserved: reservedOf(r), methods: methodsOf, bound };
    });
  const reserved = functions.reduce((sum, [, r]) => sum + (reservedOf(r) ?? 0), 0);
  const unreservedApi = apiFunctions.filter((f) => f.reserved === null);
  return {
    stageRatesPerSecond,
    concurrency: {
      apiFunctions,
      reserved,
      share: reserved + unreservedApi.reduce((sum, f) => sum + f.bound, 0),
      capped: apiFunctions.length > 0 && unreservedApi.length === 0,
    },
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
