import { beforeAll, describe, expect, it } from 'vitest';
import { cdkContext, synthesiseAndCount } from '../../fleet/count';
import { render } from '../../fleet/main';
import { plan } from '../../fleet/plan';
import { type FleetPlan, planFleet } from '../../fleet/plan-fleet';
import { FLEET_PRICES } from '../../fleet/prices';
import { METRIC } from '../../contract/observability';

/*
 * `fleet plan --sites 500` on the real app: one synthesis (a generated site and the shared stacks). The
 * assertions hold whatever the site holds: they check the plan's counts against each other and the
 * templates' facts that make a site (its own URL, its own tables), not today's numbers.
 */

let p: FleetPlan;
const progress: string[] = [];
beforeAll(() => {
  p = planFleet({ sites: 500, progress: (line) => progress.push(line) });
}, 120_000);
const row = (key: string) => p.quotas.find((q) => q.key === key)!;

describe('fleet plan --sites 500 (synthesised)', () => {
  it('counts one generated site, multiplied, and the shared stacks apart', () => {
    expect(p.mode).toBe('generated');
    expect(p.sites).toBe(500);
    expect(p.resources.perSite).toEqual([expect.objectContaining({ siteId: 'fleet-0001', copies: 500 })]);
    expect(p.resources.shared.map((s) => s.stack)).toContain('N3Callback-account');
    expect(p.resources.shared.map((s) => s.stack)).not.toContain('N3Callback-fleet-0001');
    expect(p.resources.total).toBe(500 * p.resources.perSite[0]!.resources + p.resources.shared.reduce((sum, s) => sum + s.resources, 0));
    expect(progress.join('\n')).toMatch(/Synthesised in \d/);
  });

  it('reads from the templates what makes a site: its own REST API, its own tables, its own stack', () => {
    expect(row('restApis')).toMatchObject({ perSite: 1, raisable: false });
    expect(row('dynamoDbTables').perSite).toBe(2);
    expect(row('stacks').perSite).toBe(1);
    expect(row('stacks').shared).toBe(p.resources.shared.length);
    for (const q of p.quotas.filter((r) => r.total !== null && r.unit === undefined)) {
      expect(q.total, q.key).toBe(q.baseline + q.shared + 500 * q.perSite!);
    }
  });

  it('names as the first default quota the quota row with the earliest site', () => {
    const earliest = Math.min(...p.quotas.filter((q) => q.firstSite !== null).map((q) => q.firstSite!));
    expect(p.firstDefaultQuotaSite?.site).toBe(earliest);
    expect(p.m9?.firstDefaultQuotaSite).toEqual({ site: earliest, quota: p.firstDefaultQuotaSite!.quota });
    expect(render(p)).toContain(`First default quota met: ${p.firstDefaultQuotaSite!.quota} at site #${earliest.toLocaleString('en-US')}`);
  });

  it('feeds benchmark M9: idle at 1, 50 and 500 sites (never rising with more sites), and at volume above idle', () => {
    const idle = p.m9!.idleUsdPerSiteMonth;
    for (const v of [idle[1], idle[50], idle[500]]) expect(v).toBeGreaterThan(0);
    expect(idle[50]).toBeLessThanOrEqual(idle[1]);
    expect(idle[500]).toBeLessThanOrEqual(idle[50]);
    expect(idle[500]).toBe(p.cost.idleUsdPerSiteMonth['500']);
    expect(p.m9!.usdPerSiteMonthAtVolume!).toBeGreaterThan(idle[500]);
  });

  it('prices what a busy site sends: its site-wide metric series, the log bytes it ingests and the stated Logs Insights use, each named in the output', () => {
    const v = p.cost.atVolume;
    const model = p.cost.inputs.model;
    // Every metric of the contract is site-wide: at most one series per name, a handful at the mix.
    expect(v.customMetrics.atMix).toBeLessThanOrEqual(v.customMetrics.upperBound);
    expect(v.customMetrics.upperBound).toBe(new Set(Object.values(METRIC)).size);
    expect(v.customMetrics.usd).toBeCloseTo(v.customMetrics.atMix * FLEET_PRICES.customMetricPerMonth);
    const gb = (model.callbacksPerSiteMonth * model.logBytesPerCallback) / 1024 ** 3;
    expect(v.logs.ingestionUsd).toBeCloseTo(gb * FLEET_PRICES.logsIngestionPerGb);
    // Each view runs each query over a day of logs: over a month, views × queries × the month's logs.
    expect(v.logs.insightsUsd).toBeCloseTo(
      model.logsInsightsViewsPerDay * model.logsInsightsQueriesPerView * gb * FLEET_PRICES.logsInsightsPerGbScanned,
    );
    expect(v.usdPerSiteMonth!).toBeCloseTo(
      p.cost.idleUsdPerSiteMonth['500']! -
        p.cost.idleAtPlan.perSite.customMetrics +
        v.traffic! +
        (v.wafRequests ?? 0) +
        v.customMetrics.usd +
        v.logs.ingestionUsd +
        v.logs.insightsUsd,
    );
    const text = render(p);
    expect(text).toContain(`${v.customMetrics.atMix} custom metrics`);
    expect(text).toMatch(/\+ logs \$\d/);
    expect(text).toMatch(/\+ Logs Insights \$\d/);
    expect(text).toContain(`log ${model.logBytesPerCallback.toLocaleString('en-US')} bytes a callback`);
    expect(text).toContain(
      `Logs Insights (a model): ${model.logsInsightsViewsPerDay} views a day of ${model.logsInsightsQueriesPerView} queries`,
    );
  });

  it('takes the log bytes and the Logs Insights views as given (--log-bytes, --insights-views), and they move the busy figure', () => {
    const more = planFleet({ sites: 500, model: { logBytesPerCallback: 10_000, logsInsightsViewsPerDay: 100 } });
    expect(more.cost.inputs.model.logBytesPerCallback).toBe(10_000);
    expect(more.cost.atVolume.logs.ingestionUsd).toBeGreaterThan(p.cost.atVolume.logs.ingestionUsd);
    expect(more.cost.atVolume.usdPerSiteMonth!).toBeGreaterThan(p.cost.atVolume.usdPerSiteMonth!);
  }, 120_000);

  it('prices every alarm metric the site reads, as counted from its alarms', () => {
    expect(p.quotas.find((q) => q.key === 'alarms')!.perSite).toBeGreaterThan(0);
    // Standard-resolution only: each alarm metric at $0.10 (a metric-math alarm pays per metric it reads).
    // Rounded: dollars divided by a price in binary floating point (9.999999999999998 for 10 metrics).
    expect(Math.round(p.cost.idleAtPlan.perSite.alarms / FLEET_PRICES.alarmMetricPerMonth)).toBeGreaterThanOrEqual(row('alarms').perSite!);
  });

  it("counts the stage's default throttle once per callback method: 8 at maxRequestsPerSecond, 3 document routes at theirs", () => {
    // cdk.json's first site: the defaults, 100 and 10 a second. Without a secret path segment its callback methods are
    // the six types' POSTs and the fallback's ANY on both `/{proxy+}` and the root: 8.
    expect(p.rates.apiGateway.perSiteRequestsPerSecond).toBe(8 * 100 + 3 * 10);
  });

  it("prints each uncapped site's worst case, the sum over 500 and what is left of the account's 1,000, with a warning", () => {
    const c = p.rates.lambdaConcurrency;
    const [site] = c.perSite;
    expect(site).toMatchObject({ siteId: 'fleet-0001', copies: 500, capped: false, reserved: 0, apiFunctions: 8, apiMethods: 10 });
    // 7 callback methods at burst 200 + 100 × 15 s, 3 document methods at 20 + 10 × 15 s.
    expect(site!.share).toBe(7 * (200 + 100 * 15) + 3 * (20 + 10 * 15));
    expect(c).toMatchObject({ limit: 1_000, sum: 500 * site!.share, left: 1_000 - 500 * site!.share, overQuota: true, reserved: 0 });
    const text = render(p);
    expect(text).toContain(`fleet-0001 × 500: ${site!.share.toLocaleString('en-US')} (uncapped: 8 functions behind 10 throttled methods`);
    expect(text).toMatch(/^WARNING: the sites' concurrency shares \([\d,]+\) exceed the account's 1,000/m);
  });

  it('gives a capped site its reservation as its share, read from its template, and leaves the rest of the account for a burst', () => {
    const first = (cdkContext().sites as Array<Record<string, unknown>>)[0]!;
    const counted = synthesiseAndCount({ sites: [{ ...first, reservedConcurrency: 5 }], examples: true });
    const capped = plan({
      sites: [{ counts: counted.sites[0]!, copies: 20 }],
      shared: counted.shared,
      mode: 'generated',
      bundleBytes: null,
      bundleSource: 't',
    });
    expect(capped.rates.lambdaConcurrency).toMatchObject({ sum: 20 * 8 * 5, left: 1_000 - 800, overQuota: false, reservationsFit: true });
    expect(capped.rates.lambdaConcurrency.perSite[0]).toMatchObject({ share: 40, capped: true, reserved: 40 });
  }, 120_000);
});
