import '../../local/quiet-sdk-warning';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { hasJava } from '../../local/emulators';
import { writeBenchmarkDocs } from './benchmarks-doc';
import { measureBundles, type Bundle } from './bundle-size';
import { messageFrom, startChild, stopChild } from './child';
import { measureColdStart } from './cold-start';
import { measureEmulatorLatency } from './emulator-latency';
import { measureFleet } from './fleet';
import type { HandlerReport } from './handler-cpu';
import { capacityModel, costModel, memoryModel, parseCostModel } from './models';
import type { ParseCostReport } from './parse-cost';
import { provenance } from './provenance';
import type { BenchmarksResult } from './result';
import { measureThroughput } from './throughput';
import { measureUnits } from './units';

/*
 * `npm run bench [-- --allow-dirty]`: every metric, measured in one run at one commit, written to
 * docs/benchmarks.json (measurements apart from models); docs/benchmarks.md and docs/performance.md's
 * performance and capacity sections are then generated from that file. Numbers are of this machine;
 * ratios travel better. BENCH_SECONDS (M4, M6), BENCH_REQUESTS (M3), BENCH_COLD_RUNS (M2) and BENCH_PARSE_RUNS (M10) shorten a run:
 * such a run, or one from a tree with uncommitted changes, is marked provisional.
 */

const JSON_FILE = 'docs/benchmarks.json';
const log = (text: string) => console.error(text);

const { values: flags } = parseArgs({ options: { 'allow-dirty': { type: 'boolean', default: false } } });
const started = Date.now();
const loadAtStart = loadavg()[0]!;

const source = provenance();
if (source.dirty.length > 0 && !flags['allow-dirty']) {
  fail(
    `uncommitted changes in ${source.dirty.join(', ')}: commit them first (the result names the commit it measured), or pass --allow-dirty for a provisional run`,
  );
}
if (!hasJava())
  fail(
    'M7 needs DynamoDB Local (Java): dynalite reports no index units. Install a JRE (apt-get install -y default-jre-headless) and rerun.',
  );

/** What shortens a run (and makes it provisional). */
const SHORTENING = ['BENCH_SECONDS', 'BENCH_REQUESTS', 'BENCH_COLD_RUNS', 'BENCH_PARSE_RUNS'];
const shortened = SHORTENING.filter((name) => process.env[name] !== undefined);
const quickSeconds = process.env.BENCH_SECONDS ? Number(process.env.BENCH_SECONDS) : undefined;
const m3Requests = Number(process.env.BENCH_REQUESTS ?? 5000);
const settings = {
  m3Requests,
  m4Seconds: quickSeconds ?? 10,
  m6Seconds: quickSeconds ?? 30,
  m6RatePerSecond: 200,
  coldStartRuns: Number(process.env.BENCH_COLD_RUNS ?? 30),
};

try {
  log('M1 bundles: deployed, SDK floor, per-function entries, the peer…');
  const bundles = await measureBundles();
  log(`M2 cold start (${settings.coldStartRuns} rounds of fresh processes, each bundle in every round)…`);
  const cold = measureColdStart(
    {
      ours: bundles.deployed.file,
      receiverOnly: bundles.receiverOnly.file,
      projectOnly: bundles.projectOnly.file,
      projectDynamoDbOnly: bundles.projectDynamoDbOnly.file,
      peer: bundles.peer.file,
      sdkFloor: bundles.sdkFloor.file,
    },
    settings.coldStartRuns,
  );
  log('M3/M5 warm handler on the canned transport…');
  const cpuChild = startChild('dev/bench/handler-cpu.ts', [], { BENCH_REQUESTS: String(m3Requests) });
  const handler = await messageFrom<HandlerReport>(cpuChild, 'report');
  await stopChild(cpuChild);
  log('M10 parse cost: the slowest valid body at the caps, and the 300,000-key body without them…');
  const parseChild = startChild('dev/bench/parse-cost.ts');
  const parseCost = await messageFrom<ParseCostReport>(parseChild, 'report');
  await stopChild(parseChild);
  log('M4 throughput: bare node:http vs the local adapter (autocannon)…');
  const throughput = await measureThroughput(settings.m4Seconds);
  log(`M6 ack latency on the emulators, open loop ${settings.m6RatePerSecond} req/s…`);
  const latency = await measureEmulatorLatency(settings.m6RatePerSecond, settings.m6Seconds);
  if (latency.dynamodb !== 'dynamodb-local') fail(`M6 ran on ${latency.dynamodb}, not DynamoDB Local`);
  log('M6′ the same on dynalite, and DynamoDB Local at 50 req/s…');
  const latencyDynalite = await measureEmulatorLatency(settings.m6RatePerSecond, settings.m6Seconds, 'dynalite');
  const latencyLow = await measureEmulatorLatency(50, settings.m6Seconds);
  log('M7 billing units, ours (receive + Project) and the Powertools-idempotency peer, on DynamoDB Local + fauxqs…');
  const units = await measureUnits(log);

  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: { start: loadAtStart, end: loadavg()[0]! },
  };
  const summary = (b: Bundle) => ({ entry: b.entry, bytes: b.bytes, exports: b.exports });
  const { callsNew, callsDuplicate, ...m3 } = handler;
  const m1 = {
    deployed: { ...summary(bundles.deployed), top: bundles.deployed.top },
    deployedWithoutSdkBytes: bundles.deployedWithoutSdkBytes,
    functions: bundles.functions,
    assetBytes: bundles.assetBytes,
    sdkFloor: summary(bundles.sdkFloor),
    receiverOnly: summary(bundles.receiverOnly),
    projectOnly: summary(bundles.projectOnly),
    projectDynamoDbOnly: summary(bundles.projectDynamoDbOnly),
    peer: summary(bundles.peer),
  };
  const cost = costModel(units);
  const capacity = capacityModel(units);
  const run = {
    commit: source.commit,
    dirty: source.dirty,
    provisional: source.dirty.length > 0 || shortened.length > 0,
    shortened,
    date: new Date().toISOString().slice(0, 10),
    durationSeconds: 0,
    machine,
    settings,
  };
  const fleet = await measureFleet({ run, measured: { M1: m1 }, models: { cost, capacity } }, log);
  const result: BenchmarksResult = {
    schema: 2,
    run: { ...run, durationSeconds: Math.round((Date.now() - started) / 1000) },
    measured: {
      M1: m1,
      M2: cold,
      M3: m3,
      M4: throughput,
      M5: { callsNew, callsDuplicate, projectCallsNew: Object.keys(units.ours.cases.REMDStatus!.projection!.calls) },
      M6: {
        dynamodbLocal: { ...withoutEmulator(latency), rate: settings.m6RatePerSecond, emulator: latency.dynamodb },
        dynalite: { ...withoutEmulator(latencyDynalite), rate: settings.m6RatePerSecond, emulator: latencyDynalite.dynamodb },
        dynamodbLocalLowRate: { ...withoutEmulator(latencyLow), rate: 50, emulator: latencyLow.dynamodb },
      },
      M7: units,
      M9: fleet,
      M10: parseCost,
    },
    models: {
      cost,
      lambdaMemory: { ...memoryModel(handler, cold, units, { cpu: machine.cpu, node: machine.node }), ...previousMemoryRows() },
      capacity,
      parseCost: parseCostModel(parseCost, machine),
    },
  };
  writeFileSync(JSON_FILE, formatJson(result));
  const written = writeBenchmarkDocs();
  log(
    `wrote ${[JSON_FILE, ...written].join(', ')} in ${Math.round((Date.now() - started) / 1000)} s${result.run.provisional ? ' (PROVISIONAL)' : ''}`,
  );
} catch (error) {
  fail((error as Error).message);
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(1);
}

function withoutEmulator<T extends { dynamodb: string }>(report: T): Omit<T, 'dynamodb'> {
  const { dynamodb: _, ...rest } = report;
  return rest;
}

/** The Lambda memory rows of the docs/benchmarks.json this run replaces (either format), for comparison. */
function previousMemoryRows(): { previousRun?: NonNullable<BenchmarksResult['models']['lambdaMemory']['previousRun']> } {
  if (!existsSync(JSON_FILE)) return {};
  try {
    const previous = JSON.parse(readFileSync(JSON_FILE, 'utf8'));
    const rows: Array<{ mb: number; usdPerMillion?: number; perMillion?: number }> =
      previous.models?.lambdaMemory?.rows ?? previous.M7?.lambdaMemory ?? [];
    if (rows.length === 0) return {};
    return {
      previousRun: {
        ...(previous.run?.commit ? { commit: previous.run.commit } : {}),
        date: previous.run?.date ?? previous.machine?.date ?? 'unrecorded',
        ...(previous.run?.machine?.cpu ? { cpu: previous.run.machine.cpu } : {}),
        usdPerMillion: Object.fromEntries(rows.map((r) => [String(r.mb), Number(r.usdPerMillion ?? r.perMillion)])),
      },
    };
  } catch {
    return {};
  }
}

/** Six significant digits; arrays and objects of plain values on one line (when short): readable diffs between runs. */
function formatJson(value: unknown): string {
  const text = JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v), 2);
  const oneLine = (open: string, close: string, limit: number) => (whole: string, items: string) => {
    const line = `${open}${items.split(/,\n\s*/).join(', ')}${close}`;
    return open === '[' || line.length <= limit ? line : whole;
  };
  return `${text
    .replace(/\[\n\s+([^[\]{}]*?)\n\s*\]/g, oneLine('[', ']', Number.POSITIVE_INFINITY))
    .replace(/\{\n\s+([^[\]{}]*?)\n\s*\}/g, oneLine('{ ', ' }', 120))}\n`;
}
