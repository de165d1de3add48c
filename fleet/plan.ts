import { TABLE } from '../contract/shapes';
import { DIMENSIONS_OF, type MetricName } from '../contract/observability';
import { LAMBDA_UNRESERVED_MINIMUM } from '../lib/site-config';
import { SITE_LOG_WIDGETS } from '../lib/site-dashboard';
import type { StackCounts } from './count';
import { FLEET_PRICES, type FleetPrices, PRICE_DATE, PRICE_REGION, PRICES } from './prices';
import { type CountKey, QUOTAS, RATE_QUOTAS } from './quotas';

/*
 * The fleet plan as a pure model: stack counts (fleet/count.ts) → quotas used and the first site that meets
 * each → idle and busy USD per site per month. No I/O here, so tests can hand it counts.
 */

const HOURS_PER_MONTH = 730;

/** A site as counted, and how many identical copies of it the fleet holds (generated sites are copies). */
export interface SiteGroup {
  readonly counts: StackCounts;
  readonly copies: number;
}

/** Model inputs: stated, not measured. Every one is printed with the plan. */
export interface ModelInputs {
  /** Billed duration of one scheduled run that finds nothing to do. */
  readonly scheduledRunMs: number;
  /** DynamoDB read units one such run reads (its empty queries: one per index shard, at most 1 unit each). */
  readonly scheduledRunReadUnits: number;
  /** Log bytes one run ingests (START, END, REPORT and one line of ours). */
  readonly scheduledRunLogBytes: number;
  /** Custom metrics a site sends while idle. 0: the handlers write no metric when there is nothing to count. */
  readonly idleCustomMetricsPerSite: number;
  /** The stated volume of a busy site. */
  readonly callbacksPerSiteMonth: number;
  /**
   * Bytes CloudWatch Logs ingests per callback at M7's mix: the receiving function's lines and EMF, the projector's,
   * Lambda's START/END/REPORT and 26 bytes an event (measured by dev/bench/log-bytes.ts; M9 passes its own run's).
   */
  readonly logBytesPerCallback: number;
  /** How often someone looks at a busy site's Logs Insights tables (the site dashboard, or the same queries by hand). */
  readonly logsInsightsViewsPerDay: number;
  /** Logs Insights queries per view, each scanning a day of the site's logs (the site dashboard's log widgets). */
  readonly logsInsightsQueriesPerView: number;
}

export const DEFAULT_MODEL: ModelInputs = {
  scheduledRunMs: 100,
  scheduledRunReadUnits: TABLE.shards,
  scheduledRunLogBytes: 600,
  idleCustomMetricsPerSite: 0,
  callbacksPerSiteMonth: 500_000,
  // dev/bench/log-bytes.ts on this commit's handlers (2,288 bytes); `fleet plan` reads the benchmark's own where it has one.
  logBytesPerCallback: 2_288,
  logsInsightsViewsPerDay: 10,
  logsInsightsQueriesPerView: SITE_LOG_WIDGETS,
};

/** Traffic prices from the benchmark (M7): what a million callbacks cost at its mix, by part. */
export interface Traffic {
  readonly perMillionUsd: number;
  /** Whether that figure already holds WAF's per-request price (M7's `waf` part). */
  readonly wafIncluded: boolean;
  /** Receive time, ms (M7, measured on the emulators): for the concurrency estimate. */
  readonly receiveMs: number | null;
  readonly source: string;
}

export interface PlanInput {
  readonly sites: readonly SiteGroup[];
  readonly shared: readonly StackCounts[];
  readonly mode: 'configured' | 'generated';
  /** Bytes of one function's deployed code (M1); null: unknown. */
  readonly bundleBytes: number | null;
  readonly bundleSource: string;
  /** What the account already holds, per quota (default: each quota's baseline). */
  readonly existing?: Partial<Record<CountKey, number>>;
  readonly model?: Partial<ModelInputs>;
  readonly traffic?: Traffic | null;
  /** Prices (default: fleet/prices.ts). */
  readonly prices?: FleetPrices;
  /** The account's Lambda concurrent executions in the region (default: AWS's 1,000). */
  readonly accountConcurrency?: number;
}

/** One site's hold on the account's concurrency (fleet/count.ts `StackConcurrency`). */
export interface SiteShare {
  readonly siteId: string;
  readonly copies: number;
  /** Reserved: its cap. Otherwise the most its API-invoked functions can run at once (burst + rate × timeout). */
  readonly share: number;
  readonly capped: boolean;
  readonly reserved: number;
  readonly apiFunctions: number;
  readonly apiMethods: number;
}

export interface QuotaRow {
  readonly key: CountKey;
  readonly name: string;
  readonly scope: string;
  /** The first site's use (sites differ only where their settings do). null: unknown. */
  readonly perSite: number | null;
  readonly shared: number;
  readonly baseline: number;
  readonly baselineNote: string;
  /** Used with every site of the plan deployed. null: unknown. */
  readonly total: number | null;
  readonly limit: number | null;
  /** The first site whose deploy would take the count past the default. null: never (or unknown). */
  readonly firstSite: number | null;
  /** Whether `firstSite` lies beyond the plan's sites (the last site repeated). */
  readonly extrapolated: boolean;
  readonly raisable: boolean;
  readonly how: string;
  readonly code?: string;
  readonly source: string;
  readonly unit?: 'bytes';
}

export interface IdleCost {
  readonly waf: number;
  readonly alarms: number;
  readonly dashboards: number;
  readonly kms: number;
  readonly scheduled: number;
  readonly customMetrics: number;
  readonly total: number;
}

export interface Plan {
  readonly mode: 'configured' | 'generated';
  readonly sites: number;
  readonly resources: {
    readonly perSite: ReadonlyArray<{ siteId: string; stack: string; copies: number; resources: number }>;
    readonly shared: ReadonlyArray<{ stack: string; resources: number }>;
    readonly total: number;
  };
  readonly quotas: readonly QuotaRow[];
  readonly firstDefaultQuotaSite: { site: number; quota: string; raisable: boolean } | null;
  readonly rates: {
    readonly apiGateway: {
      readonly limit: number;
      readonly perSiteRequestsPerSecond: number;
      readonly sumAtPlan: number;
      readonly oversubscription: number;
      readonly firstOversubscribedSite: number | null;
      readonly meanRequestsPerSecondAtVolume: number;
      readonly how: string;
      readonly source: string;
    };
    readonly lambdaConcurrency: {
      readonly limit: number;
      readonly receiveMs: number | null;
      readonly atFullThrottle: number | null;
      readonly atVolumeMean: number | null;
      /**
       * Invocations the shared tick starts at the same moment, once a minute: every site's subscribed functions. They
       * run for a moment only, but against the same concurrency as the receivers (as low as 10 on a new account).
       */
      readonly tickBurst: number;
      /** Each site's share (its cap, or its uncapped worst case), the sum, and what is left of `limit` for a burst. */
      readonly perSite: readonly SiteShare[];
      readonly sum: number;
      /** `limit − sum`; negative: the shares oversubscribe the account (no site is sure of its share). */
      readonly left: number;
      readonly overQuota: boolean;
      /** Reserved over every site and shared stack, and whether Lambda can grant it (it keeps 100 unreserved). */
      readonly reserved: number;
      readonly reservationsFit: boolean;
      readonly limitSource: string;
      readonly how: string;
      readonly source: string;
    };
  };
  readonly cost: {
    /** Mean idle USD per site per month, by fleet size (shared costs divided by it). */
    readonly idleUsdPerSiteMonth: Readonly<Record<string, number>>;
    /** At the plan's size, by part: each site's own, plus its share of the shared stacks'. */
    readonly idleAtPlan: { readonly perSite: IdleCost; readonly shared: IdleCost; readonly sharedPerSite: number };
    /** Configured sites: each one's idle cost at the plan's size. */
    readonly bySite: ReadonlyArray<{ siteId: string; usd: number }>;
    readonly atVolume: {
      readonly callbacksPerSiteMonth: number;
      readonly usdPerSiteMonth: number | null;
      readonly traffic: number | null;
      readonly wafRequests: number | null;
      readonly customMetrics: { readonly atMix: number; readonly upperBound: number; readonly usd: number };
      /** CloudWatch Logs: what the functions log per callback (ingestion), and what the stated Logs Insights use scans. */
      readonly logs: {
        readonly bytesPerCallback: number;
        readonly ingestedGb: number;
        readonly ingestionUsd: number;
        readonly insightsScannedGb: number;
        readonly insightsUsd: number;
      };
      readonly source: string | null;
    };
    readonly inputs: {
      readonly prices: string;
      readonly model: ModelInputs;
      readonly assumptions: readonly string[];
    };
  };
}

/**
 * Custom metric series a busy site sends every hour: from the observability contract's dimensions (every one
 * site-wide). At M7's mix every hour brings rejected requests and the projector's lag; conflicts, deferrals,
 * failures and the sweep's and key's counts are rare (written only when not zero); accepted and duplicate requests
 * are no metric (contract/observability.ts COUNTED_OUTCOMES).
 */
export function busyCustomMetrics(): { atMix: number; upperBound: number } {
  const values: Record<string, number> = { service: 1, site: 1 };
  const series = (metric: MetricName) => DIMENSIONS_OF[metric].reduce((product, d) => product * (values[d] ?? 1), 1);
  const upperBound = (Object.keys(DIMENSIONS_OF) as MetricName[]).reduce((sum, m) => sum + series(m), 0);
  const atMixMetrics: MetricName[] = ['rejected', 'ProjectionLag'];
  const atMix = atMixMetrics.reduce((sum, m) => sum + series(m), 0);
  return { atMix, upperBound };
}

/** CloudWatch Logs at a busy site (a model): ingestion of what it logs, and the stated Logs Insights use. */
export function busyLogs(model: ModelInputs, p: FleetPrices) {
  const GB = 1024 ** 3;
  const ingestedGb = (model.callbacksPerSiteMonth * model.logBytesPerCallback) / GB;
  // Each query scans a day of the site's logs (the dashboard's 24 h), every view, every day of the month.
  const dailyGb = ingestedGb / (HOURS_PER_MONTH / 24);
  const insightsScannedGb = model.logsInsightsViewsPerDay * model.logsInsightsQueriesPerView * dailyGb * (HOURS_PER_MONTH / 24);
  return {
    bytesPerCallback: model.logBytesPerCallback,
    ingestedGb,
    ingestionUsd: ingestedGb * p.logsIngestionPerGb,
    insightsScannedGb,
    insightsUsd: insightsScannedGb * p.logsInsightsPerGbScanned,
  };
}

const add = (a: IdleCost, b: IdleCost): IdleCost => ({
  waf: a.waf + b.waf,
  alarms: a.alarms + b.alarms,
  dashboards: a.dashboards + b.dashboards,
  kms: a.kms + b.kms,
  scheduled: a.scheduled + b.scheduled,
  customMetrics: a.customMetrics + b.customMetrics,
  total: a.total + b.total,
});
const ZERO: IdleCost = { waf: 0, alarms: 0, dashboards: 0, kms: 0, scheduled: 0, customMetrics: 0, total: 0 };

/** The tick a site's subscriptions hear: the shared stacks' scheduled publishes to a topic (runs a month). */
function sharedTickRuns(shared: readonly StackCounts[]): number {
  const ticks = shared.flatMap((s) => s.scheduled.filter((w) => w.topics > 0 && w.runsPerMonth !== null).map((w) => w.runsPerMonth!));
  // Several ticks: a subscription hears one of them; the busiest is the dearer assumption.
  return ticks.length === 0 ? 0 : Math.max(...ticks);
}

function idleOwn(counts: StackCounts, tickRuns: number, model: ModelInputs, p: FleetPrices, isSite: boolean): IdleCost {
  const waf = counts.webAcls.reduce((sum, acl) => sum + p.wafWebAclPerMonth + acl.rules * p.wafRulePerMonth, 0);
  const alarms = counts.alarms.reduce(
    (sum, a) =>
      sum +
      (a.composite
        ? p.compositeAlarmPerMonth
        : a.metrics * (a.highResolution ? p.alarmMetricHighResolutionPerMonth : p.alarmMetricPerMonth)),
    0,
  );
  const dashboards = counts.dashboards.length * p.dashboardPerMonth;
  const kms = counts.quota.kmsKeys * p.kmsKeyPerMonth;
  const run = (runs: number, f: { memoryMb: number; arm: boolean }) =>
    runs *
    (p.lambdaPerMillionRequests / 1e6 +
      (f.memoryMb / 1024) * (model.scheduledRunMs / 1000) * (f.arm ? p.lambdaArmPerGbSecond : p.lambdaX86PerGbSecond) +
      (model.scheduledRunReadUnits * p.dynamoRruPerMillion) / 1e6 +
      (model.scheduledRunLogBytes / 1024 ** 3) * p.logsIngestionPerGb);
  let scheduled = 0;
  for (const work of counts.scheduled) {
    const runs = work.runsPerMonth ?? 0;
    for (const f of work.functions) scheduled += run(runs, f);
    scheduled += (runs * work.topics * p.snsPublishPerMillion) / 1e6;
    if (work.via === 'scheduler') scheduled += (runs * p.schedulerInvocationPerMillion) / 1e6;
  }
  for (const sub of counts.tickSubscriptions) {
    // An unresolvable endpoint is priced as a 128 MB x86 function: the cheapest CloudFormation default is no excuse to drop it.
    scheduled += run(tickRuns, sub.function ?? { memoryMb: 128, arm: false }) + (tickRuns * p.snsLambdaDeliveryPerMillion) / 1e6;
  }
  const customMetrics = isSite ? model.idleCustomMetricsPerSite * p.customMetricPerMonth : 0;
  return { waf, alarms, dashboards, kms, scheduled, customMetrics, total: waf + alarms + dashboards + kms + scheduled + customMetrics };
}

/** The account's free dashboards (of up to 50 metrics), as a credit against the shared cost. */
function freeDashboardCredit(dashboards: ReadonlyArray<{ metrics: number | null; copies: number }>, p: FleetPrices): number {
  const eligible = dashboards.reduce((sum, d) => sum + (d.metrics !== null && d.metrics <= p.freeDashboardMaxMetrics ? d.copies : 0), 0);
  return Math.min(p.freeDashboards, eligible) * p.dashboardPerMonth;
}

/** Idle cost per site, shared costs spread over `sizes` sites (homogeneous: the groups scaled to that size). */
function idleAt(input: PlanInput, model: ModelInputs, p: FleetPrices, size: number) {
  const tickRuns = sharedTickRuns(input.shared);
  const planned = input.sites.reduce((sum, g) => sum + g.copies, 0);
  const scale = size / planned;
  const shared = input.shared.map((s) => idleOwn(s, tickRuns, model, p, false)).reduce(add, ZERO);
  const dashboards = [
    ...input.shared.flatMap((s) => s.dashboards.map((d) => ({ metrics: d.metrics, copies: 1 }))),
    ...input.sites.flatMap((g) => g.counts.dashboards.map((d) => ({ metrics: d.metrics, copies: g.copies * scale }))),
  ];
  const credit = freeDashboardCredit(dashboards, p);
  const sharedTotal = { ...shared, dashboards: shared.dashboards - credit, total: shared.total - credit };
  const own = input.sites.map((g) => ({
    siteId: g.counts.siteId ?? g.counts.stack,
    copies: g.copies,
    cost: idleOwn(g.counts, tickRuns, model, p, true),
  }));
  const meanOwn = own.reduce((sum, s) => sum + s.cost.total * s.copies, 0) / planned;
  const meanParts = own.reduce((sum, s) => add(sum, scaleCost(s.cost, s.copies / planned)), ZERO);
  return { own, meanOwn, meanParts, shared: sharedTotal, perSite: meanOwn + sharedTotal.total / size };
}

const scaleCost = (c: IdleCost, f: number): IdleCost =>
  Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v * f])) as unknown as IdleCost;

/** The first site (1-based, in plan order, the last group repeated beyond it) at which `used` passes `limit`. */
export function firstSiteOver(
  start: number,
  groups: ReadonlyArray<{ use: number; copies: number }>,
  limit: number,
): { site: number | null; extrapolated: boolean } {
  if (start > limit) return { site: 1, extrapolated: false };
  let used = start;
  let site = 0;
  for (const { use, copies } of groups) {
    if (use > 0 && used + use * copies > limit) return { site: site + Math.floor((limit - used) / use) + 1, extrapolated: false };
    used += use * copies;
    site += copies;
  }
  const last = groups.at(-1)?.use ?? 0;
  if (last <= 0) return { site: null, extrapolated: false };
  return { site: site + Math.floor((limit - used) / last) + 1, extrapolated: true };
}

export function plan(input: PlanInput): Plan {
  const model: ModelInputs = { ...DEFAULT_MODEL, ...input.model };
  const p = input.prices ?? FLEET_PRICES;
  if (input.sites.length === 0) throw new Error('fleet plan: no site to plan (configure one in cdk.json context "sites")');
  const planned = input.sites.reduce((sum, g) => sum + g.copies, 0);

  const use = (counts: StackCounts, key: CountKey): number | null =>
    key === 'lambdaCodeBytes' ? (input.bundleBytes === null ? null : counts.quota.lambdaFunctions * input.bundleBytes) : counts.quota[key];

  const quotas: QuotaRow[] = QUOTAS.map((q) => {
    const baseline = input.existing?.[q.key] ?? q.baseline;
    const perGroup = input.sites.map((g) => ({ use: use(g.counts, q.key), copies: g.copies }));
    const sharedUses = input.shared.map((s) => use(s, q.key));
    const unknown = perGroup.some((g) => g.use === null) || sharedUses.some((u) => u === null);
    const shared = sharedUses.reduce<number>((sum, u) => sum + (u ?? 0), 0);
    const total = unknown ? null : baseline + shared + perGroup.reduce((sum, g) => sum + g.use! * g.copies, 0);
    const first =
      q.limit === null || unknown
        ? { site: null, extrapolated: false }
        : firstSiteOver(baseline + shared, perGroup as Array<{ use: number; copies: number }>, q.limit);
    return {
      key: q.key,
      name: q.name,
      scope: q.scope,
      perSite: perGroup[0]!.use,
      shared,
      baseline,
      baselineNote: input.existing?.[q.key] === undefined ? q.baselineNote : 'as given',
      total,
      limit: q.limit,
      firstSite: first.site,
      extrapolated: first.extrapolated,
      raisable: q.raisable,
      how: q.how,
      code: q.code,
      source: q.source,
      unit: q.unit,
    };
  });
  const met = quotas.filter((q) => q.firstSite !== null).sort((a, b) => a.firstSite! - b.firstSite!)[0];

  // Rate quotas: what the sites may draw at once against what the account has.
  const siteRate = (g: SiteGroup) => g.counts.stageRatesPerSecond.reduce((sum, r) => sum + r, 0);
  const sumRates = input.sites.reduce((sum, g) => sum + siteRate(g) * g.copies, 0);
  const api = RATE_QUOTAS.apiGatewayRequestsPerSecond;
  const firstOver = firstSiteOver(
    0,
    input.sites.map((g) => ({ use: siteRate(g), copies: g.copies })),
    api.limit,
  );
  const meanRps = (model.callbacksPerSiteMonth / (HOURS_PER_MONTH * 3600)) * planned;
  const receiveMs = input.traffic?.receiveMs ?? null;
  const lambda = RATE_QUOTAS.lambdaConcurrency;
  const concurrencyLimit = input.accountConcurrency ?? lambda.limit;
  const perSite: SiteShare[] = input.sites.map((g) => ({
    siteId: g.counts.siteId ?? g.counts.stack,
    copies: g.copies,
    share: g.counts.concurrency.share,
    capped: g.counts.concurrency.capped,
    reserved: g.counts.concurrency.reserved,
    apiFunctions: g.counts.concurrency.apiFunctions.length,
    apiMethods: g.counts.concurrency.apiFunctions.reduce((sum, f) => sum + f.methods.length, 0),
  }));
  const sharedShare = input.shared.reduce((sum, s) => sum + s.concurrency.share, 0);
  const shareSum = sharedShare + perSite.reduce((sum, s) => sum + s.share * s.copies, 0);
  const reservedSum =
    input.shared.reduce((sum, s) => sum + s.concurrency.reserved, 0) + perSite.reduce((sum, s) => sum + s.reserved * s.copies, 0);

  const sizes = [...new Set([1, 50, 500, planned])].sort((a, b) => a - b);
  const idleUsdPerSiteMonth = Object.fromEntries(sizes.map((n) => [String(n), idleAt(input, model, p, n).perSite]));
  const atPlan = idleAt(input, model, p, planned);

  const metrics = busyCustomMetrics();
  const busyMetricsUsd = Math.max(metrics.atMix, model.idleCustomMetricsPerSite) * p.customMetricPerMonth;
  const millions = model.callbacksPerSiteMonth / 1e6;
  const wafSites = input.sites.some((g) => g.counts.types['AWS::WAFv2::WebACLAssociation'] || g.counts.webAcls.length > 0);
  const traffic = input.traffic ? millions * input.traffic.perMillionUsd : null;
  const wafRequests = input.traffic && !input.traffic.wafIncluded && wafSites ? millions * PRICES.wafPerMillionRequests : 0;
  const logs = busyLogs(model, p);
  const atVolume =
    traffic === null
      ? null
      : atPlan.perSite -
        atPlan.meanParts.customMetrics +
        traffic +
        (wafRequests ?? 0) +
        busyMetricsUsd +
        logs.ingestionUsd +
        logs.insightsUsd;

  return {
    mode: input.mode,
    sites: planned,
    resources: {
      perSite: input.sites.map((g) => ({
        siteId: g.counts.siteId ?? g.counts.stack,
        stack: g.counts.stack,
        copies: g.copies,
        resources: g.counts.resources,
      })),
      shared: input.shared.map((s) => ({ stack: s.stack, resources: s.resources })),
      total: input.sites.reduce((sum, g) => sum + g.counts.resources * g.copies, 0) + input.shared.reduce((sum, s) => sum + s.resources, 0),
    },
    quotas,
    firstDefaultQuotaSite: met ? { site: met.firstSite!, quota: met.name, raisable: met.raisable } : null,
    rates: {
      apiGateway: {
        limit: api.limit,
        perSiteRequestsPerSecond: siteRate(input.sites[0]!),
        sumAtPlan: sumRates,
        oversubscription: sumRates / api.limit,
        firstOversubscribedSite: firstOver.site,
        meanRequestsPerSecondAtVolume: meanRps,
        how: api.how,
        source: api.source,
      },
      lambdaConcurrency: {
        limit: concurrencyLimit,
        receiveMs,
        atFullThrottle: receiveMs === null ? null : (sumRates * receiveMs) / 1000,
        atVolumeMean: receiveMs === null ? null : (meanRps * receiveMs) / 1000,
        tickBurst: input.sites.reduce((sum, g) => sum + g.copies * g.counts.tickSubscriptions.length, 0),
        perSite,
        sum: shareSum,
        left: concurrencyLimit - shareSum,
        overQuota: shareSum > concurrencyLimit,
        reserved: reservedSum,
        reservationsFit: reservedSum <= concurrencyLimit - LAMBDA_UNRESERVED_MINIMUM,
        limitSource: input.accountConcurrency === undefined ? "AWS's default" : 'as given',
        how: lambda.how,
        source: lambda.source,
      },
    },
    cost: {
      idleUsdPerSiteMonth,
      idleAtPlan: { perSite: atPlan.meanParts, shared: atPlan.shared, sharedPerSite: atPlan.shared.total / planned },
      bySite: atPlan.own.map((s) => ({ siteId: s.siteId, usd: s.cost.total + atPlan.shared.total / planned })),
      atVolume: {
        callbacksPerSiteMonth: model.callbacksPerSiteMonth,
        usdPerSiteMonth: atVolume,
        traffic,
        wafRequests: input.traffic ? wafRequests : null,
        customMetrics: { ...metrics, usd: busyMetricsUsd },
        logs,
        source: input.traffic?.source ?? null,
      },
      inputs: {
        prices: `public list prices, ${PRICE_REGION}, ${PRICE_DATE} (fleet/prices.ts, each with its source)`,
        model,
        assumptions: [
          `a month is ${HOURS_PER_MONTH} hours; free tiers are not counted except the account's ${p.freeDashboards} free dashboards (≤ ${p.freeDashboardMaxMetrics} metrics each)`,
          `each scheduled run (a model): ${model.scheduledRunMs} ms billed, ${model.scheduledRunReadUnits} read units, ${model.scheduledRunLogBytes} bytes of logs`,
          `idle custom metrics: ${model.idleCustomMetricsPerSite} a site (a handler writes no metric when there is nothing to count; override with --idle-custom-metrics)`,
          `a busy site (${model.callbacksPerSiteMonth.toLocaleString('en-US')} callbacks a month) sends ${metrics.atMix} custom metric series every hour (a model: the rejected requests of the mix and the projection lag, each site-wide; accepted and duplicate requests are log lines, not metrics; all ${metrics.upperBound} series of the contract at most)`,
          `its functions log ${model.logBytesPerCallback.toLocaleString('en-US')} bytes a callback at the mix (${logs.ingestedGb.toFixed(2)} GB a month ingested; measured: dev/bench/log-bytes.ts, --log-bytes to override); storage of logs is left out (it depends on retention)`,
          `Logs Insights (a model): ${model.logsInsightsViewsPerDay} views a day of ${model.logsInsightsQueriesPerView} queries, each scanning a day of the site's logs (${logs.insightsScannedGb.toFixed(1)} GB a month scanned; --insights-views to override)`,
          'shared stacks (account, fleet) are divided among the sites',
        ],
      },
    },
  };
}
