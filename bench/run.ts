import '../local/quiet-sdk-warning';
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { measureBundle } from './bundle-size';
import { messageFrom, startChild, stopChild } from './child';
import { measureColdStart } from './cold-start';
import { measureEmulatorLatency } from './emulator-latency';
import type { HandlerReport } from './handler-cpu';
import { round } from './stats';
import { measureThroughput } from './throughput';

/*
 * `npm run bench`: every metric, each against its target or a baseline measured in the same
 * run, written to docs/benchmarks.md. Numbers are of this machine; ratios travel better.
 * BENCH_SECONDS shortens M4/M6 for a quick look (the committed table uses the defaults).
 */

const quick = process.env.BENCH_SECONDS ? Number(process.env.BENCH_SECONDS) : undefined;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const log = (text: string) => console.error(text);

log('M1 bundle size…');
const bundle = await measureBundle();
log('M2 cold start (30 fresh processes each)…');
const cold = measureColdStart(bundle.file, 30);
log('M3/M5 warm handler on the canned transport…');
const cpuChild = startChild('bench/handler-cpu.ts');
const handler = await messageFrom<HandlerReport>(cpuChild, 'report');
await stopChild(cpuChild);
log('M4 throughput: bare node:http vs the local adapter (autocannon)…');
const throughput = await measureThroughput(quick ?? 10);
log('M6 ack latency on the emulators, open loop 200 req/s…');
const latency = await measureEmulatorLatency(200, quick ?? 30);
log('M6′ the same on dynalite, and DynamoDB Local at 50 req/s…');
const latencyDynalite = await measureEmulatorLatency(200, quick ?? 30, 'dynalite');
const latency50 = await measureEmulatorLatency(50, quick ?? 30);

const EXPECTED_NEW = ['DynamoDB.PutItem', 'SQS.SendMessage', 'DynamoDB.UpdateItem'];
const EXPECTED_DUPLICATE = ['DynamoDB.PutItem'];
const same = (a: string[], b: string[]) => a.join() === b.join();

const rows = [
  ['M1', 'bundle per function, minified (all seven share one)', kb(bundle.bytes), '≤ 300 KB', verdict(bundle.bytes <= 300 * 1024)],
  ['M1′', 'same bundle, AWS SDK left to the runtime (for comparison)', kb(bundle.bytesWithoutSdk), '—', '—'],
  [
    'M2',
    `cold import + client construction, p50 of ${cold.runs} (p90)`,
    `${round(cold.p50Ms, 1)} ms (${round(cold.p90Ms, 1)} ms)`,
    'p50 ≤ 50 ms',
    verdict(cold.p50Ms <= 50),
  ],
  [
    'M3',
    `warm handler per request, ${handler.requests} requests, p50`,
    `${round(handler.p50Ms, 3)} ms`,
    '≤ 0.3 ms',
    verdict(handler.p50Ms <= 0.3),
  ],
  ['M3', 'warm handler per request, p99', `${round(handler.p99Ms, 3)} ms`, '≤ 1.5 ms', verdict(handler.p99Ms <= 1.5)],
  ['M3', 'process CPU per request (user + system)', `${round(handler.cpuMsPerRequest, 3)} ms`, '—', '—'],
  [
    'M3′',
    'the same handler on in-memory ports (ours alone, no SDK), p50 / p99',
    `${round(handler.oursP50Ms, 3)} / ${round(handler.oursP99Ms, 3)} ms`,
    '—',
    '—',
  ],
  [
    'M4',
    `local adapter ÷ bare node:http, req/s (${round(throughput.gatewayRps, 0)} ÷ ${round(throughput.bareRps, 0)})`,
    `${round(throughput.ratio, 2)}`,
    '≥ 0.6',
    verdict(throughput.ratio >= 0.6 && throughput.errors === 0),
  ],
  ['M4′', 'the same with the per-request INFO log line off', `${round(throughput.quietGatewayRps / throughput.bareRps, 2)}`, '—', '—'],
  [
    'M5',
    'AWS calls for a new message',
    handler.callsNew.join(', '),
    EXPECTED_NEW.join(', '),
    verdict(same(handler.callsNew, EXPECTED_NEW)),
  ],
  [
    'M5',
    'AWS calls for a duplicate',
    handler.callsDuplicate.join(', '),
    EXPECTED_DUPLICATE.join(', '),
    verdict(same(handler.callsDuplicate, EXPECTED_DUPLICATE)),
  ],
  ['M6', `ack latency on the emulators, 200 req/s for ${quick ?? 30} s, p50`, `${round(latency.p50Ms, 1)} ms`, '—', '—'],
  [
    'M6',
    `ack latency p99 (max ${round(latency.maxMs, 0)} ms, ${latency.failed} failed of ${latency.sent})`,
    `${round(latency.p99Ms, 1)} ms`,
    'p99 ≤ 50 ms',
    verdict(latency.p99Ms <= 50 && latency.failed === 0),
  ],
  [
    'M6′',
    `same at 200 req/s on dynalite instead of DynamoDB Local, p50 / p99 (${latencyDynalite.failed} failed)`,
    `${round(latencyDynalite.p50Ms, 1)} / ${round(latencyDynalite.p99Ms, 1)} ms`,
    '—',
    '—',
  ],
  [
    'M6′',
    `DynamoDB Local at 50 req/s, p50 / p99 (${latency50.failed} failed)`,
    `${round(latency50.p50Ms, 1)} / ${round(latency50.p99Ms, 1)} ms`,
    '—',
    '—',
  ],
];

const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, commit ${commit}, ${new Date().toISOString().slice(0, 10)}, DynamoDB emulator: ${latency.dynamodb}${quick ? `, SHORT RUN (${quick} s)` : ''}`;
const contributors = bundle.top.map((t) => `${t.name} ${kb(t.bytes)}`).join(' · ');
const markdown = `# Benchmarks

\`npm run bench\` wrote this. ${machine}.

| # | metric | result | target | |
|---|---|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Largest parts of the bundle: ${contributors}.

How each is measured: M1 esbuild with the stack's own settings (\`lib/bundling.ts\`), metafile per package.
M2 \`node <bundle>\` minus \`node -e 0\`, interleaved, same run. M3 the deployed handler (middy, Powertools
logs and EMF metrics) with the real SDK clients over an in-memory transport that answers at once, so
serialisation, signing and parsing run; logs to /dev/null. M4 autocannon, 10 connections, unique MessageIds,
both servers in their own process. M5 counted at that transport. M6 an open-loop generator (latency from the
scheduled send time) against the local product in its own process.
`;
writeFileSync('docs/benchmarks.md', markdown);
console.log(markdown);
