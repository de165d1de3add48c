import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planFleet } from '../../fleet/plan-fleet';
import type { BenchmarksResult, FleetReport } from './result';
import { measureLogBytes } from './log-bytes';
import { measureSynth } from './synth-fleet';

/** The fleet sizes M9 prices, and the one it synthesises. */
export const FLEET_SITES = 500;

/**
 * M9: what a fleet costs and meets. The synthesis of 500 sites is measured; the dollars and the first quota
 * are `fleet plan`'s model, fed with this run's own bundle size (M1), cost per million (M7) and log bytes per callback
 * (measured here), not with the docs/benchmarks.json this run replaces.
 */
export async function measureFleet(
  current: Pick<BenchmarksResult, 'run'> & {
    measured: Pick<BenchmarksResult['measured'], 'M1'>;
    models: Pick<BenchmarksResult['models'], 'cost' | 'capacity'>;
  },
  log: (line: string) => void,
): Promise<FleetReport> {
  log(`M9 fleet: \`cdk synth\` of ${FLEET_SITES} generated sites (bundling included), in a child process…`);
  const synth = await measureSynth({ sites: FLEET_SITES });
  log('M9 fleet: log bytes per callback (dev/bench/log-bytes.ts)…');
  const logBytes = await measureLogBytes();
  log(`M9 fleet: \`fleet plan --sites ${FLEET_SITES}\` on this run's M1, M7 and log bytes…`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-m9-'));
  try {
    const file = join(dir, 'benchmarks.json');
    writeFileSync(file, JSON.stringify(current));
    const plan = planFleet({ sites: FLEET_SITES, benchmarks: file, model: { logBytesPerCallback: logBytes.perCallbackAtMix } });
    const busy = plan.cost.atVolume;
    const m9 = plan.m9!;
    const perSite = (key: string) => plan.quotas.find((q) => q.key === key)?.perSite ?? 0;
    return {
      synth500: {
        seconds: synth.seconds,
        peakMb: synth.peakMb,
        largestProcessMb: synth.largestProcessMb,
        stacks: synth.stacks,
        method: synth.method,
      },
      idleUsdPerSiteMonth: m9.idleUsdPerSiteMonth,
      usdPerSiteMonthAtVolume: m9.usdPerSiteMonthAtVolume,
      busyParts: {
        customMetricSeries: busy.customMetrics.atMix,
        customMetricsUsd: busy.customMetrics.usd,
        logIngestionUsd: busy.logs.ingestionUsd,
        logsInsightsUsd: busy.logs.insightsUsd,
      },
      logBytes,
      firstDefaultQuotaSite: m9.firstDefaultQuotaSite,
      perSite: {
        resources: plan.resources.perSite[0]?.resources ?? 0,
        iamRoles: perSite('iamRoles'),
        alarms: perSite('alarms'),
        eventBridgeRules: perSite('eventBridgeRules'),
        wafWebAcls: perSite('wafWebAcls'),
      },
      model: {
        what: 'fleet/plan.ts: counts from the synthesised templates of this commit, priced with fleet/prices.ts',
        callbacksPerSiteMonth: plan.cost.atVolume.callbacksPerSiteMonth,
        inputs: [plan.cost.inputs.prices, ...plan.cost.inputs.assumptions],
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
