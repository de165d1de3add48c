import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoDbDocumentStore } from '../../lambdas/adapters';
import { DynamoDbMessageStore } from '../../lambdas/adapters/dynamodb-store';
import { fromStreamImage } from '../../lambdas/adapters/record-item';
import { S3PayloadStore, S3RejectedStore } from '../../lambdas/adapters/s3-bucket';
import { DOCUMENTS, TABLE } from '../../contract/shapes';
import { SqsMessageQueue } from '../../lambdas/adapters/sqs-queue';
import { MAX_BODY_BYTES, MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { createProjectHandler } from '../../lambdas/handlers/project-handler';
import { createReceiveHandler, type ReceiveDeps } from '../../lambdas/handlers/receive-handler';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import { type MessageType, messageSpec } from '../../contract/catalog';
import { localDynamoDb, localS3, localSqs } from '../../local/clients';
import { startDynamo, startFauxqs } from '../../local/emulators';
import { provision } from '../../local/provision';
import { proxyEvent } from '../../testing/events';
import { freshMessage } from '../../testing/messages';
import { addUnits, Meter, type Units } from './meter';
import { createPeerHandler } from './peer/handler';
import { median, percentile } from './stats';
import { StreamTap } from './stream-tap';

/*
 * M7's measurements: what each kind of request costs in the units AWS bills, on DynamoDB Local and
 * fauxqs with the stack's own table shapes, ours beside the peer (Powertools idempotency around an
 * SQS send, dev/bench/peer/) in the same run on the same emulators. Ours counts the whole path of a new
 * message: the receiving function's calls, then the `Project` function's on the documents table,
 * handed the very stream record DynamoDB Local wrote. Prices and the mix are models (dev/bench/models.ts).
 */

/** The message cases measured: every type small, and the large payloads of the mix. */
export const CASES: ReadonlyArray<{ case: string; type: MessageType; payloadKb?: number }> = [
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

/**
 * Every document in the run receives this many new messages, so each measured projection is the 1st,
 * 2nd, … of its document in turn (a document's item grows with its timeline, and so does its write).
 * Four is one REMD path: CDA generated, SEMD uploaded, REMD awaiting, REMD registered.
 */
export const MESSAGES_PER_DOCUMENT = 4;
/** New messages measured per case (a multiple of MESSAGES_PER_DOCUMENT). */
export const REPEAT = 3 * MESSAGES_PER_DOCUMENT;

/** The meter's calls, counted (in order of first appearance). */
export type CallCounts = Record<string, number>;
export type MeasuredUnits = Omit<Units, 'calls'> & { calls: CallCounts };

export interface CaseUnits {
  readonly bodyBytes: number;
  /** A new message, through the receiving function (mean of REPEAT). */
  readonly new: MeasuredUnits;
  readonly duplicate: MeasuredUnits;
  readonly conflict: MeasuredUnits;
  /** The same body with an invalid `Status`: what ours rejects (the peer validates nothing). */
  readonly rejected: MeasuredUnits;
  /** Ours: the `Project` function's share of a new message, one record per invocation (mean of REPEAT). */
  readonly projection?: MeasuredUnits;
  /** Ours: the projection's units by the message's position in its document (1st, 2nd, …). */
  readonly projectionByPosition?: Array<{ wru: number; rru: number }>;
  /** Ours: the first attempt with the queue down (stored, acked, pending)… */
  readonly deferred?: MeasuredUnits;
  /** …and the reconciler's run that forwards REPEAT of them, per message. */
  readonly reconciled?: MeasuredUnits;
  /** Wall time of each call on the emulators, ms (the handler alone, no HTTP hop): every sample. */
  readonly ms: { new: number[]; duplicate: number[]; rejected: number[]; projection?: number[] };
}

export interface SideUnits {
  readonly cases: Readonly<Record<string, CaseUnits>>;
  /** Process CPU per new message (user + system), ms, on a full core of this machine. */
  readonly cpuMsPerNewMessage: number;
  /** Wall time per new message over every case, ms. */
  readonly newMs: { p50: number; p99: number };
}

export interface UnitsReport {
  readonly dynamodb: 'dynamodb-local';
  readonly repeat: number;
  readonly messagesPerDocument: number;
  readonly ours: SideUnits;
  readonly peer: SideUnits;
}

const silentLogger = () => new Logger({ serviceName: 'bench', logLevel: 'SILENT' });

function body(c: { type: MessageType; payloadKb?: number }, documentId: string): Record<string, unknown> {
  const large = c.payloadKb ? { [c.type === 'CDAStatus' ? 'CDA' : 'Data']: 'QUJD'.repeat(Math.round((c.payloadKb * 1024) / 4)) } : {};
  return freshMessage(c.type, { [messageSpec(c.type).documentKey]: documentId, ...large });
}

const counted = (units: Units): MeasuredUnits => {
  const calls: CallCounts = {};
  for (const call of units.calls) calls[call] = (calls[call] ?? 0) + 1;
  return { ...units, calls };
};
const mean = (units: Units[]) => counted(addUnits(units, 1 / units.length));

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

interface Side {
  readonly handlerFor: (type: MessageType) => Handler;
  /** Ours: the projector behind the stream, the deferred path and the reconciler. */
  readonly ours?: {
    readonly tap: StreamTap;
    readonly project: (event: Awaited<ReturnType<StreamTap['inserts']>>) => Promise<unknown>;
    readonly deferredFor: (type: MessageType) => Handler;
    readonly reconcile: () => Promise<unknown>;
  };
}

async function measureSide(meter: Meter, side: Side, run: string): Promise<SideUnits> {
  const cases: Record<string, CaseUnits> = {};
  const allNewMs: number[] = [];
  let cpuMs = 0;
  let cpuCount = 0;
  // Warm-up, unmetered: the first calls of a process compile code paths and open connections.
  const warmUp = CASES.filter((c) => !c.payloadKb);
  for (const c of warmUp) {
    for (let i = 0; i < 3; i++) {
      await side.handlerFor(c.type)(proxyEvent({ path: `/${c.type}`, body: JSON.stringify(body(c, `warm-${randomUUID()}`)) }));
    }
  }
  if (side.ours) await side.ours.project(await side.ours.tap.inserts(3 * warmUp.length));
  meter.reset();

  for (const c of CASES) {
    const handler = side.handlerFor(c.type);
    const call = (message: Record<string, unknown>) => handler(proxyEvent({ path: `/${c.type}`, body: JSON.stringify(message) }));
    const timed = async (message: Record<string, unknown>, into: number[]) => {
      const started = performance.now();
      const answer = await call(message);
      into.push(performance.now() - started);
      return answer;
    };
    const units = {
      new: [] as Units[],
      duplicate: [] as Units[],
      conflict: [] as Units[],
      rejected: [] as Units[],
      projection: [] as Units[],
    };
    const ms = { new: [] as number[], duplicate: [] as number[], rejected: [] as number[], projection: [] as number[] };
    let bodyBytes = 0;
    for (let i = 0; i < REPEAT; i++) {
      const documentId = `bench-${run}-${c.case}-${Math.floor(i / MESSAGES_PER_DOCUMENT)}`;
      const message = body(c, documentId);
      bodyBytes = Buffer.byteLength(JSON.stringify(message));

      meter.reset();
      const cpu = process.cpuUsage();
      const answer = await timed(message, ms.new);
      const used = process.cpuUsage(cpu);
      cpuMs += (used.user + used.system) / 1000;
      cpuCount++;
      if (answer.statusCode !== 200) throw new Error(`${c.case}: a new message answered ${answer.statusCode}`);
      units.new.push(meter.reset());

      if (side.ours) {
        const event = await side.ours.tap.inserts(1);
        if (event.Records.length !== 1) throw new Error(`${c.case}: a new message wrote ${event.Records.length} new records`);
        const started = performance.now();
        await side.ours.project(event);
        ms.projection.push(performance.now() - started);
        units.projection.push(meter.reset());
      }

      await timed(message, ms.duplicate);
      units.duplicate.push(meter.reset());
      await call({ ...message, Message: `${String(message.Message)} (другой текст)` });
      units.conflict.push(meter.reset());
      const rejected = await timed({ ...body(c, documentId), Status: 'Неизвестно' }, ms.rejected);
      if (side.ours && rejected.statusCode !== 400)
        throw new Error(`${c.case}: an invalid Status answered ${rejected.statusCode}, not 400`);
      units.rejected.push(meter.reset());
      // Only a new message is news for the projector: a re-send, a conflict or a rejection must write no record.
      if (side.ours && (await side.ours.tap.inserts()).Records.length > 0) {
        throw new Error(`${c.case}: a re-send, conflict or rejection wrote a new record`);
      }
    }
    allNewMs.push(...ms.new);

    let extras: Pick<CaseUnits, 'deferred' | 'reconciled'> = {};
    if (side.ours) {
      const down = side.ours.deferredFor(c.type);
      const deferred: Units[] = [];
      for (let i = 0; i < REPEAT; i++) {
        meter.reset();
        await down(proxyEvent({ path: `/${c.type}`, body: JSON.stringify(body(c, `bench-${run}-deferred-${randomUUID()}`)) }));
        deferred.push(meter.reset());
      }
      await side.ours.tap.inserts(REPEAT); // their records: not projected here (a new message's projection is measured above)
      meter.reset();
      await side.ours.reconcile();
      extras = { deferred: mean(deferred), reconciled: counted(addUnits([meter.reset()], 1 / REPEAT)) };
    }

    const byPosition = Array.from({ length: MESSAGES_PER_DOCUMENT }, (_, position) => {
      const at = units.projection.filter((_, i) => i % MESSAGES_PER_DOCUMENT === position);
      const m = addUnits(at, 1 / Math.max(1, at.length));
      return { wru: m.wru, rru: m.rru };
    });
    cases[c.case] = {
      bodyBytes,
      new: mean(units.new),
      duplicate: mean(units.duplicate),
      conflict: mean(units.conflict),
      rejected: mean(units.rejected),
      ...(side.ours ? { projection: mean(units.projection), projectionByPosition: byPosition } : {}),
      ...extras,
      ms: { new: ms.new, duplicate: ms.duplicate, rejected: ms.rejected, ...(side.ours ? { projection: ms.projection } : {}) },
    };
  }
  return { cases, cpuMsPerNewMessage: cpuMs / cpuCount, newMs: { p50: median(allNewMs), p99: percentile(allNewMs, 99) } };
}

const NO_INDEX_UNITS =
  'M7 needs DynamoDB Local (Java): dynalite reports no index units. Install a JRE (apt-get install -y default-jre-headless) and rerun.';

export async function measureUnits(log: (text: string) => void = () => undefined): Promise<UnitsReport> {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const [dynamo, fauxqs] = await Promise.all([startDynamo(), startFauxqs()]);
  try {
    if (dynamo.kind !== 'dynamodb-local') throw new Error(NO_INDEX_UNITS);
    const run = randomUUID().slice(0, 8);
    const resources = await provision({ dynamodb: dynamo.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint }, { prefix: `cost-${run}` });
    if (!resources.streamArn) throw new Error('M7: the message table has no stream on this emulator; the projection cannot be measured');
    const meter = new Meter();
    const ddb = meter.dynamodb(localDynamoDb(dynamo.endpoint), {
      name: resources.tableName,
      label: 'messages',
      partitionKey: TABLE.partitionKey,
    });
    const documentsDdb = meter.dynamodb(localDynamoDb(dynamo.endpoint), {
      name: resources.documentsTableName,
      label: 'documents',
      partitionKey: DOCUMENTS.partitionKey,
    });
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
    const reconcile = createReconcileHandler({
      ports: { store, queue: new SqsMessageQueue(sqs, resources.queueUrl), clock },
      settings: { graceSeconds: 0, batch: 100 },
      logger: silentLogger(),
      metrics: new Metrics({ namespace: 'bench' }),
    });
    const project = createProjectHandler({
      documents: new DynamoDbDocumentStore(documentsDdb, resources.documentsTableName),
      recordOf: fromStreamImage,
      clock,
      logger: silentLogger(),
      metrics: new Metrics({ namespace: 'bench' }),
    });
    const tap = new StreamTap(dynamo.endpoint, resources.streamArn);
    log('  ours…');
    const ours = await measureSide(
      meter,
      {
        handlerFor: (type) => createReceiveHandler(type, deps(resources.queueUrl)),
        ours: { tap, project, deferredFor: (type) => createReceiveHandler(type, deps(missingQueue)), reconcile },
      },
      run,
    );
    tap.destroy();
    if (!meter.indexUnitsSeen) throw new Error(NO_INDEX_UNITS);

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
      new CreateQueueCommand({ QueueName: `peer-${run}.fifo`, Attributes: { FifoQueue: 'true' } }),
    );
    const peerDdb = meter.dynamodb(localDynamoDb(dynamo.endpoint), { name: peerTable, label: 'peer', partitionKey: 'id' });
    const peerHandler = createPeerHandler({ dynamodb: peerDdb, sqs, tableName: peerTable, queueUrl: peerQueue.QueueUrl! });
    log('  peer…');
    const peer = await measureSide(meter, { handlerFor: () => peerHandler }, run);
    return { dynamodb: 'dynamodb-local', repeat: REPEAT, messagesPerDocument: MESSAGES_PER_DOCUMENT, ours, peer };
  } finally {
    await Promise.all([dynamo.stop(), fauxqs.stop()]);
  }
}
