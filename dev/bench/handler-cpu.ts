import '../../local/quiet-sdk-warning';
import { randomUUID } from 'node:crypto';
import { wireReceivers, wireSite, type WiringOptions } from '../../lambdas/handlers/wiring';
import { InMemoryRejectedStore, inMemoryPorts } from '../../testing/fakes';
import { lambdaContext } from '../../local/gateway';
import { proxyEvent } from '../../testing/events';
import { EXAMPLES } from '../../testing/messages';
import { cannedAws } from './canned-aws';
import { SITE_ENV } from './site-env';
import { percentile } from './stats';

/*
 * M3 and M5, run in a child process whose stdout (the logs) goes nowhere:
 *  M3: warm handler time per request, real SDK clients on the canned transport, logs on;
 *  M5: AWS calls per new message and per duplicate, counted at the transport.
 */

export interface HandlerReport {
  readonly requests: number;
  /** The same, on in-memory ports: what is ours without the SDK. */
  readonly oursP50Ms: number;
  readonly oursP99Ms: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMsPerRequest: number;
  readonly callsNew: string[];
  readonly callsDuplicate: string[];
}

type Handler = (event: ReturnType<typeof proxyEvent>) => Promise<unknown>;

/**
 * The deployed function (lambdas/handlers/wiring, as the Lambda entry wires it, from a site's environment):
 * logs and EMF metrics are part of the cost. `clients`: the real SDK clients on the canned transport;
 * `adapters`: ready-made ports (in memory: what is ours without the SDK).
 */
function deployed(options: Pick<WiringOptions, 'clients' | 'adapters'>): Handler {
  const wrapped = wireReceivers(wireSite({ env: SITE_ENV, serviceName: 'bench', ...options })).REMDStatus;
  const context = lambdaContext('bench', 'REMDStatus');
  return (event) => wrapped(event, context);
}

const eventFor = (id: string) => proxyEvent({ path: '/REMDStatus', body: JSON.stringify({ ...EXAMPLES.REMDStatus, MessageId: id }) });

async function time(handler: Handler, requests: number) {
  const events = Array.from({ length: requests + 500 }, () => eventFor(randomUUID()));
  for (const event of events.splice(0, 500)) await handler(event); // warm up the JIT
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (const event of events) {
    const started = performance.now();
    await handler(event);
    times.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { p50: percentile(times, 50), p99: percentile(times, 99), cpuMs: (cpu.user + cpu.system) / 1000 / requests };
}

async function run(requests: number): Promise<HandlerReport> {
  const { clients, calls } = cannedAws();
  const handler = deployed({ clients });

  const first = randomUUID();
  calls.length = 0;
  await handler(eventFor(first));
  const callsNew = [...calls];
  calls.length = 0;
  await handler(eventFor(first));
  const callsDuplicate = [...calls];

  const sdk = await time(handler, requests);
  const ours = await time(deployed({ adapters: { ports: inMemoryPorts(), rejectedStore: new InMemoryRejectedStore() } }), requests);
  return {
    requests,
    p50Ms: sdk.p50,
    p99Ms: sdk.p99,
    cpuMsPerRequest: sdk.cpuMs,
    oursP50Ms: ours.p50,
    oursP99Ms: ours.p99,
    callsNew,
    callsDuplicate,
  };
}

if (process.send) {
  const report = await run(Number(process.env.BENCH_REQUESTS ?? 5000));
  process.send({ report });
}
