import { describe, expect, it } from 'vitest';
import { PRICES as BENCH_PRICES } from '../../dev/bench/models';
import { countTemplate, type Template } from '../../fleet/count';
import { parseArgs, render, renderConcurrency } from '../../fleet/main';
import { parseDoctorArgs } from '../../fleet/doctor';
import { type PlanInput, plan } from '../../fleet/plan';
import { FleetPlanError } from '../../fleet/plan-fleet';
import { FLEET_PRICES, PRICE_SOURCES, PRICES } from '../../fleet/prices';

/*
 * The fleet plan's model on hand-built templates: each test names the defect it would catch.
 */

const fn = (memory = 512) => ({ Type: 'AWS::Lambda::Function', Properties: { MemorySize: memory, Architectures: ['arm64'] } });
const stat = (name: string) => ({ Id: name, MetricStat: { Metric: { MetricName: name, Namespace: 'N' }, Period: 300, Stat: 'Sum' } });

/** A site template: `roles` IAM roles, one REST API, one plain alarm, and whatever `extra` adds. */
function site(roles = 11, extra: Template['Resources'] = {}): Template {
  const resources: NonNullable<Template['Resources']> = {
    Api: { Type: 'AWS::ApiGateway::RestApi' },
    Stage: {
      Type: 'AWS::ApiGateway::Stage',
      Properties: { MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 100 }] },
    },
    Table: { Type: 'AWS::DynamoDB::Table' },
    Plain: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors', Period: 300 } },
    ...extra,
  };
  for (let i = 0; i < roles; i++) resources[`Role${i}`] = { Type: 'AWS::IAM::Role' };
  return { Resources: resources };
}
const account: Template = { Resources: { Role: { Type: 'AWS::IAM::Role' }, Account: { Type: 'AWS::ApiGateway::Account' } } };

function input(siteTemplate: Template, copies: number, shared: Template[] = [account], rest: Partial<PlanInput> = {}): PlanInput {
  return {
    sites: [{ counts: countTemplate('N3Callback-s', siteTemplate, 's'), copies }],
    shared: shared.map((t, i) => countTemplate(`Shared${i}`, t)),
    mode: 'generated',
    bundleBytes: 500_000,
    bundleSource: 'test',
    traffic: { perMillionUsd: 10, wafIncluded: true, receiveMs: 20, source: 'test' },
    ...rest,
  };
}
const row = (p: ReturnType<typeof plan>, key: string) => p.quotas.find((q) => q.key === key)!;

describe('fleet plan: quotas', () => {
  it('puts the first IAM-role failure where one more role per site moves it', () => {
    // 5 bootstrap roles + 1 shared: 994 left; 11 a site → the 91st site fails, 12 a site → the 83rd.
    expect(row(plan(input(site(11), 500)), 'iamRoles').firstSite).toBe(91);
    expect(row(plan(input(site(12), 500)), 'iamRoles').firstSite).toBe(83);
    expect(plan(input(site(12), 500)).firstDefaultQuotaSite).toEqual({ site: 83, quota: 'IAM roles', raisable: true });
  });

  it('takes the existing roles as the baseline when given', () => {
    const p = plan(input(site(10), 500, [account], { existing: { iamRoles: 95 } }));
    // 95 + 1 shared: 904 left, 10 a site → 90 fit, site #91 fails.
    expect(row(p, 'iamRoles')).toMatchObject({ baseline: 95, firstSite: 91 });
  });

  it('marks the REST API quota as not raisable, and the site that meets it beyond the planned ones', () => {
    const rest = row(plan(input(site(0), 50)), 'restApis');
    expect(rest).toMatchObject({ raisable: false, limit: 600, firstSite: 601, extrapolated: true });
    expect(rest.how).toMatch(/another account or region/);
  });

  it('says site #1 when the account is already past a quota', () => {
    expect(row(plan(input(site(1), 1, [account], { existing: { iamRoles: 1_000 } })), 'iamRoles').firstSite).toBe(1);
  });

  it('counts code storage from the bundle size, and calls it unknown without one', () => {
    const extra = { F1: fn(), F2: fn() };
    expect(row(plan(input(site(0, extra), 3)), 'lambdaCodeBytes')).toMatchObject({ perSite: 1_000_000, total: 3_000_000 });
    expect(row(plan(input(site(0, extra), 3, [account], { bundleBytes: null })), 'lambdaCodeBytes')).toMatchObject({
      total: null,
      firstSite: null,
    });
  });

  it('reports the stage throttles against the account rate as oversubscription from the 101st site', () => {
    const api = plan(input(site(), 500)).rates.apiGateway;
    expect(api).toMatchObject({ sumAtPlan: 50_000, firstOversubscribedSite: 101 });
    expect(api.oversubscription).toBe(5);
  });
});

/**
 * A site's REST API as the app builds it: six typed POST routes and a catch-all (`ANY {proxy+}`), each its own
 * function, under the stage's default throttle (100/s, burst 200), and a document route with its own (10/s, burst
 * 20); functions time out after 15 s; `reserved` on every function the API invokes. A Sweep outside the API.
 */
function apiSite(reserved?: number): Template {
  const lambda = (timeout: number, cap?: number) => ({
    Type: 'AWS::Lambda::Function',
    Properties: { MemorySize: 512, Timeout: timeout, ...(cap === undefined ? {} : { ReservedConcurrentExecutions: cap }) },
  });
  const integration = (fn: string) => ({
    Uri: {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:path/functions/', { 'Fn::GetAtt': [fn, 'Arn'] }, '/invocations']],
    },
  });
  const resources: NonNullable<Template['Resources']> = {
    Api: { Type: 'AWS::ApiGateway::RestApi' },
    Stage: {
      Type: 'AWS::ApiGateway::Stage',
      Properties: {
        RestApiId: { Ref: 'Api' },
        MethodSettings: [
          { HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
          { HttpMethod: 'GET', ResourcePath: '/~1documents~1{documentId}', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
        ],
      },
    },
    Secret: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] }, PathPart: 'secret' },
    },
    Docs: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] }, PathPart: 'documents' },
    },
    Doc: { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: { Ref: 'Docs' }, PathPart: '{documentId}' } },
    Documents: lambda(15, reserved),
    DocGet: {
      Type: 'AWS::ApiGateway::Method',
      Properties: { RestApiId: { Ref: 'Api' }, ResourceId: { Ref: 'Doc' }, HttpMethod: 'GET', Integration: integration('Documents') },
    },
    Sweep: lambda(60),
  };
  for (const type of ['CDAStatus', 'SEMDStatus', 'REMDStatus', 'MseResult', 'MseResultData', 'VimisResult', '{proxy+}']) {
    const name = type === '{proxy+}' ? 'Fallback' : type;
    resources[`${name}Resource`] = { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: { Ref: 'Secret' }, PathPart: type } };
    resources[name] = lambda(15, reserved);
    resources[`${name}Method`] = {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        RestApiId: { Ref: 'Api' },
        ResourceId: { Ref: `${name}Resource` },
        HttpMethod: name === 'Fallback' ? 'ANY' : 'POST',
        Integration: integration(name),
      },
    };
  }
  return { Resources: resources };
}
/** Seven callback functions at 200 + 100 × 15 each, the document function at 20 + 10 × 15. */
const UNCAPPED_SHARE = 7 * (200 + 100 * 15) + (20 + 10 * 15);

describe('fleet plan: the real bound of a site', () => {
  it("counts the stage's default throttle once per method it applies to (API Gateway limits each method apart), a method's own throttle instead of it", () => {
    expect(countTemplate('s', apiSite()).stageRatesPerSecond).toEqual([7 * 100 + 10]);
    const api = plan(input(apiSite(), 500)).rates.apiGateway;
    expect(api).toMatchObject({ perSiteRequestsPerSecond: 710, sumAtPlan: 355_000, firstOversubscribedSite: 15 });
  });

  it('gives an uncapped site its worst case, burst + rate × timeout over every method its functions take, and a capped one its reservation', () => {
    const uncapped = countTemplate('s', apiSite()).concurrency;
    expect(uncapped).toMatchObject({ share: UNCAPPED_SHARE, capped: false, reserved: 0 });
    expect(uncapped.apiFunctions.map((f) => f.id).sort()).toEqual(
      ['CDAStatus', 'Documents', 'Fallback', 'MseResult', 'MseResultData', 'REMDStatus', 'SEMDStatus', 'VimisResult'].sort(),
    );
    expect(uncapped.apiFunctions.find((f) => f.id === 'Fallback')!.methods).toEqual([
      { method: 'ANY /secret/{proxy+}', rate: 100, burst: 200 },
    ]);
    // The Sweep is not invoked by the API: a reservation of its own would count, its ticks are the tick burst.
    expect(countTemplate('s', apiSite(10)).concurrency).toMatchObject({ share: 80, capped: true, reserved: 80 });
  });

  it("prints each site's share, the sum and what is left of the account's concurrency, as --json carries them", () => {
    const capped = {
      ...plan(input(apiSite(10), 10, [account], { accountConcurrency: 1_000 })),
      synthSeconds: 1,
      bundle: { bytes: 1, source: 't' },
    };
    const c = JSON.parse(JSON.stringify(capped)).rates.lambdaConcurrency as typeof capped.rates.lambdaConcurrency;
    expect(c).toMatchObject({
      limit: 1_000,
      sum: 800,
      left: 200,
      overQuota: false,
      reserved: 800,
      reservationsFit: true,
      limitSource: 'as given',
    });
    expect(c.perSite).toEqual([{ siteId: 's', copies: 10, share: 80, capped: true, reserved: 80, apiFunctions: 8, apiMethods: 8 }]);
    const text = render(capped);
    expect(text).toContain('s × 10: 80 (capped: 8 functions reserve 80)');
    expect(text).toContain('sum 800 of 1,000: 200 left for a burst');
    expect(text).not.toContain('WARNING');
  });

  it('warns in one line when the shares exceed the account, and in another when Lambda could not grant the reservations', () => {
    const uncapped = renderConcurrency({ ...plan(input(apiSite(), 2)), synthSeconds: 1, bundle: { bytes: 1, source: 't' } });
    expect(uncapped).toContain(
      `  sum ${(2 * UNCAPPED_SHARE).toLocaleString('en-US')} of 1,000: none left for a burst (${(2 * UNCAPPED_SHARE - 1_000).toLocaleString('en-US')} over)`,
    );
    expect(uncapped.filter((line) => line.startsWith('WARNING'))).toEqual([
      `WARNING: the sites' concurrency shares (${(2 * UNCAPPED_SHARE).toLocaleString('en-US')}) exceed the account's 1,000: one site's callers can throttle every other site; set reservedConcurrency (README, Capacity) or raise the quota`,
    ]);
    // 12 sites × 80 = 960: within 1,000, but 60 over the 900 an account may reserve.
    const tight = plan(input(apiSite(10), 12));
    expect(tight.rates.lambdaConcurrency).toMatchObject({
      overQuota: false,
      reservationsFit: false,
      left: 40,
      limitSource: "AWS's default",
    });
    const warnings = renderConcurrency({ ...tight, synthSeconds: 1, bundle: { bytes: 1, source: 't' } }).filter((l) =>
      l.startsWith('WARNING'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^WARNING: the sites reserve 960, over the 900 an account of 1,000 can reserve/);
  });
});

describe('fleet plan: idle cost', () => {
  it('prices a metric-math alarm by the 7 metrics it reads, not as one alarm', () => {
    const math = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: { Metrics: [{ Id: 'e', Expression: 'm0+m1+m2+m3+m4+m5+m6' }, ...Array.from({ length: 7 }, (_, i) => stat(`m${i}`))] },
    };
    const counted = countTemplate('x', site(0, { Math: math }));
    expect(counted.alarms.find((a) => a.id === 'Math')!.metrics).toBe(7);
    // 1 plain + 7 = 8 alarm metrics.
    expect(plan(input(site(0, { Math: math }), 1)).cost.idleAtPlan.perSite.alarms).toBeCloseTo(8 * FLEET_PRICES.alarmMetricPerMonth, 10);
  });

  it('divides the shared stacks’ cost by the number of sites', () => {
    const fleet: Template = { Resources: { Acl: { Type: 'AWS::WAFv2::WebACL', Properties: { Scope: 'REGIONAL', Rules: [{}, {}] } } } };
    const p = plan(input(site(0), 50, [account, fleet]));
    const own = p.cost.idleAtPlan.perSite.total;
    expect(p.cost.idleAtPlan.shared.waf).toBe(7);
    expect(p.cost.idleUsdPerSiteMonth['1']).toBeCloseTo(own + 7, 10);
    expect(p.cost.idleUsdPerSiteMonth['50']).toBeCloseTo(own + 7 / 50, 10);
    expect(p.cost.idleUsdPerSiteMonth['500']).toBeCloseTo(own + 7 / 500, 10);
  });

  it('gives the account’s three free dashboards only to dashboards of at most 50 metrics', () => {
    const body = (metrics: number) =>
      JSON.stringify({ widgets: [{ properties: { metrics: Array.from({ length: metrics }, () => ['N', 'm']) } }] });
    const small = site(0, { Dash: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: body(10) } } });
    const large = site(0, { Dash: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: body(90) } } });
    const cost = (t: Template, n: number) =>
      plan(input(t, n)).cost.idleUsdPerSiteMonth[String(n)]! - plan(input(site(0), n)).cost.idleUsdPerSiteMonth[String(n)]!;
    expect(cost(small, 1)).toBeCloseTo(0, 10);
    expect(cost(small, 50)).toBeCloseTo((3 * 47) / 50, 10);
    expect(cost(large, 1)).toBeCloseTo(3, 10);
  });

  /** The fleet stack's part that matters here: a rule every minute publishing to a topic. */
  const fleet: Template = {
    Resources: {
      Tick: { Type: 'AWS::SNS::Topic' },
      Every: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(1 minute)', Targets: [{ Arn: { Ref: 'Tick' } }] } },
    },
  };
  /** A site whose Sweep subscribes to a topic outside its stack (the fleet's tick), by `topicArn`. */
  const subscribed = (topicArn: unknown, memoryMb = 1024) =>
    site(0, {
      Sweep: fn(memoryMb),
      Sub: {
        Type: 'AWS::SNS::Subscription',
        Properties: { Protocol: 'lambda', TopicArn: topicArn, Endpoint: { 'Fn::GetAtt': ['Sweep', 'Arn'] } },
      },
    });

  it('prices a site’s subscription to the fleet tick at the shared rule’s rate', () => {
    const withSweep = subscribed({ Ref: 'TickParameter' });
    const p = plan(input(withSweep, 1, [fleet], { model: { scheduledRunMs: 100, scheduledRunReadUnits: 0, scheduledRunLogBytes: 0 } }));
    const runs = 730 * 60;
    expect(p.cost.idleAtPlan.perSite.scheduled).toBeCloseTo(runs * (0.2e-6 + 1 * 0.1 * FLEET_PRICES.lambdaArmPerGbSecond), 10);
    expect(p.cost.idleAtPlan.shared.scheduled).toBeCloseTo(runs * 0.5e-6, 10);
  });

  it('counts the tick burst: every site’s subscribed functions start on the same minute', () => {
    const subscribed = site(0, {
      Sweep: fn(512),
      Sub: {
        Type: 'AWS::SNS::Subscription',
        Properties: {
          Protocol: 'lambda',
          TopicArn: 'arn:aws:sns:eu-central-1:1:n3-callback-fleet-tick',
          Endpoint: { 'Fn::GetAtt': ['Sweep', 'Arn'] },
        },
      },
    });
    expect(plan(input(subscribed, 500, [fleet])).rates.lambdaConcurrency.tickBurst).toBe(500);
    expect(plan(input(site(0), 500, [fleet])).rates.lambdaConcurrency.tickBurst).toBe(0);
  });

  it('adds traffic and busy custom metrics at volume, WAF requests only where M7 left them out', () => {
    const withAcl = site(0, { Assoc: { Type: 'AWS::WAFv2::WebACLAssociation' } });
    const included = plan(input(withAcl, 1)).cost.atVolume;
    const excluded = plan(input(withAcl, 1, [account], { traffic: { perMillionUsd: 10, wafIncluded: false, receiveMs: 20, source: 't' } }))
      .cost.atVolume;
    expect(included.traffic).toBe(5);
    expect(included.wafRequests).toBe(0);
    expect(excluded.wafRequests).toBeCloseTo(0.5 * PRICES.wafPerMillionRequests, 10);
    expect(excluded.usdPerSiteMonth! - included.usdPerSiteMonth!).toBeCloseTo(0.3, 10);
    expect(included.customMetrics.atMix).toBeGreaterThan(0);
    expect(included.customMetrics.atMix).toBeLessThanOrEqual(included.customMetrics.upperBound);
  });
});

describe('fleet plan: prices and the command line', () => {
  it('keeps one price table: dev/bench/models re-exports it, and every price names its source', () => {
    expect(BENCH_PRICES).toBe(PRICES);
    const keys = [...Object.keys(PRICES).filter((k) => k !== 'date' && k !== 'region'), ...Object.keys(FLEET_PRICES)];
    for (const key of keys) expect(PRICE_SOURCES[key as keyof typeof PRICE_SOURCES], key).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  it('prints the same first quota and idle costs as --json carries', () => {
    const p = { ...plan(input(site(12), 500)), synthSeconds: 1, bundle: { bytes: 500_000, source: 'test' } };
    const text = render(p);
    const json = JSON.parse(JSON.stringify(p)) as typeof p;
    expect(text).toContain(`First default quota met: ${json.firstDefaultQuotaSite!.quota} at site #${json.firstDefaultQuotaSite!.site}`);
    for (const [n, usd] of Object.entries(json.cost.idleUsdPerSiteMonth))
      expect(text).toContain(`$${usd.toFixed(2)} at ${Number(n).toLocaleString('en-US')}`);
  });

  it('refuses a bad argument with one line saying what to give', () => {
    expect(parseArgs(['plan', '--sites', '500', '--json'])).toMatchObject({ sites: 500, json: true });
    expect(parseArgs(['plan', '--existing', 'wafWebAcls=3'])).toMatchObject({ existing: { wafWebAcls: 3 } });
    expect(parseArgs(['plan', '--account-concurrency', '5000'])).toMatchObject({ accountConcurrency: 5_000 });
    expect(parseArgs(['plan']).accountConcurrency).toBeUndefined();
    for (const argv of [
      ['plan', '--sites', 'many'],
      ['plan', '--sites', '0'],
      ['plan', '--existing', 'roles=3'],
      ['plan', '--bogus'],
      ['plan', '--account-concurrency', '0'],
      ['plan', '--account-concurrency'],
      ['deploy'],
    ]) {
      expect(() => parseArgs(argv)).toThrow(FleetPlanError);
      try {
        parseArgs(argv);
      } catch (error) {
        expect((error as Error).message).not.toContain('\n');
      }
    }
  });

  it('suggests the nearest command or flag for a misspelt one, and nothing for a word unlike any', () => {
    expect(() => parseArgs(['plna'])).toThrow(/^unknown command "plna"; did you mean "plan"\?; usage:/);
    expect(() => parseArgs(['plan', '--jsn'])).toThrow(/^unknown option "--jsn"; did you mean "--json"\?; usage:/);
    expect(() => parseArgs(['plan', '--site', 'x'])).toThrow(/^unknown option "--site"; did you mean "--sites"\?/);
    expect(() => parseArgs(['plan', '--frobnicate'])).toThrow(/^unknown option "--frobnicate"; usage:/);
    expect(() => parseDoctorArgs(['--repiar'])).toThrow(/^unknown option "--repiar"; did you mean "--repair"\?; usage:/);
  });
});
