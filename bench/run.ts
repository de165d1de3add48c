import '../local/quiet-sdk-warning';
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { measureBundle } from './bundle-size';
import { messageFrom, startChild, stopChild } from './child';
import { measureColdStart } from './cold-start';
import { TABLE } from '../lambdas/adapters/shapes';
import { LAMBDA_MEMORY_MB, MIX, measureCost, PRICES, sustainedNewPerSecond } from './cost-model';
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
log('M7 cost in billing units, ours and the Powertools-idempotency peer, on DynamoDB Local + fauxqs…');
const cost = await measureCost(log);

const EXPECTED_NEW = ['DynamoDB.PutItem', 'SQS.SendMessage', 'DynamoDB.UpdateItem'];
const EXPECTED_DUPLICATE = ['DynamoDB.PutItem'];
const same = (a: string[], b: string[]) => a.join() === b.join();

const rows: string[][] = [
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

// M7: units per message, priced.
const usd = (value: number) => `$${value.toFixed(2)}`;
const units = (u: { wru: number; rru: number; s3Put: number; sqsChunks: number }) =>
  `${round(u.wru, 1)} WRU${u.rru ? ` + ${round(u.rru, 1)} RRU` : ''}${u.s3Put ? ` + ${round(u.s3Put, 1)} S3 PUT` : ''} + ${round(u.sqsChunks, 1)} SQS`;
const c150 = cost.ours.cases.CDAStatus150KB!;
const capacity = sustainedNewPerSecond(cost.ours.cases.REMDStatus!.new.wru);
const ratioFloor = cost.perMillion.ours / cost.perMillion.floor;
const unitRows = Object.entries(cost.ours.cases).map(([name, o]) => {
  const p = cost.peer.cases[name]!;
  return `| ${name} | ${round(o.bodyBytes / 1024, 1)} KB | ${units(o.new)} | ${units(o.duplicate)} | ${units(o.conflict)} | ${o.deferred ? units(o.deferred) : '—'} | ${o.reconciled ? units(o.reconciled) : '—'} | ${round(o.newMs, 1)} ms | ${units(p.new)} | ${units(p.duplicate)} | ${round(p.newMs, 1)} ms | ${usd(cost.perCase[name]!.ours * 1e6)} / ${usd(cost.perCase[name]!.peer * 1e6)} / ${usd(cost.perCase[name]!.floor * 1e6)} |`;
});
// Lambda memory: CPU scales with memory (1,769 MB = one vCPU); the I/O wait does not.
const ioMs = Math.max(0, cost.ours.cases.REMDStatus!.newMs - handler.cpuMsPerRequest);
const memoryRows = [128, 256, 512, 1024, 1769].map((mb) => {
  const share = Math.min(1, mb / 1769);
  const warm = ioMs + handler.cpuMsPerRequest / share;
  const coldInit = cold.p50Ms / share;
  const perMillion = 1e6 * (Math.ceil(warm) * (mb / 1024 / 1000) * PRICES.lambdaArmPerGbSecond);
  return { mb, warm, coldInit, perMillion };
});
rows.push(
  ['M7', 'write units, new CDAStatus with a 150 KB payload', units(c150.new), '≤ 160 WRU', verdict(c150.new.wru <= 160)],
  ['M7', 'write units, its duplicate', units(c150.duplicate), '≤ 2 WRU', verdict(c150.duplicate.wru <= 2)],
  [
    'M7',
    'USD per million callbacks at the mix, all-in: ours / peer / floor',
    `${usd(cost.perMillion.ours)} / ${usd(cost.perMillion.peer)} / ${usd(cost.perMillion.floor)} (${round(ratioFloor, 2)} × floor)`,
    '≤ 1.3 × floor, ≤ peer',
    verdict(ratioFloor <= 1.3 && cost.perMillion.ours <= cost.perMillion.peer),
  ],
  [
    'M7',
    'the same, storage and queue only (no gateway, WAF, Lambda): ours / floor',
    `${usd(cost.perMillion.oursStorageAndQueue)} / ${usd(cost.perMillion.floorStorageAndQueue)}`,
    '—',
    '—',
  ],
  [
    'M7',
    'new messages a second one site sustains before DynamoDB pushes back',
    `${capacity.binding}`,
    '≥ 2,000',
    verdict(capacity.binding >= 2000),
  ],
  [
    'M3 / M5 / M6 peer',
    'peer beside ours on the emulators: CPU per message; AWS calls (new); sequential ack p50 / p99',
    `peer ${round(cost.peer.cpuMsPerMessage, 2)} ms; ${cost.peer.cases.REMDStatus!.new.calls.join(', ')}; ${round(cost.peer.latency.p50, 1)} / ${round(cost.peer.latency.p99, 1)} ms — ours ${round(cost.ours.cpuMsPerMessage, 2)} ms; ${cost.ours.cases.REMDStatus!.new.calls.join(', ')}; ${round(cost.ours.latency.p50, 1)} / ${round(cost.ours.latency.p99, 1)} ms`,
    '—',
    '—',
  ],
);
writeFileSync(
  'docs/benchmarks.json',
  `${JSON.stringify(
    {
      machine: { cpus: cpus().length, node: process.version, date: new Date().toISOString().slice(0, 10), short: Boolean(quick) },
      M7: {
        newMessageWru: {
          ...Object.fromEntries(
            Object.entries(cost.ours.cases)
              .filter(([name]) => !/KB$/.test(name))
              .map(([name, c]) => [name, c.new.wru]),
          ),
          CDAStatus150KB: c150.new.wru,
        },
        duplicateWru: { CDAStatus150KB: c150.duplicate.wru },
        costPerMillionUsd: {
          ours: round(cost.perMillion.ours, 3),
          peer: round(cost.perMillion.peer, 3),
          floor: round(cost.perMillion.floor, 3),
        },
        maxSustainedNewPerSecondPerSite: capacity.binding,
        capacityBounds: capacity,
        prices: PRICES,
        mix: MIX,
        units: { ours: cost.ours.cases, peer: cost.peer.cases },
        lambdaMemory: memoryRows,
      },
    },
    null,
    2,
  )}\n`,
);

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

## M7: cost in billing units, side by side with the standard AWS way

Prices: public on-demand, ${PRICES.region}, ${PRICES.date}: API Gateway REST $${PRICES.apiGatewayRestPerMillion}/M requests, WAF
$${PRICES.wafPerMillionRequests}/M requests (ours only: the oversize guard), Lambda arm64 $${PRICES.lambdaPerMillionRequests}/M requests +
$${PRICES.lambdaArmPerGbSecond}/GB-s at ${LAMBDA_MEMORY_MB} MB, DynamoDB on-demand $${PRICES.dynamoWruPerMillion}/M WRU and $${PRICES.dynamoRruPerMillion}/M RRU,
S3 $${PRICES.s3PutPerMillion}/M PUT and $${PRICES.s3GetPerMillion}/M GET (the consumer's fetch of a claim-checked payload), SQS FIFO $${PRICES.sqsFifoPerMillion}/M
requests of 64 KB. Storage (DynamoDB $0.25, S3 $0.023 per GB-month) is left out: it depends on retention, not on the
callback. Mix: ${MIX.map((m) => `${m.case} ${m.share * 100} %`).join(', ')}.

The peer (\`bench/peer/\`) is Powertools \`makeIdempotent\` + \`DynamoDBPersistenceLayer\` around one SQS send: it keeps
a hash and the ack, not the payload, so it cannot forward later (no deferred path, no reconciler), cannot tell a
conflict from a re-send, puts every payload into the queue message (SQS's limit caps it), and validates nothing.
The floor is what any design with our guarantees must spend: one durable write of the payload bytes (the cheaper
of DynamoDB by the KB or one S3 PUT + GET), one send, one 1-WRU state change, the gateway and one invocation.

| case | body | ours: new | duplicate | conflict | deferred (queue down) | reconciled, per message | ours ms | peer: new | peer duplicate | peer ms | USD/M ours / peer / floor |
|---|---|---|---|---|---|---|---|---|---|---|---|
${unitRows.join('\n')}

Where ours spends more than the floor, per new message: the pending index (2 WRU: listed at the put, removed
by the mark — the price of the reconciler forwarding a message whose function died), the arrivals index (1
WRU, what \`n3-callback tail\` reads), WAF ($0.60/M), and, for payloads above 4 KiB, one strong read (1 RRU)
that spares a re-send the upload. Capacity (sustained new messages a second per site, DynamoDB-bound):
pending index ${capacity.pendingIndex} (${TABLE.shards} shards × 1,000 WRU/s ÷ 2), arrivals index ${capacity.arrivalsIndex}, a new on-demand
table's initial 4,000 WRU/s ÷ table units per message = ${capacity.newTable}; see README, Capacity, for the other services.

Lambda memory, from the measured CPU per request (${round(handler.cpuMsPerRequest, 2)} ms on a full core, M3), I/O wait
${round(ioMs, 1)} ms (the emulators), and cold init (${round(cold.p50Ms, 0)} ms on a full core, M2); CPU share = memory ÷ 1,769 MB:

| memory | warm duration | cold init | Lambda USD per million (duration only) |
|---|---|---|---|
${memoryRows.map((m) => `| ${m.mb} MB | ${round(m.warm, 1)} ms | ${round(m.coldInit, 0)} ms | $${m.perMillion.toFixed(3)} |`).join('\n')}

How each is measured: M1 esbuild with the stack's own settings (\`lib/bundling.ts\`), metafile per package.
M2 \`node <bundle>\` minus \`node -e 0\`, interleaved, same run. M3 the deployed handler (middy, Powertools
logs and EMF metrics) with the real SDK clients over an in-memory transport that answers at once, so
serialisation, signing and parsing run; logs to /dev/null. M4 autocannon, 10 connections, unique MessageIds,
both servers in their own process. M5 counted at that transport. M6 an open-loop generator (latency from the
scheduled send time) against the local product in its own process.
`;
writeFileSync('docs/benchmarks.md', markdown);
console.log(markdown);
