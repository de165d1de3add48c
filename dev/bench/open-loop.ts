import { percentile } from './stats';

/*
 * An open-loop load generator: requests start on a fixed schedule whatever the server does,
 * and each latency counts from the scheduled start, so a stall shows up in every request it
 * delays (no coordinated omission). Bounded in count and time, loopback targets only.
 */

export interface OpenLoopOptions {
  readonly rate: number;
  readonly seconds: number;
  /** The i-th request; resolves to true when its answer was what it should be. */
  readonly send: (index: number) => Promise<boolean>;
  readonly onProgress?: (sent: number, total: number) => void;
}

export interface OpenLoopReport {
  readonly sent: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly achievedRate: number;
}

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopReport> {
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  let failed = 0;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      options
        .send(i)
        .then(
          (ok) => {
            if (!ok) failed++;
          },
          () => void failed++,
        )
        .finally(() => void latencies.push(performance.now() - scheduled)),
    );
    if (i % options.rate === 0) options.onProgress?.(i, total);
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  return {
    sent: total,
    failed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
    achievedRate: total / elapsed,
  };
}
