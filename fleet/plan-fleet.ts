import { existsSync, readFileSync } from 'node:fs';
import { generatedSite, cdkContext, type StackCounts, synthesiseAndCount } from './count';
import { type ModelInputs, type Plan, plan, type Traffic } from './plan';
import type { CountKey } from './quotas';

/*
 * `fleet plan` end to end: synthesise (the configured sites, or one generated site standing for N identical
 * ones), read the benchmark's measured figures (bundle size M1, cost per million M7), and run the model.
 * Benchmark M9 calls planFleet too.
 */

export class FleetPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetPlanError';
  }
}

export interface PlanFleetOptions {
  /** Plan N generated sites (copies of the first configured site); omitted: the configured sites. */
  readonly sites?: number;
  readonly existing?: Partial<Record<CountKey, number>>;
  readonly model?: Partial<ModelInputs>;
  /** Progress lines (synthesis takes seconds). */
  readonly progress?: (line: string) => void;
  /** docs/benchmarks.json or another run's result. */
  readonly benchmarks?: URL | string;
  /** The account's Lambda concurrent executions; undefined: cdk.json `fleet.accountConcurrency` where set, else 1,000. */
  readonly accountConcurrency?: number;
  /** Plan the example sites too (`--examples`), as `cdk synth -c examples=true` builds them. */
  readonly examples?: boolean;
}

export interface FleetPlan extends Plan {
  readonly synthSeconds: number;
  readonly bundle: { readonly bytes: number | null; readonly source: string };
  /** The keys benchmark M9 records (generated sites only). */
  readonly m9?: {
    readonly idleUsdPerSiteMonth: { readonly 1: number; readonly 50: number; readonly 500: number };
    readonly usdPerSiteMonthAtVolume: number | null;
    readonly firstDefaultQuotaSite: { readonly site: number; readonly quota: string } | null;
  };
}

interface Benchmarks {
  run?: { commit?: string; date?: string };
  measured?: { M1?: { deployed?: { bytes?: number } }; M9?: { logBytes?: { perCallbackAtMix?: number } } };
  models?: {
    cost?: { perMillion?: { ours?: { total?: number; waf?: number } } };
    capacity?: { inputs?: { receiveMsMeasuredOnEmulators?: number } };
  };
}

const DEFAULT_BENCHMARKS = new URL('../docs/benchmarks.json', import.meta.url);

function readBenchmarks(path: URL | string): { bundle: FleetPlan['bundle']; traffic: Traffic | null; logBytesPerCallback?: number } {
  if (!existsSync(path)) return { bundle: { bytes: null, source: `unknown: no ${String(path)}` }, traffic: null };
  const b = JSON.parse(readFileSync(path, 'utf8')) as Benchmarks;
  const at = `docs/benchmarks.json, commit ${b.run?.commit?.slice(0, 7) ?? 'unknown'} (${b.run?.date ?? 'undated'})`;
  const bytes = b.measured?.M1?.deployed?.bytes ?? null;
  const ours = b.models?.cost?.perMillion?.ours;
  const logBytesPerCallback = b.measured?.M9?.logBytes?.perCallbackAtMix;
  return {
    ...(logBytesPerCallback === undefined ? {} : { logBytesPerCallback }),
    bundle: { bytes, source: bytes === null ? `unknown: ${at} has no M1` : `M1 deployed bundle (minified, unzipped), ${at}` },
    traffic:
      ours?.total === undefined
        ? null
        : {
            perMillionUsd: ours.total,
            wafIncluded: ours.waf !== undefined && ours.waf > 0,
            receiveMs: b.models?.capacity?.inputs?.receiveMsMeasuredOnEmulators ?? null,
            source: `M7 cost per million at its mix (models.cost.perMillion.ours.total, projection and WAF included), ${at}`,
          },
  };
}

export function planFleet(options: PlanFleetOptions = {}): FleetPlan {
  const progress = options.progress ?? (() => {});
  const context = cdkContext();
  const configured = context.sites;
  if (options.sites !== undefined && (!Number.isInteger(options.sites) || options.sites < 1)) {
    throw new FleetPlanError(`--sites ${options.sites}: give a whole number of sites, at least 1`);
  }
  let sites: Array<{ counts: StackCounts; copies: number }>;
  let shared: StackCounts[];
  let seconds: number;
  if (options.sites === undefined) {
    progress('Synthesising the configured sites (cdk-nag included)…');
    const s = synthesiseAndCount(options.examples ? { examples: true } : {});
    sites = s.sites.map((counts) => ({ counts, copies: 1 }));
    ({ shared, seconds } = s);
  } else {
    const first = Array.isArray(configured) ? (configured[0] as Record<string, unknown> | undefined) : undefined;
    if (!first) throw new FleetPlanError('--sites needs an example site to copy: add one to cdk.json context "sites"');
    const generated = generatedSite(first);
    progress(`Synthesising one generated site (${String(generated.id)}, a copy of ${String(first.id)}) and the shared stacks…`);
    // The copy keeps the example's placeholder addresses (and its mark): a model of a site, built as the examples are.
    const s = synthesiseAndCount({ sites: [generated], examples: true });
    const counts = s.sites.find((c) => c.siteId === generated.id);
    if (!counts) throw new FleetPlanError(`the app made no stack for the generated site ${String(generated.id)}`);
    sites = [{ counts, copies: options.sites }];
    ({ shared, seconds } = s);
  }
  progress(`Synthesised in ${seconds.toFixed(1)} s.`);
  const { bundle, traffic, logBytesPerCallback } = readBenchmarks(options.benchmarks ?? DEFAULT_BENCHMARKS);
  const input = {
    sites,
    shared,
    mode: options.sites === undefined ? ('configured' as const) : ('generated' as const),
    bundleBytes: bundle.bytes,
    bundleSource: bundle.source,
    existing: options.existing,
    // The benchmark's measured log bytes where it has them, unless given (the model's default otherwise).
    model: { ...(logBytesPerCallback === undefined ? {} : { logBytesPerCallback }), ...options.model },
    traffic,
    // As given, else as cdk.json states it, else AWS's default (the plan says which).
    // (The synthesis above has checked cdk.json's fleet settings.)
    accountConcurrency: options.accountConcurrency ?? (context.fleet as { accountConcurrency?: number } | undefined)?.accountConcurrency,
  };
  const result = plan(input);
  const m9 =
    input.mode === 'generated'
      ? {
          idleUsdPerSiteMonth: {
            1: result.cost.idleUsdPerSiteMonth['1']!,
            50: result.cost.idleUsdPerSiteMonth['50']!,
            500: result.cost.idleUsdPerSiteMonth['500']!,
          },
          usdPerSiteMonthAtVolume: result.cost.atVolume.usdPerSiteMonth,
          firstDefaultQuotaSite: result.firstDefaultQuotaSite && {
            site: result.firstDefaultQuotaSite.site,
            quota: result.firstDefaultQuotaSite.quota,
          },
        }
      : undefined;
  return { ...result, synthSeconds: seconds, bundle, m9 };
}
