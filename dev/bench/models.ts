import { PRICES } from '../../fleet/prices';
import { TABLE } from '../../contract/shapes';
import { siteFields } from '../../lib/site-config';
import type { ColdStartReport } from './cold-start';
import type { HandlerReport } from './handler-cpu';
import type { ParseCostReport } from './parse-cost';
import { targetIn } from './meter';
import type { MeasuredUnits, UnitsReport } from './units';
import { median, percentile } from './stats';
import { RECEIVER_TIMEOUT_MS } from '../../contract/deadlines';

const thousands = (value: number) => String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/*
 * Models: figures computed from the run's measurements and stated inputs, not measured themselves —
 * prices of a mix, the Lambda memory table, the capacity bounds. Each returns its inputs beside its
 * results, and docs/benchmarks.json keeps them apart from the measurements.
 */

/** Public on-demand prices: one home for them, fleet/prices.ts (each with its source); re-exported for M7's readers. */
export { PRICES };

/** Every function's memory, as lib/functions.ts sets it. */
export const LAMBDA_MEMORY_MB = 512;

/**
 * The stated mix: what a hospital's callbacks look like. Shares of the types among new messages; of all
 * requests, `resendShare` re-send a message already accepted (N3 retries when it misses an ack) and
 * `rejectedShare` fail validation. Conflicts and queue outages are rare and left out.
 */
export const MIX = {
  types: [
    { case: 'REMDStatus', share: 0.4 },
    { case: 'SEMDStatus', share: 0.25 },
    { case: 'CDAStatus60KB', share: 0.15 },
    { case: 'VimisResult', share: 0.1 },
    { case: 'MseResult', share: 0.05 },
    { case: 'MseResultData100KB', share: 0.05 },
  ],
  resendShare: 0.1,
  rejectedShare: 0.01,
  /**
   * Stream records per `Project` invocation. At a hospital's few messages a second the stream hands the
   * function about one record at a time (the stack allows up to 100); one is the dearest case.
   */
  projectRecordsPerInvocation: 1,
} as const;

/** USD per request, by what it pays for. */
export interface Cost {
  gateway: number;
  waf: number;
  /** The receiving function: request + duration. */
  lambda: number;
  /** The `Project` function's share (ours only). */
  lambdaProject: number;
  dynamodb: number;
  /** The documents table's share of `dynamodb` (ours only). */
  dynamodbDocuments: number;
  s3: number;
  sqs: number;
  total: number;
}

const lambdaUsd = (ms: number) =>
  PRICES.lambdaPerMillionRequests / 1e6 + Math.ceil(ms) * (LAMBDA_MEMORY_MB / 1024 / 1000) * PRICES.lambdaArmPerGbSecond;

interface Billable {
  readonly wru: number;
  readonly rru: number;
  readonly s3Put: number;
  readonly sqsChunks: number;
  readonly byTarget?: Readonly<Record<string, { wru: number; rru: number }>>;
}

function cost(options: {
  units: Billable;
  ms: number;
  waf: boolean;
  consumerGets: number;
  projection?: { units: Billable; ms: number };
}): Cost {
  const dynamo = (u: Billable) => (u.wru * PRICES.dynamoWruPerMillion + u.rru * PRICES.dynamoRruPerMillion) / 1e6;
  const projection = options.projection;
  const c = {
    gateway: PRICES.apiGatewayRestPerMillion / 1e6,
    waf: options.waf ? PRICES.wafPerMillionRequests / 1e6 : 0,
    lambda: lambdaUsd(options.ms),
    lambdaProject: projection ? lambdaUsd(projection.ms * MIX.projectRecordsPerInvocation) / MIX.projectRecordsPerInvocation : 0,
    dynamodb: dynamo(options.units) + (projection ? dynamo(projection.units) : 0),
    dynamodbDocuments: projection ? dynamo(projection.units) : 0,
    s3: (options.units.s3Put * PRICES.s3PutPerMillion + options.consumerGets * PRICES.s3GetPerMillion) / 1e6,
    sqs: (options.units.sqsChunks * PRICES.sqsFifoPerMillion) / 1e6,
  };
  return { ...c, total: c.gateway + c.waf + c.lambda + c.lambdaProject + c.dynamodb + c.s3 + c.sqs };
}

const scale = (c: Cost, factor: number): Cost =>
  Object.fromEntries(Object.entries(c).map(([key, value]) => [key, value * factor])) as unknown as Cost;
const plus = (a: Cost, b: Cost): Cost =>
  Object.fromEntries(Object.entries(a).map(([key, value]) => [key, value + b[key as keyof Cost]])) as unknown as Cost;
const ZERO: Cost = { gateway: 0, waf: 0, lambda: 0, lambdaProject: 0, dynamodb: 0, dynamodbDocuments: 0, s3: 0, sqs: 0, total: 0 };

/**
 * The floor: what any design with our guarantees must spend. A new message: one durable write of the
 * payload bytes (the cheaper of DynamoDB by the KB, or one S3 PUT and the consumer's GET), one send (its
 * 64 KB chunks), one 1-unit state change, and the document's state (one strong read and one write of a
 * small item, in the same invocation); a re-send: one conditional write that finds the record; a rejection:
 * the request kept (one S3 PUT). Each plus the gateway and one invocation as fast as the faster of ours
 * and the peer's.
 */
function floorOf(kind: 'new' | 'duplicate' | 'rejected', payloadBytes: number): { units: Billable; gets: number } {
  if (kind === 'duplicate') return { units: { wru: 1, rru: 0, s3Put: 0, sqsChunks: 0 }, gets: 0 };
  if (kind === 'rejected') return { units: { wru: 0, rru: 0, s3Put: 1, sqsChunks: 0 }, gets: 0 };
  const dynamoKb = Math.ceil(payloadBytes / 1024);
  const viaS3 = PRICES.s3PutPerMillion + PRICES.s3GetPerMillion < dynamoKb * PRICES.dynamoWruPerMillion;
  const envelopeBytes = viaS3 ? 400 : payloadBytes + 200;
  return {
    units: { wru: (viaS3 ? 0 : dynamoKb) + 1 + 1, rru: 1, s3Put: viaS3 ? 1 : 0, sqsChunks: Math.ceil(envelopeBytes / (64 * 1024)) },
    gets: viaS3 ? 1 : 0,
  };
}

export interface CostModel {
  readonly inputs: {
    readonly prices: typeof PRICES;
    readonly lambdaMemoryMb: number;
    readonly mix: typeof MIX;
    readonly lambdaDuration: string;
    readonly floor: string;
  };
  /** USD per million requests at the mix, by part. */
  readonly perMillion: { readonly ours: Cost; readonly peer: Cost; readonly floor: Cost };
  /** USD per million of one kind of request, per case. */
  readonly perCase: Readonly<
    Record<
      string,
      {
        new: { ours: Cost; peer: number; floor: number };
        duplicate: { ours: number; peer: number };
        rejected: { ours: number; peer: number };
      }
    >
  >;
}

export function costModel(units: UnitsReport): CostModel {
  const perCase: Record<string, CostModel['perCase'][string]> = {};
  let ours = ZERO;
  let peer = ZERO;
  let floor = ZERO;
  const newShare = 1 - MIX.resendShare - MIX.rejectedShare;
  for (const [name, o] of Object.entries(units.ours.cases)) {
    const p = units.peer.cases[name]!;
    const ms = (kind: 'new' | 'duplicate' | 'rejected') => ({ ours: median(o.ms[kind]), peer: median(p.ms[kind]) });
    const costs = {
      new: {
        ours: cost({
          units: o.new,
          ms: ms('new').ours,
          waf: true,
          consumerGets: o.new.s3Put,
          projection: { units: o.projection!, ms: median(o.ms.projection!) },
        }),
        peer: cost({ units: p.new, ms: ms('new').peer, waf: false, consumerGets: 0 }),
      },
      duplicate: {
        ours: cost({ units: o.duplicate, ms: ms('duplicate').ours, waf: true, consumerGets: 0 }),
        peer: cost({ units: p.duplicate, ms: ms('duplicate').peer, waf: false, consumerGets: 0 }),
      },
      rejected: {
        ours: cost({ units: o.rejected, ms: ms('rejected').ours, waf: true, consumerGets: 0 }),
        peer: cost({ units: p.rejected, ms: ms('rejected').peer, waf: false, consumerGets: 0 }),
      },
    };
    const floors = Object.fromEntries(
      (['new', 'duplicate', 'rejected'] as const).map((kind) => {
        const f = floorOf(kind, o.bodyBytes);
        return [kind, cost({ units: f.units, ms: Math.min(ms(kind).ours, ms(kind).peer), waf: false, consumerGets: f.gets })];
      }),
    ) as Record<'new' | 'duplicate' | 'rejected', Cost>;
    perCase[name] = {
      new: { ours: scale(costs.new.ours, 1e6), peer: costs.new.peer.total * 1e6, floor: floors.new.total * 1e6 },
      duplicate: { ours: costs.duplicate.ours.total * 1e6, peer: costs.duplicate.peer.total * 1e6 },
      rejected: { ours: costs.rejected.ours.total * 1e6, peer: costs.rejected.peer.total * 1e6 },
    };
    const share = MIX.types.find((t) => t.case === name)?.share ?? 0;
    const weigh = (kinds: Record<'new' | 'duplicate' | 'rejected', Cost>) =>
      plus(
        plus(scale(kinds.new, newShare * share), scale(kinds.duplicate, MIX.resendShare * share)),
        scale(kinds.rejected, MIX.rejectedShare * share),
      );
    ours = plus(ours, weigh({ new: costs.new.ours, duplicate: costs.duplicate.ours, rejected: costs.rejected.ours }));
    peer = plus(peer, weigh({ new: costs.new.peer, duplicate: costs.duplicate.peer, rejected: costs.rejected.peer }));
    floor = plus(floor, weigh(floors));
  }
  return {
    inputs: {
      prices: PRICES,
      lambdaMemoryMb: LAMBDA_MEMORY_MB,
      mix: MIX,
      lambdaDuration:
        "each function's billed duration is the median wall time of that call on the emulators (measured), rounded up to 1 ms",
      floor:
        'new: payload written once (DynamoDB by the KB or S3 PUT + GET, the cheaper), one send, one 1-WRU state change, the document (1 RRU + 1 WRU); re-send: 1 WRU; rejection: 1 S3 PUT; each + gateway + one invocation (the faster of ours and the peer)',
    },
    perMillion: { ours: scale(ours, 1e6), peer: scale(peer, 1e6), floor: scale(floor, 1e6) },
    perCase,
  };
}

/** DynamoDB units per new message (ours, at the mix), by table and index: receive and projection. */
export function newMessageUnitsByTarget(units: UnitsReport): Record<string, { wru: number; rru: number }> {
  const total: Record<string, { wru: number; rru: number }> = {};
  for (const { case: name, share } of MIX.types) {
    const c = units.ours.cases[name]!;
    for (const part of [c.new, c.projection!] as MeasuredUnits[]) {
      for (const [target, { wru, rru }] of Object.entries(part.byTarget)) {
        const t = targetIn(total, target);
        t.wru += share * wru;
        t.rru += share * rru;
      }
    }
  }
  return total;
}

export interface CapacityBound {
  readonly part: string;
  readonly limit: string;
  /** null: this part is not used by a new message. */
  readonly newPerSecond: number | null;
  /** Whether the bound is the site's as a whole (false: per document, per prefix, or shared by the account). */
  readonly perSite: boolean;
  readonly note: string;
}

export interface CapacityModel {
  readonly inputs: Readonly<Record<string, number | string>>;
  readonly bounds: CapacityBound[];
  /** The smallest per-site bound, and the smallest of DynamoDB's. */
  readonly first: { part: string; newPerSecond: number };
  readonly firstDynamoDb: { part: string; newPerSecond: number };
}

/**
 * Which limit a site meets first, for new messages a second: documented default quotas and our settings,
 * divided by what one new message uses of each (units measured in M7, durations on the emulators).
 */
export function capacityModel(units: UnitsReport): CapacityModel {
  const byTarget = newMessageUnitsByTarget(units);
  const w = (target: string) => byTarget[target]?.wru ?? 0;
  const receiveMs = median(units.ours.cases.REMDStatus!.ms.new);
  const projectMs = median(units.ours.cases.REMDStatus!.ms.projection!);
  const inputs = {
    stageRequestsPerSecond: siteFields.shape.maxRequestsPerSecond.parse(undefined),
    accountRequestsPerSecond: 10_000,
    lambdaConcurrency: 1_000,
    receiveMsMeasuredOnEmulators: receiveMs,
    projectMsPerDocumentMeasuredOnEmulators: projectMs,
    partitionWruPerSecond: 1_000,
    indexShards: TABLE.shards,
    newOnDemandTableWruPerSecond: 4_000,
    messagesTableWruPerNewMessage: w('messages'),
    pendingIndexWruPerNewMessage: w(`messages/${TABLE.pendingIndex.name}`),
    arrivalsIndexWruPerNewMessage: w(`messages/${TABLE.dayIndex.name}`),
    documentsTableWruPerNewMessage: w('documents'),
    documentsIndexesWruPerNewMessage: Object.entries(byTarget)
      .filter(([target]) => target.startsWith('documents/'))
      .reduce((sum, [, t]) => sum + t.wru, 0),
    sqsFifoPerMessageGroupPerSecond: 300,
    s3PutPerPrefixPerSecond: 3_500,
  };
  const per = (limit: number, use: number) => (use > 0 ? Math.floor(limit / use) : null);
  const shardedIndex = (use: number) => per(inputs.partitionWruPerSecond * inputs.indexShards, use);
  const bounds: CapacityBound[] = [
    {
      part: 'API Gateway stage',
      limit: `our throttle, \`maxRequestsPerSecond\` (${thousands(inputs.stageRequestsPerSecond)}, burst twice that)`,
      newPerSecond: inputs.stageRequestsPerSecond,
      perSite: true,
      note: 'a setting, on purpose: a hospital sends a few a second; raise it per site for a regional hub',
    },
    {
      part: 'API Gateway account',
      limit: `${thousands(inputs.accountRequestsPerSecond)} requests a second per region (adjustable quota)`,
      newPerSecond: inputs.accountRequestsPerSecond,
      perSite: false,
      note: 'shared by every site in the account and region',
    },
    {
      part: 'Lambda (receiving)',
      limit: `${thousands(inputs.lambdaConcurrency)} concurrent executions per region (adjustable) × 1,000 ms ÷ the receive time`,
      newPerSecond: per(inputs.lambdaConcurrency * 1000, receiveMs),
      perSite: false,
      note: 'shared likewise; the receive time is measured on the emulators, not in AWS',
    },
    {
      part: 'DynamoDB messages table',
      limit: `a new on-demand table serves ${thousands(inputs.newOnDemandTableWruPerSecond)} WRU/s at once, then doubles after a sustained peak`,
      newPerSecond: per(inputs.newOnDemandTableWruPerSecond, inputs.messagesTableWruPerNewMessage),
      perSite: true,
      note: 'pre-warm the table (warm throughput) before a known surge',
    },
    {
      part: 'DynamoDB pending index',
      limit: `${thousands(inputs.partitionWruPerSecond)} WRU/s per partition value × ${inputs.indexShards} shards`,
      newPerSecond: shardedIndex(inputs.pendingIndexWruPerNewMessage),
      perSite: true,
      note: 'listed at the put, removed by the mark',
    },
    {
      part: 'DynamoDB arrivals index',
      limit: `${thousands(inputs.partitionWruPerSecond)} WRU/s per partition value × ${inputs.indexShards} shards`,
      newPerSecond: shardedIndex(inputs.arrivalsIndexWruPerNewMessage),
      perSite: true,
      note: 'what `n3-callback tail` reads',
    },
    {
      part: 'DynamoDB documents table',
      limit: `a new on-demand table: ${thousands(inputs.newOnDemandTableWruPerSecond)} WRU/s at once`,
      newPerSecond: per(inputs.newOnDemandTableWruPerSecond, inputs.documentsTableWruPerNewMessage),
      perSite: true,
      note: 'written by the projector, off the ack’s path: beyond it projection lags, acks do not',
    },
    {
      part: 'DynamoDB documents indexes',
      limit: `${thousands(inputs.partitionWruPerSecond)} WRU/s per partition value × ${inputs.indexShards} shards`,
      newPerSecond: shardedIndex(inputs.documentsIndexesWruPerNewMessage),
      perSite: true,
      note: 'off the ack’s path likewise',
    },
    {
      part: 'Project (stream)',
      limit: 'one batch at a time per stream shard; 1,000 ms ÷ the time per document',
      newPerSecond: per(1000, projectMs),
      perSite: false,
      note: 'per stream shard (a table has at least one); beyond it projection lags, acks do not',
    },
    {
      part: 'SQS FIFO, high throughput',
      limit: `${thousands(inputs.sqsFifoPerMessageGroupPerSecond)} a second per message group (one document)`,
      newPerSecond: inputs.sqsFifoPerMessageGroupPerSecond,
      perSite: false,
      note: 'per document; groups are documents, so the queue’s own limit is far off',
    },
    {
      part: 'S3',
      limit: `${thousands(inputs.s3PutPerPrefixPerSecond)} PUT a second per prefix (\`<site>/<type>/<day>/\`)`,
      newPerSecond: inputs.s3PutPerPrefixPerSecond,
      perSite: false,
      note: 'large payloads of one type only (over 4 KiB)',
    },
  ];
  const smallest = (list: CapacityBound[]) => {
    const bound = list
      .filter((b): b is CapacityBound & { newPerSecond: number } => b.newPerSecond !== null)
      .reduce((a, b) => (b.newPerSecond < a.newPerSecond ? b : a));
    return { part: bound.part, newPerSecond: bound.newPerSecond };
  };
  return {
    inputs,
    bounds,
    first: smallest(bounds.filter((b) => b.perSite)),
    firstDynamoDb: smallest(bounds.filter((b) => b.perSite && b.part.startsWith('DynamoDB'))),
  };
}

export interface MemoryRow {
  readonly mb: number;
  readonly cpuShare: number;
  readonly warmMs: number;
  readonly coldInitMs: number;
  /** Duration only, per million invocations. */
  readonly usdPerMillion: number;
  /** The same row from the 25th and 75th percentiles of the measured inputs: how far this run's noise moves it. */
  readonly spread: { warmMs: [number, number]; coldInitMs: [number, number]; usdPerMillion: [number, number] };
}

export interface MemoryModel {
  readonly inputs: {
    readonly cpu: string;
    readonly node: string;
    readonly emulators: string;
    readonly cpuMsPerRequestOnFullCore: number;
    readonly ioWaitMs: { p25: number; p50: number; p75: number };
    readonly coldInitMsOnFullCore: { p25: number; p50: number; p75: number };
    readonly cpuShare: string;
  };
  readonly rows: MemoryRow[];
}

/**
 * Lambda memory: CPU follows memory (1,769 MB = one vCPU), the I/O wait does not. Warm duration = I/O
 * wait + CPU ÷ share; cold init = init on a full core ÷ share. Every input is this machine's (its CPU,
 * its Node, the emulators' I/O), and the share is an assumption: a model, not a measurement of Lambda.
 */
export function memoryModel(
  handler: HandlerReport,
  cold: ColdStartReport,
  units: UnitsReport,
  machine: { cpu: string; node: string },
): MemoryModel {
  const cpu = handler.cpuMsPerRequest;
  const samples = units.ours.cases.REMDStatus!.ms.new;
  const io = (p: number) => Math.max(0, percentile(samples, p) - cpu);
  const ours = cold.bundles.ours!;
  const row = (mb: number, ioMs: number, coldMs: number) => {
    const share = Math.min(1, mb / 1769);
    const warmMs = ioMs + cpu / share;
    return {
      warmMs,
      coldInitMs: coldMs / share,
      usdPerMillion: 1e6 * Math.ceil(warmMs) * (mb / 1024 / 1000) * PRICES.lambdaArmPerGbSecond,
    };
  };
  const rows = [128, 256, 512, 1024, 1769].map((mb) => {
    const mid = row(mb, io(50), ours.p50Ms);
    const low = row(mb, io(25), ours.p25Ms);
    const high = row(mb, io(75), ours.p75Ms);
    return {
      mb,
      cpuShare: Math.min(1, mb / 1769),
      ...mid,
      spread: {
        warmMs: [low.warmMs, high.warmMs] as [number, number],
        coldInitMs: [low.coldInitMs, high.coldInitMs] as [number, number],
        usdPerMillion: [low.usdPerMillion, high.usdPerMillion] as [number, number],
      },
    };
  });
  return {
    inputs: {
      cpu: machine.cpu,
      node: machine.node,
      emulators: 'DynamoDB Local and fauxqs on the same machine, whose I/O wait stands in for AWS’s',
      cpuMsPerRequestOnFullCore: cpu,
      ioWaitMs: { p25: io(25), p50: io(50), p75: io(75) },
      coldInitMsOnFullCore: { p25: ours.p25Ms, p50: ours.p50Ms, p75: ours.p75Ms },
      cpuShare: 'assumed: memory ÷ 1,769 MB (AWS: 1,769 MB = one vCPU)',
    },
    rows,
  };
}

/** A receiving function's timeout, as lib/functions.ts sets it. */
export const RECEIVER_TIMEOUT_SECONDS = RECEIVER_TIMEOUT_MS / 1000;

/** Lambda's memory at which a function gets one full vCPU (AWS: CPU follows memory). */
export const FULL_CORE_MB = 1769;

export interface ParseCostModel {
  readonly inputs: {
    readonly cpu: string;
    readonly node: string;
    readonly lambdaMemoryMb: number;
    readonly fullCoreMb: number;
    readonly cpuShare: string;
    readonly timeoutSeconds: number;
    /** M10: the worst run of the slowest shape at the caps, and of the 300,000-key body with the caps lifted. */
    readonly slowestCpuMsOnFullCore: number;
    readonly beforeCapsCpuMsOnFullCore: number;
    readonly leftOut: string;
  };
  readonly slowest: string;
  readonly slowestSeconds: number;
  readonly beforeCapsSeconds: number;
  /** Of the function's timeout. */
  readonly slowestShare: number;
  readonly beforeCapsShare: number;
}

/**
 * Parse cost at a Lambda's CPU share: CPU time on this machine's full core × 1,769 ÷ 512. CPU only (the
 * canned transport answers at once, so AWS's I/O for a 4 MiB claim check is not in it), this machine's CPU
 * and Node, and the share an assumption: a model, not a measurement of Lambda. Held against the timeout.
 */
export function parseCostModel(report: ParseCostReport, machine: { cpu: string; node: string }): ParseCostModel {
  const slowest = report.shapes.find((shape) => shape.name === report.slowest)!;
  const slowestCpu = Math.max(...slowest.cpuMs);
  const beforeCpu = Math.max(...report.beforeCaps.cpuMs);
  const atLambda = (cpuMs: number) => (cpuMs * FULL_CORE_MB) / LAMBDA_MEMORY_MB / 1000;
  return {
    inputs: {
      cpu: machine.cpu,
      node: machine.node,
      lambdaMemoryMb: LAMBDA_MEMORY_MB,
      fullCoreMb: FULL_CORE_MB,
      cpuShare: `assumed: ${LAMBDA_MEMORY_MB} MB ÷ ${thousands(FULL_CORE_MB)} MB of a vCPU (AWS: ${thousands(FULL_CORE_MB)} MB = one vCPU)`,
      timeoutSeconds: RECEIVER_TIMEOUT_SECONDS,
      slowestCpuMsOnFullCore: slowestCpu,
      beforeCapsCpuMsOnFullCore: beforeCpu,
      leftOut: 'I/O wait (the canned transport answers at once): a 4 MiB claim check adds an S3 PUT',
    },
    slowest: slowest.name,
    slowestSeconds: atLambda(slowestCpu),
    beforeCapsSeconds: atLambda(beforeCpu),
    slowestShare: atLambda(slowestCpu) / RECEIVER_TIMEOUT_SECONDS,
    beforeCapsShare: atLambda(beforeCpu) / RECEIVER_TIMEOUT_SECONDS,
  };
}
