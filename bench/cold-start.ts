import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { median, percentile } from './stats';

/*
 * M2: what a cold start costs us: a fresh node process importing the bundle (config read,
 * SDK clients, logger and metrics built) minus a fresh `node -e 0`, both measured in this run,
 * interleaved so that machine noise hits both alike.
 */

const ENV = {
  ...process.env,
  SITE_ID: 'bench',
  TABLE_NAME: 'bench-messages',
  QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/000000000000/bench.fifo',
  BUCKET_NAME: 'bench-payloads',
  AWS_REGION: 'eu-central-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  // As the functions run (lib/functions.ts sets --enable-source-maps).
  NODE_OPTIONS: '--enable-source-maps --disable-warning=NodeVersionSupportWarning',
};

export interface ColdStartReport {
  readonly runs: number;
  readonly bareMs: number;
  readonly importMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
}

export function measureColdStart(bundleFile: string, runs = 30): ColdStartReport {
  const file = resolve(bundleFile);
  const time = (args: string[]) => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env: ENV, stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const bare: number[] = [];
  const loaded: number[] = [];
  time(['-e', '0']); // warm the file system cache
  time([file]);
  for (let i = 0; i < runs; i++) {
    bare.push(time(['-e', '0']));
    loaded.push(time([file]));
  }
  const differences = loaded.map((ms, i) => ms - bare[i]!);
  return { runs, bareMs: median(bare), importMs: median(loaded), p50Ms: median(differences), p90Ms: percentile(differences, 90) };
}
