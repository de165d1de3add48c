import '../../local/quiet-sdk-warning';
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { asLambda } from '../../lambdas/handlers/middleware';
import { createReceiveHandler, type ReceiveDeps } from '../../lambdas/handlers/receive-handler';
import { InMemoryRejectedStore, inMemoryPorts } from '../../testing/fakes';
import { lambdaContext } from '../../local/gateway';
import { proxyEvent } from '../../testing/events';
import { EXAMPLES } from '../../testing/messages';
import { cannedAws } from './canned-aws';
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

/** The deployed wrapping (lambdas/handlers/index.ts): logs and EMF metrics are part of the cost. */
function deployed(ports: ReceiveDeps['ports']): Handler {
  const logger = new Logger({ serviceName: 'bench', logLevel: 'INFO' });
  const metrics = new Metrics({ namespace: 'bench', serviceName: 'bench' });
  const deps: ReceiveDeps = {
    ports,
    rejectedStore: new InMemoryRejectedStore(),
    settings: { site: 'bench', retentionDays: 30, maxInlinePayloadBytes: 200 * 1024 },
    maxBodyBytes: 4 * 1024 * 1024,
    logger,
    metrics,
  };
  const wrapped = asLambda(createReceiveHandler('REMDStatus', deps), deps);
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
  const { adapters, calls } = cannedAws();
  const handler = deployed(adapters.ports);

  const first = randomUUID();
  calls.length = 0;
  await handler(eventFor(first));
  const callsNew = [...calls];
  calls.length = 0;
  await handler(eventFor(first));
  const callsDuplicate = [...calls];

  const sdk = await time(handler, requests);
  const ours = await time(deployed(inMemoryPorts()), requests);
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
