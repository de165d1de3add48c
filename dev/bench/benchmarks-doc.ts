import { readFileSync, writeFileSync } from 'node:fs';
import type { MeasuredUnits } from './units';
import type { BenchmarksResult } from './result';
import type { Cost } from './models';
import { MEASURED_PATHS } from './provenance';

/*
 * docs/benchmarks.json → docs/benchmarks.md and docs/performance.md's generated part (between
 * the bench markers). Every figure in them comes from the json; the targets are the only numbers here.
 * `npm run bench` calls this after a run; `npm run bench:doc` after editing this file. A test checks
 * that the committed docs/performance.md and docs/benchmarks.md are what this makes of the committed json.
 */

export const PERFORMANCE_START =
  '<!-- bench:start: generated from docs/benchmarks.json by `npm run bench:doc` (dev/bench/benchmarks-doc.ts); edit there, not here -->';
export const PERFORMANCE_END = '<!-- bench:end -->';

/** The goals each metric is held to (docs/performance.md). */
export const TARGETS = {
  bundleKb: 300,
  coldStartP50Ms: 50,
  warmP50Ms: 0.3,
  warmP99Ms: 1.5,
  throughputRatio: 0.6,
  callsNew: ['DynamoDB.PutItem', 'SQS.SendMessage', 'DynamoDB.UpdateItem'],
  callsDuplicate: ['DynamoDB.PutItem'],
  ackP99Ms: 50,
  new150KbWru: 160,
  duplicate150KbWru: 2,
  floorRatio: 1.3,
  idleUsdPerSiteMonthAt500: 2,
  /** Issue 29: a busy site (0.5 M callbacks a month), every part included. */
  busyUsdPerSiteMonth: 8,
  firstQuotaSiteAtLeast: 200,
  synth500Seconds: 120,
  synth500PeakMb: 1536,
  /** The slowest valid body, at a 512 MB Lambda's CPU share, within a third of the receiver's timeout. */
  parseShareOfTimeout: 1 / 3,
} as const;

// ---- formatting ----

const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
const fixed = (value: number, digits: number) => value.toFixed(digits);
const ms = (value: number, digits = 1) => `${fixed(value, digits)} ms`;
const usd = (value: number, digits = 2) => `$${fixed(value, digits)}`;
const pct = (value: number) => `${Math.round(value * 100)} %`;
const thousands = (value: number) => String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const trim = (value: number, digits = 2) => String(Number(value.toFixed(digits)));
/** A difference with its sign (a minus sign, not a hyphen). */
const signed = (value: number, format: (v: number) => string) => `${value < 0 ? '−' : '+'}${format(Math.abs(value))}`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const short = (commit: string) => commit.slice(0, 7);

function units(u: Pick<MeasuredUnits, 'wru' | 'rru' | 's3Put' | 'sqsChunks'>): string {
  const parts = [`${trim(u.wru, 1)} WRU`];
  if (u.rru) parts.push(`${trim(u.rru, 1)} RRU`);
  if (u.s3Put) parts.push(`${trim(u.s3Put, 1)} S3 PUT`);
  if (u.sqsChunks) parts.push(`${trim(u.sqsChunks, 1)} SQS`);
  return parts.join(' + ');
}

const calls = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([call, n]) => (n > 1 ? `${call} ×${trim(n)}` : call))
    .join(', ');

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length / 2) - 1))] ?? Number.NaN;
};

/** A Markdown table with its columns padded, as the README's other tables are. */
function table(header: string[], rows: string[][]): string {
  const width = (text: string) => [...text].length;
  const widths = header.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

// ---- shared pieces ----

function runLine(r: BenchmarksResult): string {
  const { run } = r;
  const m = run.machine;
  // A load average above the core count means other work shared the CPUs: every time below is then too slow.
  const busy = m.loadAverage.start > m.cpus ? ' (a busy machine: times are slower than it can do)' : '';
  const base = `commit \`${short(run.commit)}\`, ${m.cpus} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ${run.date}, ${thousands(run.durationSeconds)} s; load average ${trim(m.loadAverage.start, 1)} at the start${busy}, ${trim(m.loadAverage.end, 1)} at the end`;
  return run.provisional ? `${base}. **PROVISIONAL**: ${provisionalWhy(r)}; not for publishing` : base;
}

function provisionalWhy(r: BenchmarksResult): string {
  const why: string[] = [];
  if (r.run.dirty.length > 0) why.push(`measured with uncommitted changes in ${r.run.dirty.join(', ')}`);
  const s = r.run.settings;
  if (r.run.shortened.length > 0) {
    why.push(
      `shortened by ${r.run.shortened.join(', ')} (M2 ${s.coldStartRuns} rounds, M3 ${s.m3Requests} requests, M4 ${s.m4Seconds} s, M6 ${s.m6Seconds} s)`,
    );
  }
  return why.join('; ') || 'marked so';
}

interface Derived {
  readonly floorRatio: number;
  readonly peerRatio: number;
  readonly c150: BenchmarksResult['measured']['M7']['ours']['cases'][string];
  readonly remd: BenchmarksResult['measured']['M7']['ours']['cases'][string];
}

function derive(r: BenchmarksResult): Derived {
  const cost = r.models.cost.perMillion;
  return {
    floorRatio: cost.ours.total / cost.floor.total,
    peerRatio: cost.ours.total / cost.peer.total,
    c150: r.measured.M7.ours.cases.CDAStatus150KB!,
    remd: r.measured.M7.ours.cases.REMDStatus!,
  };
}

function measuredRows(r: BenchmarksResult, full: boolean): string[][] {
  const { M1, M2, M3, M4, M5, M6, M7 } = r.measured;
  const d = derive(r);
  const cold = M2.bundles;
  const same = (a: readonly string[], b: readonly string[]) => a.join() === b.join();
  const rows: string[][] = [
    [
      'M1',
      `the largest function's cold-start bundle (\`${M1.deployed.entry}\`, ${M1.deployed.exports.length} exports: its entry and the chunks it imports; one asset of four entries${M1.assetBytes ? `, ${kb(M1.assetBytes)} with the lazily loaded chunks` : ''}), minified, AWS SDK bundled`,
      `${kb(M1.deployed.bytes)} (${trim(M1.deployed.bytes / M1.sdkFloor.bytes)} × the SDK floor of ${kb(M1.sdkFloor.bytes)}; ${kb(M1.deployedWithoutSdkBytes)} without the SDK)`,
      `≤ ${TARGETS.bundleKb} KB — ${verdict(M1.deployed.bytes <= TARGETS.bundleKb * 1024)}`,
    ],
    [
      'M1′',
      'the deployed entries of a receiver / `Project`, and `Project` with only its DynamoDB client (not deployed; `dev/bench/entries/`)',
      `${kb(M1.receiverOnly.bytes)} / ${kb(M1.projectOnly.bytes)} / ${kb(M1.projectDynamoDbOnly.bytes)}`,
      '—',
    ],
    ['M1″', 'the peer as one function (`dev/bench/peer/lambda.ts`), same settings', kb(M1.peer.bytes), '—'],
    [
      'M2',
      `cold start of the deployed bundle: import + client construction minus bare \`node -e 0\`, both with \`--enable-source-maps\`, p50 of ${M2.runs} (p90)`,
      `${ms(cold.ours!.p50Ms)} (${ms(cold.ours!.p90Ms)})`,
      `p50 ≤ ${TARGETS.coldStartP50Ms} ms — ${verdict(cold.ours!.p50Ms <= TARGETS.coldStartP50Ms)}`,
    ],
    [
      'M2′',
      'the same rounds, p50: the peer / the SDK floor / the three M1′ entries',
      `${ms(cold.peer!.p50Ms)} / ${ms(cold.sdkFloor!.p50Ms)} / ${ms(cold.receiverOnly!.p50Ms)} / ${ms(cold.projectOnly!.p50Ms)} / ${ms(cold.projectDynamoDbOnly!.p50Ms)}`,
      '—',
    ],
    [
      'M3',
      `warm handler per request with the real SDK on an instant transport, ${thousands(M3.requests)} requests, p50 / p99`,
      `${ms(M3.p50Ms, 3)} / ${ms(M3.p99Ms, 3)}`,
      `≤ ${TARGETS.warmP50Ms} / ${TARGETS.warmP99Ms} ms — ${verdict(M3.p50Ms <= TARGETS.warmP50Ms && M3.p99Ms <= TARGETS.warmP99Ms)}`,
    ],
    ['M3′', 'the same on in-memory ports: our own code alone, p50 / p99', `${ms(M3.oursP50Ms, 3)} / ${ms(M3.oursP99Ms, 3)}`, '—'],
    [
      'M4',
      `local adapter ÷ bare \`node:http\`, req/s (${thousands(M4.gatewayRps)} ÷ ${thousands(M4.bareRps)}${M4.errors ? `, ${M4.errors} errors` : ''})`,
      trim(M4.ratio),
      `≥ ${TARGETS.throughputRatio} — ${verdict(M4.ratio >= TARGETS.throughputRatio && M4.errors === 0)}`,
    ],
    ['M4′', 'the same with the per-request INFO log line off', trim(M4.quietGatewayRps / M4.bareRps), '—'],
    [
      'M5',
      'AWS calls: new message / duplicate',
      `${M5.callsNew.join(', ')} / ${M5.callsDuplicate.join(', ')}`,
      verdict(same(M5.callsNew, TARGETS.callsNew) && same(M5.callsDuplicate, TARGETS.callsDuplicate)),
    ],
    ['M5′', '`Project`, per new message (one record per invocation)', M5.projectCallsNew.join(', '), '—'],
    [
      'M6',
      `ack latency on DynamoDB Local + fauxqs, ${M6.dynamodbLocal.rate} req/s open loop for ${r.run.settings.m6Seconds} s, p50 / p99 (max; failed of sent)`,
      `${ms(M6.dynamodbLocal.p50Ms)} / ${ms(M6.dynamodbLocal.p99Ms)} (${ms(M6.dynamodbLocal.maxMs, 0)}; ${M6.dynamodbLocal.failed} of ${thousands(M6.dynamodbLocal.sent)})`,
      `p99 ≤ ${TARGETS.ackP99Ms} ms — ${verdict(M6.dynamodbLocal.p99Ms <= TARGETS.ackP99Ms && M6.dynamodbLocal.failed === 0)}`,
    ],
    [
      'M6′',
      `the same on dynalite; DynamoDB Local at ${M6.dynamodbLocalLowRate.rate} req/s: p50 / p99`,
      `${ms(M6.dynalite.p50Ms)} / ${ms(M6.dynalite.p99Ms)}; ${ms(M6.dynamodbLocalLowRate.p50Ms)} / ${ms(M6.dynamodbLocalLowRate.p99Ms)}`,
      `p99 ≤ ${TARGETS.ackP99Ms} ms: ${M6.dynalite.p99Ms <= TARGETS.ackP99Ms ? 'met' : 'missed'}; ${M6.dynamodbLocalLowRate.p99Ms <= TARGETS.ackP99Ms ? 'met' : 'missed'}`,
    ],
    [
      'M7',
      'billing units of a new REMDStatus, the whole path: received / projected (`Project`)',
      `${units(d.remd.new)} / ${units(d.remd.projection!)}`,
      '—',
    ],
    [
      'M7',
      `the projection by the message's place in its document, 1st … ${M7.messagesPerDocument}th (REMDStatus)`,
      d.remd.projectionByPosition!.map((p) => `${trim(p.wru, 1)} WRU + ${trim(p.rru, 1)} RRU`).join(', '),
      '—',
    ],
    [
      'M7',
      'a new CDAStatus with a 150 KB payload, received / its re-send',
      `${units(d.c150.new)} / ${units(d.c150.duplicate)}`,
      `≤ ${TARGETS.new150KbWru} / ≤ ${TARGETS.duplicate150KbWru} WRU — ${verdict(d.c150.new.wru <= TARGETS.new150KbWru && d.c150.duplicate.wru <= TARGETS.duplicate150KbWru)}`,
    ],
    ['M7', 'a rejected request (invalid `Status`, kept under `rejected/`)', units(d.remd.rejected), '—'],
    ...fleetRows(r),
    ...parseRows(r),
  ];
  if (full) {
    const peer = M7.peer;
    rows.push([
      'peer',
      'peer beside ours on the emulators, new messages: CPU per message; AWS calls; wall time p50 / p99',
      `peer ${ms(peer.cpuMsPerNewMessage, 2)}; ${calls(peer.cases.REMDStatus!.new.calls)}; ${ms(peer.newMs.p50)} / ${ms(peer.newMs.p99)} — ours (receive) ${ms(M7.ours.cpuMsPerNewMessage, 2)}; ${calls(M7.ours.cases.REMDStatus!.new.calls)}; ${ms(M7.ours.newMs.p50)} / ${ms(M7.ours.newMs.p99)}`,
      '—',
    ]);
  }
  return rows;
}

/** M10: the slowest valid body at the caps is measured; its time at a Lambda's CPU share is a model, labelled so. */
function parseRows(r: BenchmarksResult): string[][] {
  const { M10 } = r.measured;
  const model = r.models.parseCost;
  if (!M10 || !model) return [];
  const slowest = M10.shapes.find((shape) => shape.name === M10.slowest)!;
  const mib = (bytes: number) => `${trim(bytes / 2 ** 20, 1)} MiB`;
  const secondsAt = (seconds: number) =>
    `${trim(seconds, 1)} s (${pct(seconds / model.inputs.timeoutSeconds)} of the ${model.inputs.timeoutSeconds} s timeout)`;
  return [
    [
      'M10',
      `the slowest valid body at the caps (≤ ${M10.caps.maxExtraKeys} extra keys per object, ≤ ${thousands(M10.caps.maxTokens)} JSON tokens, ≤ ${mib(M10.caps.maxBodyBytes)}; slowest of ${M10.shapes.length} shapes, \`dev/bench/parse-cost.ts\`): CPU per request, median of ${M10.runs} (max)`,
      `${ms(slowest.medianCpuMs, 0)} (${ms(Math.max(...slowest.cpuMs), 0)}), \`${slowest.name}\`: ${slowest.description}, ${mib(slowest.bytes)}`,
      '—',
    ],
    [
      'M10′',
      `the body that prompted the caps, ${M10.beforeCaps.description}, ${mib(M10.beforeCaps.bytes)}: acked Success with the caps lifted / refused (413) with them`,
      `${ms(M10.beforeCaps.medianCpuMs, 0)} / ${ms(M10.refusedMedianCpuMs, 0)}`,
      '—',
    ],
    [
      'M10″',
      `the same at a ${model.inputs.lambdaMemoryMb} MB Lambda's CPU share (a model: worst run × ${thousands(model.inputs.fullCoreMb)} ÷ ${model.inputs.lambdaMemoryMb}, CPU only): the slowest valid body / the 300,000-key body before the caps`,
      `${secondsAt(model.slowestSeconds)} / ${secondsAt(model.beforeCapsSeconds)}`,
      `≤ ${pct(TARGETS.parseShareOfTimeout)} of the timeout — ${verdict(model.slowestShare <= TARGETS.parseShareOfTimeout)}`,
    ],
  ];
}

/** M10's model in prose, where the run has it (with the blank line before it). */
function parseCostBlock(r: BenchmarksResult): string {
  const model = r.models.parseCost;
  if (!model) return '';
  const i = model.inputs;
  return `\n\n**Parse cost at a Lambda's CPU share (a model)**, from M10: the worst run of the slowest valid body at the caps (\`${model.slowest}\`) took ${ms(i.slowestCpuMsOnFullCore, 0)} of CPU on one core of this machine (${i.cpu}, Node ${i.node}); at ${i.lambdaMemoryMb} MB (CPU share ${i.cpuShare}) that is ${trim(model.slowestSeconds, 2)} s, ${pct(model.slowestShare)} of the ${i.timeoutSeconds} s timeout. The 300,000-key body the caps now refuse took ${ms(i.beforeCapsCpuMsOnFullCore, 0)} before them, ${trim(model.beforeCapsSeconds, 1)} s there (${pct(model.beforeCapsShare)}). Left out: ${i.leftOut}.`;
}

/** Why M9's synthesis misses its goal, where it does: the parts of the process tree this run measured. */
function fleetMiss(r: BenchmarksResult): string {
  const synth = r.measured.M9?.synth500;
  if (!synth || (synth.seconds <= TARGETS.synth500Seconds && synth.peakMb <= TARGETS.synth500PeakMb)) return '';
  const app = synth.largestProcessMb;
  return ` M9's synthesis: ${trim(synth.seconds, 1)} s and ${thousands(synth.peakMb)} MB for the whole process tree${
    app === null
      ? ''
      : `, of which the app process ${thousands(app)} MB (its main heap capped at 1 GB by cdk.json's \`app\`, plus code, the validation worker thread's own heap and the WebAssembly validation engines) and the CDK CLI process most of the rest`
  }. One process holds every site's construct tree, which cdk-nag and CDK's synthesis walk whole.`;
}

/** M9: the synthesis is measured; the dollars and the first quota are `fleet plan`'s model, labelled so. */
function fleetRows(r: BenchmarksResult): string[][] {
  const { M9 } = r.measured;
  if (!M9) return [];
  const idle = M9.idleUsdPerSiteMonth;
  const first = M9.firstDefaultQuotaSite;
  const p = M9.perSite;
  return [
    [
      'M9',
      `a site's footprint, counted in its synthesised template: resources; IAM roles; alarms; EventBridge rules; WAF web ACLs`,
      `${p.resources}; ${p.iamRoles}; ${p.alarms}; ${p.eventBridgeRules}; ${p.wafWebAcls}`,
      '—',
    ],
    [
      'M9',
      'idle USD per site per month at 1 / 50 / 500 sites (a model: `fleet plan` over those counts, `fleet/prices.ts`)',
      `${usd(idle[1])} / ${usd(idle[50])} / ${usd(idle[500])}`,
      `≤ ${usd(TARGETS.idleUsdPerSiteMonthAt500, 0)} at 500 — ${verdict(idle[500] <= TARGETS.idleUsdPerSiteMonthAt500)}`,
    ],
    [
      'M9',
      `USD per site per month at ${thousands(M9.model.callbacksPerSiteMonth)} callbacks (a model: idle + M7 at its mix + the custom metric series a busy site sends + its logs${M9.logBytes ? `, ${thousands(M9.logBytes.perCallbackAtMix)} bytes a callback measured` : ''} + Logs Insights at a stated use)`,
      M9.usdPerSiteMonthAtVolume === null
        ? 'no M7 cost'
        : `${usd(M9.usdPerSiteMonthAtVolume)}${
            M9.busyParts
              ? ` (of it ${M9.busyParts.customMetricSeries} metric series ${usd(M9.busyParts.customMetricsUsd)}, logs ${usd(M9.busyParts.logIngestionUsd)}, Logs Insights ${usd(M9.busyParts.logsInsightsUsd)})`
              : ''
          }`,
      M9.usdPerSiteMonthAtVolume === null
        ? '—'
        : `≤ ${usd(TARGETS.busyUsdPerSiteMonth, 0)} — ${verdict(M9.usdPerSiteMonthAtVolume <= TARGETS.busyUsdPerSiteMonth)}`,
    ],
    [
      'M9',
      'the first site of a growing fleet that meets a default quota (a model over the counts)',
      first ? `#${thousands(first.site)}: ${first.quota}` : 'none',
      `≥ ${TARGETS.firstQuotaSiteAtLeast} — ${verdict(first === null || first.site >= TARGETS.firstQuotaSiteAtLeast)}`,
    ],
    [
      'M9',
      `\`cdk synth\` of 500 generated sites, bundling included (this machine): seconds / peak memory of the process tree`,
      `${trim(M9.synth500.seconds, 1)} s / ${thousands(M9.synth500.peakMb)} MB`,
      `≤ ${TARGETS.synth500Seconds} s, ≤ ${thousands(TARGETS.synth500PeakMb)} MB — ${verdict(M9.synth500.seconds <= TARGETS.synth500Seconds && M9.synth500.peakMb <= TARGETS.synth500PeakMb)}`,
    ],
  ];
}

function costParagraph(r: BenchmarksResult): string {
  const { cost } = r.models;
  const { mix, prices } = cost.inputs;
  const d = derive(r);
  const o = cost.perMillion.ours;
  const types = mix.types.map((t) => `${t.case} ${pct(t.share)}`).join(', ');
  return `**Cost (M7, a model)**: per million requests, at public on-demand prices (${prices.region}, ${prices.date}) and a stated mix — new messages ${types}; of all requests ${pct(mix.resendShare)} re-sends and ${pct(mix.rejectedShare)} rejected — **ours ${usd(o.total)}, the Powertools-idempotency peer ${usd(cost.perMillion.peer.total)}, the floor ${usd(cost.perMillion.floor.total)}** (${trim(d.floorRatio)} × the floor, goal ≤ ${TARGETS.floorRatio} × — ${verdict(d.floorRatio <= TARGETS.floorRatio)}; ${trim(d.peerRatio)} × the peer). Ours, by part: API Gateway ${usd(o.gateway)}, WAF ${usd(o.waf)}, the receiving function ${usd(o.lambda)}, \`Project\` ${usd(o.lambdaProject)} (${mix.projectRecordsPerInvocation} record per invocation), DynamoDB ${usd(o.dynamodb)} (the documents table ${usd(o.dynamodbDocuments)} of it), S3 ${usd(o.s3)}, SQS ${usd(o.sqs)}. Billed durations are the emulators' wall times, not Lambda's. The peer keeps a hash and the ack, not the payload: it cannot forward later, tell a conflict from a re-send, validate, or answer for documents.`;
}

function memoryTable(r: BenchmarksResult): string {
  const m = r.models.lambdaMemory;
  const range = ([a, b]: [number, number], f: (v: number) => string) => `${f(a)}–${f(b)}`;
  const previous = m.previousRun;
  const header = ['memory', 'CPU share', 'warm duration (p25–p75 inputs)', 'cold init', 'USD per million, duration only'];
  if (previous) {
    const which = [previous.commit ? `\`${short(previous.commit)}\`` : undefined, previous.date, previous.cpu].filter(Boolean).join(', ');
    header.push(`the previous run's (${which})`);
  }
  return table(
    header,
    m.rows.map((row) => {
      const cells = [
        `${row.mb} MB`,
        trim(row.cpuShare),
        `${ms(row.warmMs)} (${range(row.spread.warmMs, (v) => fixed(v, 1))})`,
        `${thousands(row.coldInitMs)} ms (${range(row.spread.coldInitMs, thousands)})`,
        `${usd(row.usdPerMillion, 3)} (${range(row.spread.usdPerMillion, (v) => fixed(v, 3))})`,
      ];
      const before = previous?.usdPerMillion[String(row.mb)];
      if (previous) cells.push(before === undefined ? '—' : `${usd(before, 3)} (× ${trim(row.usdPerMillion / before)} since)`);
      return cells;
    }),
  );
}

function memoryParagraph(r: BenchmarksResult): string {
  const { inputs, rows } = r.models.lambdaMemory;
  const at = (mb: number) => rows.find((row) => row.mb === mb)!;
  const [low, mid, high] = [at(256), at(512), at(1024)];
  const price = (v: number) => usd(v, 3);
  const time = (v: number) => `${thousands(v)} ms`;
  return `**Lambda memory (a model)**, from this machine's figures: CPU per request ${ms(inputs.cpuMsPerRequestOnFullCore, 2)} on one core (${inputs.cpu}; M3), I/O wait ${ms(inputs.ioWaitMs.p50)} (${inputs.emulators}), cold init ${time(inputs.coldInitMsOnFullCore.p50)} on a full core (M2), Node ${inputs.node}; CPU share ${inputs.cpuShare}. The functions run at ${r.models.cost.inputs.lambdaMemoryMb} MB (\`lib/functions.ts\`). Against that, this model puts 256 MB at ${signed(low.usdPerMillion - mid.usdPerMillion, price)} per million (duration) and ${signed(low.coldInitMs - mid.coldInitMs, time)} of cold start, 1,024 MB at ${signed(high.usdPerMillion - mid.usdPerMillion, price)} and ${signed(high.coldInitMs - mid.coldInitMs, time)}. The ranges show how far this run's own noise moves each row${r.models.lambdaMemory.previousRun ? '; the last column, how far it moved since the previous run' : ''}.`;
}

function capacityTable(r: BenchmarksResult): string {
  return table(
    ['part', 'limit', 'new messages a second', 'note'],
    r.models.capacity.bounds.map((b) => [b.part, b.limit, b.newPerSecond === null ? '—' : thousands(b.newPerSecond), b.note]),
  );
}

function capacityParagraph(r: BenchmarksResult): string {
  const c = r.models.capacity;
  return `So the first limit a site meets is the ${c.first.part} (${thousands(c.first.newPerSecond)} new messages a second); DynamoDB's first is the ${c.firstDynamoDb.part} at ${thousands(c.firstDynamoDb.newPerSecond)}, from ${trim(Number(c.inputs.messagesTableWruPerNewMessage), 2)} table WRU per new message (M7). Index keys are sharded ${c.inputs.indexShards} ways (\`TABLE.shards\`): readers query every shard in parallel and merge.`;
}

function missesParagraph(r: BenchmarksResult): string {
  const { M1, M2, M3, M4 } = r.measured;
  const sdkShare = M1.sdkFloor.bytes / M1.deployed.bytes;
  const cold = M2.bundles;
  return `What the misses are made of: the SDK floor (three SDK clients and nothing else, same settings) is ${kb(M1.sdkFloor.bytes)} of the ${kb(M1.deployed.bytes)} (${pct(sdkShare)}) and starts in ${ms(cold.sdkFloor!.p50Ms)} of the ${ms(cold.ours!.p50Ms)}; per request the SDK (serialisation, middleware, signing) takes about ${ms(M3.p50Ms - M3.oursP50Ms, 2)} of the ${ms(M3.p50Ms, 2)}, our own code ${ms(M3.oursP50Ms, 3)}. Each function loads its own entry (a receiver ${kb(M1.receiverOnly.bytes)}, \`Project\` ${kb(M1.projectOnly.bytes)}); the S3 client and the document store load on first use. \`Project\` would shrink to ${kb(M1.projectDynamoDbOnly.bytes)} with only the DynamoDB client it calls. M4's baseline answers a constant string; our path decodes, validates, hashes, logs and builds the proxy event; without the per-request log line the ratio is ${trim(M4.quietGatewayRps / M4.bareRps)}.${fleetMiss(r)}`;
}

// ---- the two documents ----

export function renderPerformanceSection(r: BenchmarksResult): string {
  return `${PERFORMANCE_START}

## Performance

\`npm run bench\` measured everything below in one run (${runLine(r)}) and wrote
[\`docs/benchmarks.json\`](benchmarks.json); this section and [\`docs/benchmarks.md\`](benchmarks.md)
(the full tables) are generated from it. A test fails when ${MEASURED_PATHS.map((p) => `\`${p.includes('.') ? p : `${p}/`}\``).join(', ')} differ from
the commit the run names: rerun \`npm run bench\` after changing them.
Times are this machine's (the emulators included); ratios travel better.

### Measured

${table(['#', 'metric', 'result', 'target'], measuredRows(r, false))}

${missesParagraph(r)}

\`npm run load [-- --rate R --seconds S --duplicates D --base URL]\` puts open-loop load with re-sends on the local
product, on demand; none of its results is quoted here.

### Models: computed from the measurements and stated inputs, not measured

${costParagraph(r)}

${memoryParagraph(r)}

${memoryTable(r)}${parseCostBlock(r)}

## Capacity: which limit a site meets first

A model: per site, for new messages, each documented default quota or setting divided by what one new
message uses of it (DynamoDB units from M7 at the mix; durations measured on the emulators).

${capacityTable(r)}

${capacityParagraph(r)}

${PERFORMANCE_END}`;
}

export function renderMarkdown(r: BenchmarksResult): string {
  const { M1, M7 } = r.measured;
  const { cost } = r.models;
  const contributors = M1.deployed.top.map((t) => `${t.name} ${kb(t.bytes)}`).join(' · ');
  const caseRows = Object.entries(M7.ours.cases).map(([name, o]) => {
    const p = M7.peer.cases[name]!;
    return [
      name,
      `${trim(o.bodyBytes / 1024, 1)} KB`,
      units(o.new),
      units(o.projection!),
      o.projectionByPosition!.map((q) => trim(q.wru, 1)).join(', '),
      units(o.duplicate),
      units(o.conflict),
      units(o.rejected),
      o.deferred ? units(o.deferred) : '—',
      o.reconciled ? units(o.reconciled) : '—',
      `${ms(median(o.ms.new))} / ${ms(median(o.ms.projection!))}`,
      units(p.new),
      units(p.duplicate),
      units(p.rejected),
      ms(median(p.ms.new)),
    ];
  });
  const parts: Array<[string, keyof Cost]> = [
    ['API Gateway', 'gateway'],
    ['WAF', 'waf'],
    ['receiving function', 'lambda'],
    ['`Project` function', 'lambdaProject'],
    ['DynamoDB', 'dynamodb'],
    ['… of it the documents table', 'dynamodbDocuments'],
    ['S3', 's3'],
    ['SQS', 'sqs'],
    ['**total**', 'total'],
  ];
  const pm = cost.perMillion;
  const priceRows = Object.entries(cost.perCase).map(([name, c]) => [
    name,
    `${usd(c.new.ours.total)} / ${usd(c.new.peer)} / ${usd(c.new.floor)}`,
    `${usd(c.duplicate.ours)} / ${usd(c.duplicate.peer)}`,
    `${usd(c.rejected.ours)} / ${usd(c.rejected.peer)}`,
  ]);
  const prices = cost.inputs.prices;
  return `# Benchmarks

Generated from [\`benchmarks.json\`](benchmarks.json) (\`npm run bench\` measures and writes both; \`npm run bench:doc\`
regenerates this file and docs/performance.md). Run: ${runLine(r)}. DynamoDB emulator for M6 and M7:
${r.measured.M6.dynamodbLocal.emulator}.

## Measured

${table(['#', 'metric', 'result', 'target'], measuredRows(r, true))}

Largest parts of the deployed bundle: ${contributors}. Its exports (one function each): ${M1.deployed.exports.map((e) => `\`${e}\``).join(', ')}.

### M7: billing units per request, ours beside the peer

Mean of ${M7.repeat} per case, on DynamoDB Local (\`ReturnConsumedCapacity: INDEXES\`) and fauxqs. Ours "received" is
the receiving function; "projected" is \`Project\` handed the stream record DynamoDB Local wrote, one record per
invocation, each document receiving ${M7.messagesPerDocument} new messages in turn (the column "by place" lists the WRU of the
1st … ${M7.messagesPerDocument}th). Rejected: the same body with an invalid \`Status\` (the peer validates nothing and forwards it).
Deferred: the first attempt with the queue down; reconciled: the reconciler's run forwarding them, per message.
Times are medians of wall time on the emulators.

${table(
  [
    'case',
    'body',
    'ours: received',
    'projected',
    'by place',
    'duplicate',
    'conflict',
    'rejected',
    'deferred',
    'reconciled',
    'ours ms: receive / project',
    'peer: new',
    'peer duplicate',
    'peer rejected',
    'peer ms',
  ],
  caseRows,
)}

## Models: computed from the measurements and stated inputs

### Cost

Inputs: public on-demand prices, ${prices.region}, ${prices.date}: API Gateway REST $${prices.apiGatewayRestPerMillion}/M requests, WAF
$${prices.wafPerMillionRequests}/M requests (ours only: the oversize guard), Lambda arm64 $${prices.lambdaPerMillionRequests}/M requests + $${prices.lambdaArmPerGbSecond}/GB-s
at ${cost.inputs.lambdaMemoryMb} MB, DynamoDB on-demand $${prices.dynamoWruPerMillion}/M WRU and $${prices.dynamoRruPerMillion}/M RRU, S3 $${prices.s3PutPerMillion}/M PUT and $${prices.s3GetPerMillion}/M GET (the consumer's
fetch of a claim-checked payload), SQS FIFO $${prices.sqsFifoPerMillion}/M requests of 64 KB. Storage is left out (it depends on
retention, not on the callback). Mix: new messages ${cost.inputs.mix.types.map((t) => `${t.case} ${pct(t.share)}`).join(', ')}; of all
requests ${pct(cost.inputs.mix.resendShare)} re-sends, ${pct(cost.inputs.mix.rejectedShare)} rejected; \`Project\` handed ${cost.inputs.mix.projectRecordsPerInvocation} record per invocation. Durations: ${cost.inputs.lambdaDuration}.
Floor: ${cost.inputs.floor}.

The peer (\`dev/bench/peer/\`) is Powertools \`makeIdempotent\` + \`DynamoDBPersistenceLayer\` around one SQS send: it keeps a
hash and the ack, not the payload, so it cannot forward later (no deferred path, no reconciler), cannot tell a
conflict from a re-send, puts every payload into the queue message (SQS's limit caps it), validates nothing and
keeps no document status.

USD per million requests at the mix:

${table(
  ['part', 'ours', 'peer', 'floor'],
  parts.map(([label, key]) => [label, usd(pm.ours[key], 3), usd(pm.peer[key], 3), usd(pm.floor[key], 3)]),
)}

USD per million of one kind of request:

${table(['case', 'new: ours / peer / floor', 're-send: ours / peer', 'rejected: ours / peer'], priceRows)}

### Lambda memory

${memoryParagraph(r)}

${memoryTable(r)}${parseCostBlock(r)}

### Capacity

${capacityTable(r)}

${capacityParagraph(r)}

## How each is measured

M1 esbuild with the stack's own settings (\`lib/bundling.ts\`; the bench checks that it builds the deployed entry
byte for byte as that file does), metafile per package; the SDK floor is \`dev/bench/entries/sdk-floor.ts\`, the
per-function entries \`dev/bench/entries/\` (index.ts cut down, never deployed). M2 \`node <bundle>\` minus \`node -e 0\`,
every bundle in every round, interleaved, on this machine's Node (Lambda runs Node 24). M3 the deployed handler
(middy, Powertools logs and EMF metrics) with the real SDK clients over an in-memory transport that answers at
once, so serialisation, signing and parsing run; logs to /dev/null. M4 autocannon, 10 connections, unique
MessageIds, both servers in their own process. M5 counted at that transport (\`Project\`'s at M7's meter). M6 an
open-loop generator (latency from the scheduled send time) against the local product in its own process. M7 SDK
middleware on each client (\`dev/bench/meter.ts\`); a failed conditional write is counted from DynamoDB's rule (the
existing item's size).${
    r.measured.M10
      ? ' M10 the same deployed handler and transport as M3, in its own process, with the inline threshold as deployed (so a large payload takes the S3 claim check); each shape built at the caps, checked to be acked Success, sent once to warm up and then measured run by run (`process.cpuUsage`, every thread).'
      : ''
  }
`;
}

/** Replaces docs/performance.md's generated part; fails when its markers are missing. */
export function splicePerformancePage(page: string, section: string): string {
  const start = page.indexOf(PERFORMANCE_START);
  const end = page.indexOf(PERFORMANCE_END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md has no ${PERFORMANCE_START} … ${PERFORMANCE_END} block`);
  return page.slice(0, start) + section + page.slice(end + PERFORMANCE_END.length);
}

const paths = {
  json: new URL('../../docs/benchmarks.json', import.meta.url),
  markdown: new URL('../../docs/benchmarks.md', import.meta.url),
  performance: new URL('../../docs/performance.md', import.meta.url),
};

export const readBenchmarks = (): BenchmarksResult => JSON.parse(readFileSync(paths.json, 'utf8')) as BenchmarksResult;

/** Writes docs/benchmarks.md and docs/performance.md's section from docs/benchmarks.json; returns what it wrote. */
export function writeBenchmarkDocs(): string[] {
  const result = readBenchmarks();
  writeFileSync(paths.markdown, renderMarkdown(result));
  writeFileSync(paths.performance, splicePerformancePage(readFileSync(paths.performance, 'utf8'), renderPerformanceSection(result)));
  return ['docs/benchmarks.md', 'docs/performance.md'];
}
