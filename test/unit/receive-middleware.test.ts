import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ackForOutcome, type AckResponse } from '../../contract/ack';
import { StoreUnavailableError, ValidationError } from '../../contract/errors';
import { METRIC } from '../../contract/observability';
import { ackErrors } from '../../lambdas/handlers/ack-errors';
import { keepRejected } from '../../lambdas/handlers/keep-rejected';
import { asLambda } from '../../lambdas/handlers/middleware';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import { type Received, receivedFrom } from '../../lambdas/handlers/received';
import { fixedClock, InMemoryRejectedStore, inMemoryReceiveDeps } from '../../testing/fakes';
import { proxyEvent } from '../../testing/events';
import { freshMessage } from '../../testing/messages';

/*
 * The receiving handler is decode → parse → ingest → ack and throws on failure; ack-errors.ts answers what it
 * throws, keep-rejected.ts keeps what was answered as a rejection (issue 25, 5). These pin the two rooms and
 * their order; the handler's behaviour itself is test/unit/receive-handler.test.ts's.
 */
describe('the receiving function’s middlewares', () => {
  afterEach(() => vi.restoreAllMocks());
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const body = JSON.stringify(freshMessage('REMDStatus'));

  /** A bare handler in the same two middlewares, in the order createReceiveHandler uses them. */
  const wrap = (handler: (received: Received) => Promise<AckResponse>, rejectedStore: InMemoryRejectedStore) =>
    middy<Received, AckResponse>({ timeoutEarlyInMillis: 0 })
      .use(keepRejected({ rejectedStore, clock: fixedClock(), maxBodyBytes: 1024, logger, metrics: new Metrics() }))
      .use(ackErrors({ logger, metrics: new Metrics() }))
      .handler(handler);
  const received = () => receivedFrom(proxyEvent({ path: '/REMDStatus', body }), 'REMDStatus');

  it('answer a thrown rejection with its ack and keep it; answer any other failure 5xx and keep nothing', async () => {
    const rejectedStore = new InMemoryRejectedStore();
    const refused = await wrap(async () => {
      throw new ValidationError([{ field: 'Lpu', reason: 'r' }]);
    }, rejectedStore)(received(), {} as Context);
    const failed = await wrap(async () => {
      throw new StoreUnavailableError('down');
    }, rejectedStore)(received(), {} as Context);
    const broken = await wrap(async () => {
      throw new TypeError('a bug');
    }, rejectedStore)(received(), {} as Context);
    expect([refused.statusCode, failed.statusCode, broken.statusCode]).toEqual([400, 503, 500]);
    expect(rejectedStore.kept.map((k) => [k.httpStatus, k.code, k.messageType])).toEqual([[400, 'invalid_fields', 'REMDStatus']]);
  });

  it('keep a request the handler answered and marked a rejection, and only that one', async () => {
    const rejectedStore = new InMemoryRejectedStore();
    const answered = (marked: boolean) => async (r: Received) => {
      if (marked) r.rejection = { code: 'conflict', reason: 'same MessageId, other content' };
      return ackForOutcome(marked ? 'conflict' : 'accepted', 'id');
    };
    await wrap(answered(false), rejectedStore)(received(), {} as Context);
    await wrap(answered(true), rejectedStore)(received(), {} as Context);
    expect(rejectedStore.kept.map((k) => [k.httpStatus, k.code])).toEqual([[409, 'conflict']]);
  });

  it('count a rejection before the deployed wrapper flushes the invocation’s metrics', async () => {
    const deps = inMemoryReceiveDeps({ metrics: new Metrics({ namespace: 'test' }) });
    const flushed: string[][] = [];
    vi.spyOn(deps.metrics, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
      flushed.push(this.serializeMetrics()._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name));
      return this;
    });
    const handler = asLambda(createReceiveHandler('REMDStatus', deps), deps);
    const result = await handler(proxyEvent({ path: '/REMDStatus', body: '{}' }), {} as Context);
    expect(result.statusCode).toBe(400);
    expect(flushed).toEqual([[METRIC.rejected]]);
  });
});
