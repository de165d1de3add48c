import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { EXAMPLES } from '../../testing/messages';
import { messageFrom, startChild, stopChild } from './child';

/*
 * M4: requests per second through the local HTTP adapter with instant fakes, divided by a bare
 * node:http server answering a constant ack: same machine, same client (autocannon), same body,
 * same run. The ratio is what our adapter, decoding, validation and logging cost.
 */

export interface ThroughputReport {
  readonly bareRps: number;
  readonly gatewayRps: number;
  /** The gateway with INFO logs off: what the per-request log line costs. */
  readonly quietGatewayRps: number;
  readonly ratio: number;
  readonly errors: number;
}

async function load(url: string, seconds: number): Promise<{ rps: number; errors: number }> {
  const body = () => JSON.stringify({ ...EXAMPLES.SEMDStatus, MessageId: randomUUID() });
  const result = await autocannon({
    url: `${url}SEMDStatus`,
    connections: 10,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }],
  });
  return { rps: result.requests.average, errors: result.errors + result.non2xx };
}

export async function measureThroughput(seconds = 10): Promise<ThroughputReport> {
  const results: Record<string, { rps: number; errors: number }> = {};
  for (const [name, kind, logLevel] of [
    ['bare', 'bare', 'INFO'],
    ['gateway', 'gateway', 'INFO'],
    ['quiet', 'gateway', 'WARN'],
  ] as const) {
    // As `npm start` runs: EMF metrics off (they are CloudWatch's business), logs on.
    const child = startChild('dev/bench/servers.ts', [kind], { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: logLevel });
    try {
      const url = await messageFrom<string>(child, 'url');
      await load(url, 2); // warm up
      results[name] = await load(url, seconds);
    } finally {
      await stopChild(child);
    }
  }
  const bare = results.bare!;
  const gateway = results.gateway!;
  return {
    bareRps: bare.rps,
    gatewayRps: gateway.rps,
    quietGatewayRps: results.quiet!.rps,
    ratio: gateway.rps / bare.rps,
    errors: bare.errors + gateway.errors,
  };
}
