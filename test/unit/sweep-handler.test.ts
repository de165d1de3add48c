import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { RECONCILE_RESERVE_MS } from '../../contract/deadlines';
import { METRIC } from '../../contract/observability';
import { QueueUnavailableError, StoreUnavailableError } from '../../contract/errors';
import { asLambda } from '../../lambdas/handlers/middleware';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import { createSilenceHandler } from '../../lambdas/handlers/silence-handler';
import { createSweepHandler } from '../../lambdas/handlers/sweep-handler';
import { ingest } from '../../lambdas/ingest/ingest';
import type { ReconcileReport } from '../../lambdas/ingest/reconcile';
import { parseMessage } from '../../contract/catalog';
import { proxyEvent } from '../../testing/events';
import { InMemoryDocumentStore, inMemoryPorts, inMemoryReceiveDeps } from '../../testing/fakes';
import { freshMessage } from '../../testing/messages';

/*
 * The site's one scheduled function (both jobs, whatever the other does) and what a quiet fleet pays for:
 * no metric written as a zero, no empty flush.
 */

const silentLogger = () => new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const context = { functionName: 'Sweep', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 40_000 } as Context;
const idleReport: ReconcileReport = {
  pendingBefore: 0,
  due: 0,
  forwarded: 0,
  undeliverable: 0,
  undeliverableIds: [],
  unreadable: 0,
  unreadableIds: [],
  failed: 0,
  unmarked: 0,
  pendingAfter: 0,
};

describe('sweep', () => {
  it('runs both jobs and returns both reports', async () => {
    const sweep = createSweepHandler({ reconcile: async () => idleReport, silence: async () => ({ silent: 2 }) });
    expect(await sweep()).toEqual({ reconcile: idleReport, silence: { silent: 2 } });
  });

  it('still counts silent documents when reconciling fails, and then fails the run (the SweepErrors alarm)', async () => {
    const silence = vi.fn(async () => ({ silent: 0 }));
    const sweep = createSweepHandler({ reconcile: async () => Promise.reject(new StoreUnavailableError('table down')), silence });
    await expect(sweep()).rejects.toThrow('table down');
    expect(silence).toHaveBeenCalledOnce();
  });

  it('still reconciles when the silence count fails, and then fails the run', async () => {
    const reconcile = vi.fn(async () => idleReport);
    const sweep = createSweepHandler({ reconcile, silence: async () => Promise.reject(new Error('documents down')) });
    await expect(sweep()).rejects.toThrow('documents down');
    expect(reconcile).toHaveBeenCalledOnce();
  });

  it('names both failures when both jobs fail', async () => {
    const sweep = createSweepHandler({
      reconcile: async () => Promise.reject(new Error('a')),
      silence: async () => Promise.reject(new Error('b')),
    });
    await expect(sweep()).rejects.toMatchObject({ errors: [new Error('a'), new Error('b')] });
  });
});

describe('a quiet site writes no metric', () => {
  let addMetric: MockInstance<Metrics['addMetric']>;
  let publish: MockInstance<Metrics['publishStoredMetrics']>;
  beforeEach(() => {
    addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
    publish = vi.spyOn(Metrics.prototype, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
      return this;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const sweepOf = (ports = inMemoryPorts(), documents = new InMemoryDocumentStore()) => {
    const logger = silentLogger();
    const metrics = new Metrics({ namespace: 'test' });
    const reconcile = createReconcileHandler({ ports, settings: { graceSeconds: 0, batch: 100 }, logger, metrics });
    const silence = createSilenceHandler({ documents, clock: ports.clock, logger, metrics });
    return asLambda(createSweepHandler({ reconcile, silence }), { logger, metrics });
  };

  it('adds no metric and flushes nothing on an idle sweep (no zeros, no empty-flush warning)', async () => {
    await sweepOf()({}, context);
    expect(addMetric).not.toHaveBeenCalled();
    expect(publish).not.toHaveBeenCalled();
  });

  it('counts what stays pending while the queue is down (the failed send is its log line’s, read by no alarm), and flushes it', async () => {
    const ports = inMemoryPorts();
    const parsed = parseMessage('SEMDStatus', freshMessage('SEMDStatus'));
    if (!parsed.ok) throw new Error('fixture');
    ports.queue.failNextSend = new QueueUnavailableError('down');
    await ingest(parsed.message, ports, { site: 'mo-1', retentionDays: 30, maxInlinePayloadBytes: 200 * 1024 });
    ports.queue.failNextSend = new QueueUnavailableError('still down');

    await sweepOf(ports)({}, context);
    expect(addMetric.mock.calls.map(([name, , value]) => [name, value])).toEqual([[METRIC.pendingCount, 1]]);
    expect(publish).toHaveBeenCalledOnce();
  });
});

describe('the sweep’s run budget and its set-aside records', () => {
  let addMetric: MockInstance<Metrics['addMetric']>;
  beforeEach(() => {
    addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
    vi.spyOn(Metrics.prototype, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
      return this;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const deferredIn = async (ports: ReturnType<typeof inMemoryPorts>) => {
    const parsed = parseMessage('SEMDStatus', freshMessage('SEMDStatus'));
    if (!parsed.ok) throw new Error('fixture');
    ports.queue.failNextSend = new QueueUnavailableError('down');
    await ingest(parsed.message, ports, { site: 'mo-1', retentionDays: 30, maxInlinePayloadBytes: 200 * 1024 });
    ports.queue.attempts = 0;
    // The sweep runs a second later: with the real clock it could fall in the same millisecond as the arrival,
    // and a message is due only once it is older than the grace (0 s here), strictly.
    Object.assign(ports, { clock: { now: () => new Date(Date.now() + 1_000) } });
    return parsed.message.messageId;
  };
  const sweepOf = (ports: ReturnType<typeof inMemoryPorts>) => {
    const logger = silentLogger();
    const metrics = new Metrics({ namespace: 'test' });
    const reconcile = createReconcileHandler({ ports, settings: { graceSeconds: 0, batch: 100 }, logger, metrics });
    const silence = createSilenceHandler({ documents: new InMemoryDocumentStore(), clock: ports.clock, logger, metrics });
    return asLambda(createSweepHandler({ reconcile, silence }), { logger, metrics });
  };

  it('starts no message when the invocation has less time left than the reserve: it returns, the message stays pending', async () => {
    const ports = inMemoryPorts();
    await deferredIn(ports);
    const short = { ...context, getRemainingTimeInMillis: () => RECONCILE_RESERVE_MS - 1 };
    const report = await sweepOf(ports)({}, short);
    expect(report.reconcile).toMatchObject({ due: 1, forwarded: 0, failed: 1, stopped: 'out-of-time', pendingAfter: 1 });
    expect(ports.queue.attempts).toBe(0);
  });

  it('forwards when the invocation has the time', async () => {
    const ports = inMemoryPorts();
    await deferredIn(ports);
    const report = await sweepOf(ports)({}, { ...context, getRemainingTimeInMillis: () => RECONCILE_RESERVE_MS });
    expect(report.reconcile).toMatchObject({ forwarded: 1, pendingAfter: 0 });
  });

  it('counts a record set aside as unreadable as undeliverable: the Undeliverable alarm reads it', async () => {
    const ports = inMemoryPorts();
    ports.store.unreadableKeys.add('0f0e0d0c-0b0a-4909-8807-060504030201');
    await sweepOf(ports)({}, context);
    expect(addMetric.mock.calls.map(([name, , value]) => [name, value])).toEqual([[METRIC.undeliverable, 1]]);
  });
});

describe('the rejection counts the alarms read', () => {
  afterEach(() => vi.restoreAllMocks());

  it('counts every rejection once, site-wide: a bad body, a body invalid for its type, an unknown path, one not kept', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
    const deps = inMemoryReceiveDeps({ logger: silentLogger() });
    const semd = createReceiveHandler('SEMDStatus', deps);
    const remd = createReceiveHandler('REMDStatus', deps);
    const body = freshMessage('SEMDStatus');
    await semd(proxyEvent({ path: '/SEMDStatus', body: JSON.stringify(body) }));
    await remd(proxyEvent({ path: '/REMDStatus', body: JSON.stringify({ ...body }) })); // same MessageId, a SEMDStatus body on REMDStatus: 400
    await semd(proxyEvent({ path: '/SEMDStatus', body: '{"MessageId": 1' }));
    await createReceiveHandler(undefined, deps)(proxyEvent({ path: '/Nowhere', body: '{}' }));
    deps.rejectedStore.failNext = new Error('bucket down');
    await semd(proxyEvent({ path: '/SEMDStatus', body: 'not json' }));

    const counted = (name: string) => addMetric.mock.calls.filter(([metric]) => metric === name).length;
    expect([counted(METRIC.rejected), counted(METRIC.rejectedNotKept)]).toEqual([4, 1]);
  });
});
