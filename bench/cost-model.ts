import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDbMessageStore } from '../lambdas/adapters/dynamodb-store';
import { S3PayloadStore, S3RejectedStore } from '../lambdas/adapters/s3-bucket';
import { TABLE } from '../lambdas/adapters/shapes';
import { SqsMessageQueue } from '../lambdas/adapters/sqs-queue';
import { MAX_BODY_BYTES, MAX_INLINE_PAYLOAD_BYTES } from '../lambdas/contract/limits';
import { createReceiveHandler, type ReceiveDeps } from '../lambdas/handlers/receive-handler';
import { createReconcileHandler } from '../lambdas/handlers/reconcile-handler';
import type { MessageType } from '../lambdas/protocol/catalog';
import { localDynamoDb, localS3, localSqs } from '../local/clients';
import { startDynamo, startFauxqs } from '../local/emulators';
import { provision } from '../local/provision';
import { proxyEvent } from '../test/support/events';
import { freshMessage } from '../test/support/messages';
import { Meter, type Units } from './meter';
import { createPeerHandler } from './peer/handler';
import { percentile } from './stats';

/*
 * M7: what a callback costs, in the units AWS bills, measured on DynamoDB Local and fauxqs with the
 * table's own shape — ours beside the peer (Powertools idempotency around an SQS send, bench/peer/),
 * in the same run on the same emulators — then priced for a stated mix.
 */

/** Public on-demand prices, us-east-1, as published in November 2026 (USD). Check before budgeting. */
export const PRICES = {
  date: '2026-11',
  region: 'us-east-1',
  apiGatewayRestPerMillion: 3.5,
  wafPerMillionRequests: 0.6,
  lambdaPerMillionRequests: 0.2,
  /** arm64, per GB-second. */
  lambdaArmPerGbSecond: 0.0000133334,
  dynamoWruPerMillion: 0.625,
  dynamoRruPerMillion: 0.125,
  s3PutPerMillion: 5,
  s3GetPerMillion: 0.4,
  /** FIFO, per million requests; every 64 KB of a request is one request. */
  sqsFifoPerMillion: 0.5,
} as const;

export const LAMBDA_MEMORY_MB = 512;

/** The stated mix: what a hospital's callbacks look like. */
export const MIX: ReadonlyArray<{ case: string; type: MessageType; share: number; payloadKb?: number }> = [
  { case: 'REMDStatus', type: 'REMDStatus', share: 0.4 },
  { case: 'SEMDStatus', type: 'SEMDStatus', share: 0.25 },
  { case: 'CDAStatus60KB', type: 'CDAStatus', share: 0.15, payloadKb: 60 },
  { case: 'VimisResult', type: 'VimisResult', share: 0.1 },
  { case: 'MseResult', type: 'MseResult', share: 0.05 },
  { case: 'MseResultData100KB', type: 'MseResultData', share: 0.05, payloadKb: 100 },
];

const CASES: ReadonlyArray<{ case: string; type: MessageType; payloadKb?: number }> = [
  { case: 'CDAStatus', type: 'CDAStatus' },
  { case: 'SEMDStatus', type: 'SEMDStatus' },
  { case: 'REMDStatus', type: 'REMDStatus' },
  { case: 'MseResult', type: 'MseResult' },
  { case: 'MseResultData', type: 'MseResultData' },
  { case: 'VimisResult', type: 'VimisResult' },
  { case: 'CDAStatus60KB', type: 'CDAStatus', payloadKb: 60 },
  { case: 'CDAStatus150KB', type: 'CDAStatus', payloadKb: 150 },
  { case: 'MseResultData100KB', type: 'MseResultData', payloadKb: 100 },
];

export interface CaseUnits {
  readonly new: Units;
  readonly duplicate: Units;
  readonly conflict: Units;
  /** The first attempt with the queue down (stored, acked, pending)… */
  readonly deferred?: Units;
  /** …and the reconciler's share per message when it forwards a batch of them. */
  readonly reconciled?: Units;
  /** Wall time per new message on the emulators, ms (the handler, not the HTTP hop). */
  readonly newMs: number;
  readonly bodyBytes: number;
}

export interface SideReport {
  readonly cases: Readonly<Record<string, CaseUnits>>;
  /** Process CPU per new message (user + system), ms, on a full core. */
  readonly cpuMsPerMessage: number;
  readonly latency: { p50: number; p99: number };
}

export interface CostReport {
  readonly ours: SideReport;
  readonly peer: SideReport;
  readonly perMillion: { ours: number; peer: number; floor: number; oursStorageAndQueue: number; floorStorageAndQueue: number };
  readonly perCase: Readonly<Record<string, { ours: number; peer: number; floor: number }>>;
}

const REPEAT = 10;
const silentLogger = () => new Logger({ serviceName: 'bench', logLevel: 'SILENT' });

function body(c: { type: MessageType; payloadKb?: number }): Record<string, unknown> {
  if (!c.payloadKb) return freshMessage(c.type);
  const field = c.type === 'CDAStatus' ? 'CDA' : 'Data';
  return freshMessage(c.type, { [field]: 'QUJD'.repeat(Math.round((c.payloadKb * 1024) / 4)) });
}

const sum = (units: Units[]): Units => {
  const total: Units = { wru: 0, rru: 0, s3Put: 0, s3Get: 0, s3Delete: 0, sqsRequests: 0, sqsChunks: 0, calls: units[0]?.calls ?? [] };
  for (const u of units) {
    total.wru += u.wru;
    total.rru += u.rru;
    total.s3Put += u.s3Put;
    total.s3Get += u.s3Get;
    total.s3Delete += u.s3Delete;
    total.sqsRequests += u.sqsRequests;
    total.sqsChunks += u.sqsChunks;
  }
  return total;
};
const per = (units: Units, n: number): Units => ({
  ...units,
  wru: units.wru / n,
  rru: units.rru / n,
  s3Put: units.s3Put / n,
  s3Get: units.s3Get / n,
  s3Delete: units.s3Delete / n,
  sqsRequests: units.sqsRequests / n,
  sqsChunks: units.sqsChunks / n,
});

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

async function measureSide(
  meter: Meter,
  handlerFor: (type: MessageType) => Handler,
  extras?: { deferredFor: (type: MessageType) => Handler; reconcile: () => Promise<unknown> },
): Promise<SideReport> {
  const cases: Record<string, CaseUnits> = {};
  const times: number[] = [];
  let cpuMs = 0;
  let cpuCount = 0;
  for (const c of CASES) {
    const handler = handlerFor(c.type);
    const call = (message: Record<string, unknown>) => handler(proxyEvent({ path: `/${c.type}`, body: JSON.stringify(message) }));
    const news: Units[] = [];
    const dups: Units[] = [];
    const conflicts: Units[] = [];
    const ms: number[] = [];
    let bodyBytes = 0;
    for (let i = 0; i < REPEAT; i++) {
      const message = body(c);
      bodyBytes = Buffer.byteLength(JSON.stringify(message));
      meter.reset();
      const cpu = process.cpuUsage();
      const started = performance.now();
      const answer = await call(message);
      ms.push(performance.now() - started);
      const used = process.cpuUsage(cpu);
      cpuMs += (used.user + used.system) / 1000;
      cpuCount++;
      if (answer.statusCode !== 200) throw new Error(`${c.case}: new message answered ${answer.statusCode}`);
      news.push(meter.reset());
      await call(message);
      dups.push(meter.reset());
      await call({ ...message, Message: `${String(message.Message)} (другой текст)` });
      conflicts.push(meter.reset());
    }
    times.push(...ms);
    let deferred: Units | undefined;
    let reconciled: Units | undefined;
    if (extras) {
      const down = extras.deferredFor(c.type);
      const deferredUnits: Units[] = [];
      for (let i = 0; i < REPEAT; i++) {
        meter.reset();
        await down(proxyEvent({ path: `/${c.type}`, body: JSON.stringify(body(c)) }));
        deferredUnits.push(meter.reset());
      }
      deferred = per(sum(deferredUnits), REPEAT);
      meter.reset();
      await extras.reconcile();
      reconciled = per(meter.reset(), REPEAT);
    }
    cases[c.case] = {
      new: per(sum(news), REPEAT),
      duplicate: per(sum(dups), REPEAT),
      conflict: per(sum(conflicts), REPEAT),
      ...(deferred ? { deferred, reconciled } : {}),
      newMs: ms.reduce((a, b) => a + b, 0) / ms.length,
      bodyBytes,
    };
  }
  return { cases, cpuMsPerMessage: cpuMs / cpuCount, latency: { p50: percentile(times, 50), p99: percentile(times, 99) } };
}

/** USD for one message of a case, all-in (API Gateway, Lambda, storage, queue) or storage and queue only. */
function price(units: Units, lambdaMs: number, options: { waf: boolean; consumerGets: number; storageOnly?: boolean }): number {
  const storage =
    (units.wru * PRICES.dynamoWruPerMillion +
      units.rru * PRICES.dynamoRruPerMillion +
      units.s3Put * PRICES.s3PutPerMillion +
      options.consumerGets * PRICES.s3GetPerMillion +
      units.sqsChunks * PRICES.sqsFifoPerMillion) /
    1e6;
  if (options.storageOnly) return storage;
  const lambda =
    PRICES.lambdaPerMillionRequests / 1e6 + Math.ceil(lambdaMs) * (LAMBDA_MEMORY_MB / 1024 / 1000) * PRICES.lambdaArmPerGbSecond;
  return storage + PRICES.apiGatewayRestPerMillion / 1e6 + (options.waf ? PRICES.wafPerMillionRequests / 1e6 : 0) + lambda;
}

/**
 * The floor: what any design with the same guarantees must spend per message — one durable write of the
 * payload bytes (the cheaper of DynamoDB by the KB, or one S3 PUT and the consumer's GET), one send (its
 * 64 KB chunks), one small state change (1 write unit); plus the gateway and one invocation of the
 * faster of the two functions measured.
 */
function floorUnits(payloadBytes: number): { units: Units; gets: number } {
  const dynamoKb = Math.ceil(payloadBytes / 1024);
  const inDynamo = dynamoKb * PRICES.dynamoWruPerMillion;
  const inS3 = PRICES.s3PutPerMillion + PRICES.s3GetPerMillion;
  const viaS3 = inS3 < inDynamo;
  const envelopeBytes = viaS3 ? 400 : payloadBytes + 200;
  return {
    units: {
      wru: (viaS3 ? 0 : dynamoKb) + 1,
      rru: 0,
      s3Put: viaS3 ? 1 : 0,
      s3Get: 0,
      s3Delete: 0,
      sqsRequests: 1,
      sqsChunks: Math.ceil(envelopeBytes / (64 * 1024)),
      calls: [],
    },
    gets: viaS3 ? 1 : 0,
  };
}

export async function measureCost(log: (text: string) => void = () => undefined): Promise<CostReport> {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const [dynamo, fauxqs] = await Promise.all([startDynamo(), startFauxqs()]);
  try {
    const resources = await provision(
      { dynamodb: dynamo.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint },
      { prefix: `cost-${Date.now()}` },
    );
    const meter = new Meter();
    const ddb = meter.dynamodb(localDynamoDb(dynamo.endpoint), resources.tableName);
    const sqs = meter.sqs(localSqs(fauxqs.endpoint));
    const s3 = meter.s3(localS3(fauxqs.endpoint));
    const store = new DynamoDbMessageStore(ddb, resources.tableName);
    const payloads = new S3PayloadStore(s3, resources.bucket);
    const clock = { now: () => new Date() };
    const deps = (queueUrl: string): ReceiveDeps => ({
      ports: { store, queue: new SqsMessageQueue(sqs, queueUrl), payloads, clock },
      rejectedStore: new S3RejectedStore(s3, resources.bucket),
      settings: { site: 'cost', retentionDays: 90, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES },
      maxBodyBytes: MAX_BODY_BYTES,
      logger: silentLogger(),
      metrics: new Metrics({ namespace: 'bench' }),
    });
    const missingQueue = resources.queueUrl.replace(/\.fifo$/, '-missing.fifo');
    const reconciler = createReconcileHandler({
      ports: { store, queue: new SqsMessageQueue(sqs, resources.queueUrl), clock },
      settings: { graceSeconds: 0, batch: 100 },
      logger: silentLogger(),
      metrics: new Metrics({ namespace: 'bench' }),
    });
    log('  ours…');
    const ours = await measureSide(meter, (type) => createReceiveHandler(type, deps(resources.queueUrl)), {
      deferredFor: (type) => createReceiveHandler(type, deps(missingQueue)),
      reconcile: reconciler,
    });

    // The peer's own table (Powertools' default shape: key `id`, TTL `expiration`) and queue.
    const peerTable = `${resources.tableName}-peer`;
    const admin = localDynamoDb(dynamo.endpoint);
    await admin.send(
      new CreateTableCommand({
        TableName: peerTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    await waitUntilTableExists({ client: admin, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: peerTable });
    admin.destroy();
    const peerQueue = await localSqs(fauxqs.endpoint).send(
      new CreateQueueCommand({ QueueName: `peer-${randomUUID().slice(0, 8)}.fifo`, Attributes: { FifoQueue: 'true' } }),
    );
    const peerDdb = meter.dynamodb(localDynamoDb(dynamo.endpoint), peerTable);
    const peerHandler = createPeerHandler({ dynamodb: peerDdb, sqs, tableName: peerTable, queueUrl: peerQueue.QueueUrl! });
    log('  peer…');
    const peer = await measureSide(meter, () => peerHandler);

    const perCase: Record<string, { ours: number; peer: number; floor: number }> = {};
    let oursMix = 0;
    let peerMix = 0;
    let floorMix = 0;
    let oursStorage = 0;
    let floorStorage = 0;
    for (const c of CASES) {
      const o = ours.cases[c.case]!;
      const p = peer.cases[c.case]!;
      const floor = floorUnits(o.bodyBytes);
      const fastest = Math.min(o.newMs, p.newMs);
      const costs = {
        ours: price(o.new, o.newMs, { waf: true, consumerGets: o.new.s3Put }),
        peer: price(p.new, p.newMs, { waf: false, consumerGets: 0 }),
        floor: price(floor.units, fastest, { waf: false, consumerGets: floor.gets }),
      };
      perCase[c.case] = costs;
      const share = MIX.find((m) => m.case === c.case)?.share ?? 0;
      oursMix += share * costs.ours;
      peerMix += share * costs.peer;
      floorMix += share * costs.floor;
      oursStorage += share * price(o.new, 0, { waf: false, consumerGets: o.new.s3Put, storageOnly: true });
      floorStorage += share * price(floor.units, 0, { waf: false, consumerGets: floor.gets, storageOnly: true });
    }
    return {
      ours,
      peer,
      perCase,
      perMillion: {
        ours: oursMix * 1e6,
        peer: peerMix * 1e6,
        floor: floorMix * 1e6,
        oursStorageAndQueue: oursStorage * 1e6,
        floorStorageAndQueue: floorStorage * 1e6,
      },
    };
  } finally {
    await Promise.all([dynamo.stop(), fauxqs.stop()]);
  }
}

/**
 * What one site sustains before DynamoDB pushes back, from the per-partition limit (1,000 write units a
 * second per partition key value, indexes included) and the measured units per new message: the pending
 * index is written twice per message (listed, then removed) on one of TABLE.shards values; the arrivals
 * index once. The table itself is keyed by MessageId and spreads; a new on-demand table starts at 4,000
 * write units a second and doubles after a sustained peak (or is pre-warmed).
 */
export function sustainedNewPerSecond(newMessageWru: number): {
  pendingIndex: number;
  arrivalsIndex: number;
  newTable: number;
  binding: number;
} {
  const pendingWritesPerMessage = 2;
  const arrivalsWritesPerMessage = 1;
  const tableWru = Math.max(1, newMessageWru - pendingWritesPerMessage - arrivalsWritesPerMessage);
  const pendingIndex = Math.floor((1000 * TABLE.shards) / pendingWritesPerMessage);
  const arrivalsIndex = Math.floor((1000 * TABLE.shards) / arrivalsWritesPerMessage);
  const newTable = Math.floor(4000 / tableWru);
  return { pendingIndex, arrivalsIndex, newTable, binding: Math.min(pendingIndex, arrivalsIndex, newTable) };
}
