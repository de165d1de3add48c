import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { SITE_ENV } from './site-env';
import { percentile } from './stats';

/*
 * M2: what a cold start costs: a fresh node process importing a bundle (config read, SDK clients,
 * logger and metrics built) minus a fresh `node -e 0`. Every bundle (ours, the peer, the SDK floor,
 * the per-function entries) runs in the same rounds, interleaved, with the same environment and
 * flags, so that machine noise hits them alike.
 */

const ENV = {
  ...process.env,
  ...SITE_ENV,
  AWS_REGION: 'eu-central-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  // As the functions run (lib/functions.ts sets --enable-source-maps).
  NODE_OPTIONS: '--enable-source-maps --disable-warning=NodeVersionSupportWarning',
};

export interface ColdStart {
  readonly p25Ms: number;
  readonly p50Ms: number;
  readonly p75Ms: number;
  readonly p90Ms: number;
}

export interface ColdStartReport {
  readonly runs: number;
  /** `node -e 0`, p50: what every cold start pays before any bundle. */
  readonly bareMs: number;
  /** Per bundle: its import time minus the bare start of the same round. */
  readonly bundles: Readonly<Record<string, ColdStart>>;
}

export function measureColdStart(bundles: Readonly<Record<string, string>>, runs = 30): ColdStartReport {
  const time = (args: string[]) => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env: ENV, stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const files = Object.entries(bundles).map(([name, file]) => [name, resolve(file)] as const);
  const bare: number[] = [];
  const differences = new Map<string, number[]>(files.map(([name]) => [name, []]));
  // Warm the file system cache (and fail early on a bundle that does not start).
  time(['-e', '0']);
  for (const [, file] of files) time([file]);
  for (let i = 0; i < runs; i++) {
    const base = time(['-e', '0']);
    bare.push(base);
    for (const [name, file] of files) differences.get(name)!.push(time([file]) - base);
  }
  return {
    runs,
    bareMs: percentile(bare, 50),
    bundles: Object.fromEntries(
      [...differences].map(([name, values]) => [
        name,
        { p25Ms: percentile(values, 25), p50Ms: percentile(values, 50), p75Ms: percentile(values, 75), p90Ms: percentile(values, 90) },
      ]),
    ),
  };
}
