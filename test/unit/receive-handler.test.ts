import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { METRIC } from '../../contract/observability';
import { QueueRefusedError, QueueUnavailableError, StoreUnavailableError } from '../../contract/errors';
import { createReceiveHandler, type ReceiveDeps } from '../../lambdas/handlers/receive-handler';
import { ACK_TEXT, type Ack } from '../../contract/ack';
import { REASONS } from '../../contract/fields';
import { InMemoryPayloads, InMemoryRejectedStore, InMemoryQueue, InMemoryStore, fixedClock } from '../../testing/fakes';
import { proxyEvent } from '../../testing/events';
import { freshMessage } from '../../testing/messages';

describe('receive handler', () => {
  let store: InMemoryStore;
  let queue: InMemoryQueue;
  let rejectedStore: InMemoryRejectedStore;
  let deps: ReceiveDeps;
  let logLines: string[];

  beforeEach(() => {
    store = new InMemoryStore();
    queue = new InMemoryQueue();
    rejectedStore = new InMemoryRejectedStore();
    logLines = [];
    const capture = (chunk: unknown) => {
      logLines.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    deps = {
      ports: { store, queue, payloads: new InMemoryPayloads(), clock: fixedClock() },
      rejectedStore,
      settings: { site: 'mo-1', retentionDays: 30, maxInlinePayloadBytes: 200 * 1024 },
      maxBodyBytes: 64 * 1024,
      logger: new Logger({ serviceName: 'test', logLevel: 'INFO' }),
      metrics: new Metrics({ namespace: 'test' }),
    };
  });
  afterEach(() => vi.restoreAllMocks());

  const call = async (type: Parameters<typeof createReceiveHandler>[0], event: ReturnType<typeof proxyEvent>) => {
    const result = await createReceiveHandler(type, deps)(event);
    return { status: result.statusCode, ack: JSON.parse(result.body) as Ack, headers: result.headers };
  };

  it('acks a valid message with the MessageId exactly as sent', async () => {
    const body = freshMessage('SEMDStatus');
    body.MessageId = String(body.MessageId).toUpperCase();
    const { status, ack, headers } = await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', body: JSON.stringify(body) }));
    expect(status).toBe(200);
    expect(ack).toEqual({ MessageId: body.MessageId, Message: ACK_TEXT.accepted, Status: 'Success' });
    expect(headers?.['Content-Type']).toBe('application/json; charset=utf-8');
    expect(queue.sent).toHaveLength(1);
  });

  it('counts only the outcomes that need someone, site-wide with no dimension of its own (a series per type cost six): accepted requests are their log lines', async () => {
    for (const type of ['SEMDStatus', 'REMDStatus', 'SEMDStatus'] as const) {
      await call(type, proxyEvent({ path: `/${type}`, body: JSON.stringify(freshMessage(type)) }));
    }
    await call(undefined, proxyEvent({ path: '/Nope', body: '{}' }));
    const [directive] = deps.metrics.serializeMetrics()._aws.CloudWatchMetrics;
    expect(directive!.Dimensions).toEqual([['service']]);
    expect(directive!.Metrics.map((m) => m.Name)).toEqual([METRIC.rejected]);
    expect(logLines.join('')).not.toContain('has already been added');
  });

  it('logs one line per request with its outcome and type, and one per rejection with its type, status, code, reason and whether it was kept; never the payload', async () => {
    const secret = 'ТЕКСТ-ПАЦИЕНТА-42';
    const body = freshMessage('SEMDStatus', { Message: secret, Status: 'Failed' });
    await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', body: JSON.stringify(body) }));
    await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', body: JSON.stringify(body) }));
    await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', body: JSON.stringify({ ...body, Message: `${secret}-2` }) })); // 409
    await call('MseResult', proxyEvent({ path: '/MseResult', body: JSON.stringify({ MessageId: secret }) }));
    await call(undefined, proxyEvent({ path: '/Nope', body: '{}' }));
    rejectedStore.failNext = new Error('bucket down');
    await call('VimisResult', proxyEvent({ path: '/VimisResult', body: 'not json' }));

    const lines = logLines
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const pick = (line: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, line[k]]));
    expect(lines.filter((l) => 'outcome' in l).map((l) => pick(l, ['messageType', 'outcome', 'payloadStatus']))).toEqual([
      { messageType: 'SEMDStatus', outcome: 'accepted', payloadStatus: 'Failed' },
      { messageType: 'SEMDStatus', outcome: 'duplicate', payloadStatus: 'Failed' },
      { messageType: 'SEMDStatus', outcome: 'conflict', payloadStatus: 'Failed' },
      { messageType: 'MseResult', outcome: 'rejected', payloadStatus: undefined },
      { messageType: 'Unknown', outcome: 'rejected', payloadStatus: undefined },
      { messageType: 'VimisResult', outcome: 'rejected', payloadStatus: undefined },
    ]);
    const rejections = lines.filter((l) => 'kept' in l);
    expect(rejections.map((l) => pick(l, ['messageType', 'httpStatus', 'code', 'kept']))).toEqual([
      { messageType: 'SEMDStatus', httpStatus: 409, code: 'conflict', kept: true },
      { messageType: 'MseResult', httpStatus: 400, code: 'invalid_fields', kept: true },
      { messageType: 'Unknown', httpStatus: 404, code: 'unknown_type', kept: true },
      { messageType: 'VimisResult', httpStatus: 400, code: 'invalid_body', kept: false },
    ]);
    for (const line of rejections) expect(typeof line.reason, JSON.stringify(line)).toBe('string');
    expect(logLines.join('')).not.toContain(secret);
  });

  it('accepts a body the gateway passed as text', async () => {
    const { status } = await call(
      'MseResult',
      proxyEvent({ path: '/MseResult', body: JSON.stringify(freshMessage('MseResult')), base64: false }),
    );
    expect(status).toBe(200);
  });

  it('answers 400 naming the field, echoing the MessageId, and forwards nothing', async () => {
    const body = freshMessage('REMDStatus');
    delete body.IdFedRequest;
    const { status, ack } = await call('REMDStatus', proxyEvent({ path: '/REMDStatus', body: JSON.stringify(body) }));
    expect(status).toBe(400);
    expect(ack).toEqual({
      MessageId: body.MessageId,
      Message: 'Сообщение отклонено: IdFedRequest — обязательное поле отсутствует',
      Status: 'Failed',
    });
    expect(queue.sent).toHaveLength(0);
    expect(store.calls.put).toBe(0);
  });

  it('echoes the MessageId even from a body that is not JSON', async () => {
    const { status, ack } = await call(
      'REMDStatus',
      proxyEvent({ path: '/REMDStatus', body: '{"MessageId":"b097fea5-e6f6-4417-9829-53ab6a562719", oops' }),
    );
    expect(status).toBe(400);
    expect(ack.MessageId).toBe('b097fea5-e6f6-4417-9829-53ab6a562719');
  });

  it('answers 405 to anything but POST', async () => {
    const { status, ack } = await call('REMDStatus', proxyEvent({ path: '/REMDStatus', method: 'GET', body: null }));
    expect(status).toBe(405);
    expect(ack).toMatchObject({ MessageId: '', Status: 'Failed' });
  });

  it('answers 413 to a body over the limit', async () => {
    const { status, ack } = await call(
      'CDAStatus',
      proxyEvent({ path: '/CDAStatus', body: JSON.stringify(freshMessage('CDAStatus', { CDA: 'A'.repeat(70 * 1024) })) }),
    );
    expect(status).toBe(413);
    expect(ack.Status).toBe('Failed');
  });

  it('answers 409 to the same MessageId with other content', async () => {
    const body = freshMessage('MseResult');
    await call('MseResult', proxyEvent({ path: '/MseResult', body: JSON.stringify(body) }));
    const { status, ack } = await call(
      'MseResult',
      proxyEvent({ path: '/MseResult', body: JSON.stringify({ ...body, Message: 'другое' }) }),
    );
    expect(status).toBe(409);
    expect(ack).toEqual({ MessageId: body.MessageId, Message: ACK_TEXT.conflict, Status: 'Failed' });
  });

  it("takes the simulator's mark from X-N3-Simulation, and answers a copy marked otherwise 409, keeping it", async () => {
    const body = JSON.stringify(freshMessage('MseResult'));
    const marked = await call('MseResult', proxyEvent({ path: '/MseResult', body, headers: { 'x-n3-simulation': 'run-1' } }));
    expect(marked.status).toBe(200);
    expect(JSON.parse(queue.sent[0]!.body)).toMatchObject({ simulation: { runId: 'run-1' } });
    const real = await call('MseResult', proxyEvent({ path: '/MseResult', body }));
    expect(real.status).toBe(409);
    expect(rejectedStore.kept.at(-1)).toMatchObject({ code: 'conflict', reason: expect.stringContaining('X-N3-Simulation') });
  });

  it('refuses a malformed X-N3-Simulation with 400 naming it, and forwards nothing', async () => {
    const body = freshMessage('MseResult');
    const { status, ack } = await call(
      'MseResult',
      proxyEvent({ path: '/MseResult', body: JSON.stringify(body), headers: { 'X-N3-Simulation': 'a b\u0007' } }),
    );
    expect(status).toBe(400);
    expect(ack.Message).toContain(`X-N3-Simulation — ${REASONS.simulationRunId}`);
    expect(queue.sent).toHaveLength(0);
  });

  it('answers 503 when the store is down, so that the sender retries', async () => {
    store.failNextPut = new StoreUnavailableError('down', { cause: new Error('ECONNREFUSED') });
    const body = freshMessage('MseResult');
    const { status, ack } = await call('MseResult', proxyEvent({ path: '/MseResult', body: JSON.stringify(body) }));
    expect(status).toBe(503);
    expect(ack).toEqual({ MessageId: body.MessageId, Message: ACK_TEXT.unavailable, Status: 'Failed' });
  });

  it('answers 500 with a generic text to a bug, and logs it', async () => {
    store.putIfAbsent = () => Promise.reject(new TypeError('boom at line 3'));
    const { status, ack } = await call('MseResult', proxyEvent({ path: '/MseResult', body: JSON.stringify(freshMessage('MseResult')) }));
    expect(status).toBe(500);
    expect(ack.Message).toBe(ACK_TEXT.internal);
    expect(logLines.join('')).toContain('boom at line 3');
  });

  it('acks Success when the message is stored but the queue is down', async () => {
    queue.failNextSend = new QueueUnavailableError('down');
    const body = freshMessage('VimisResult');
    const { status, ack } = await call('VimisResult', proxyEvent({ path: '/VimisResult', body: JSON.stringify(body) }));
    expect([status, ack.Status]).toEqual([200, 'Success']);
    expect(await store.countPending()).toBe(1);
    expect(logLines.join('')).toContain('"outcome":"deferred"');
  });

  it('answers 422 Failed to a message the queue refuses for good, keeps it, counts it once, and answers a re-send the same', async () => {
    const addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
    queue.failNextSend = new QueueRefusedError('InvalidMessageContents');
    const body = freshMessage('SEMDStatus');
    const event = () => proxyEvent({ path: '/SEMDStatus', body: JSON.stringify(body) });
    const first = await call('SEMDStatus', event());
    expect(first).toMatchObject({ status: 422, ack: { MessageId: body.MessageId, Message: ACK_TEXT.undeliverable, Status: 'Failed' } });
    expect((await call('SEMDStatus', event())).ack).toEqual(first.ack);
    expect(rejectedStore.kept.map((k) => [k.httpStatus, k.code, k.reason])).toEqual([
      [422, 'undeliverable', 'stored; the MIS queue refused it (InvalidMessageContents)'],
      [422, 'undeliverable', 'stored; the MIS queue refused it (InvalidMessageContents)'],
    ]);
    const counted = (name: string) => addMetric.mock.calls.filter(([metric]) => metric === name).length;
    expect([counted(METRIC.undeliverable), counted(METRIC.rejected), counted('accepted')]).toEqual([1, 2, 0]);
    expect(queue.sent).toHaveLength(0);
    expect(logLines.join('')).toContain('"refusal":"InvalidMessageContents"');
  });

  it('answers 409 naming the type to a MessageId accepted under another type, and keeps it', async () => {
    const body = freshMessage('SEMDStatus');
    await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', body: JSON.stringify(body) }));
    const other = await call('CDAStatus', proxyEvent({ path: '/CDAStatus', body: JSON.stringify(body) }));
    expect(other).toMatchObject({ status: 409, ack: { Message: ACK_TEXT.conflictType, Status: 'Failed' } });
    expect(rejectedStore.kept.map((k) => [k.httpStatus, k.code, k.messageType])).toEqual([[409, 'conflict', 'CDAStatus']]);
  });

  it('answers 413 once, and keeps it, to a message whose record cannot be stored', async () => {
    const body = freshMessage('REMDStatus', { IdSourceMis: 'd'.repeat(40 * 1024) });
    store.maxRecordBytes = 32 * 1024;
    const { status, ack } = await call('REMDStatus', proxyEvent({ path: '/REMDStatus', body: JSON.stringify(body) }));
    expect([status, ack.Status]).toEqual([413, 'Failed']);
    expect(ack.Message).toContain('поле IdSourceMis');
    expect(rejectedStore.kept.map((k) => [k.httpStatus, k.code])).toEqual([[413, 'record_too_large']]);
    expect(store.records.size).toBe(0);
  });

  it('answers 413 naming the limit to a body with too many extra keys, keeps it, and stores nothing (issue 24, finding 3)', async () => {
    const extra = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`Field${i}`, i]));
    const body = freshMessage('REMDStatus', extra);
    const { status, ack } = await call('REMDStatus', proxyEvent({ path: '/REMDStatus', body: JSON.stringify(body) }));
    expect([status, ack]).toEqual([
      413,
      {
        MessageId: body.MessageId,
        Message: 'Сообщение слишком велико для разбора: 300 полей вне таблицы типа в одном объекте JSON, максимум 200',
        Status: 'Failed',
      },
    ]);
    expect(rejectedStore.kept.map((k) => [k.httpStatus, k.code, k.reason])).toEqual([
      [413, 'too_complex', '300 extra keys in one object exceed 200'],
    ]);
    expect([store.records.size, queue.sent.length]).toEqual([0, 0]);
  });

  it('counts the fields of the catch-all route by the type it resolved, and the spec table spellings as fields', async () => {
    const body = freshMessage('VimisResult', Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`F${i}`, i])));
    body.IdSourse = body.IdSource;
    delete body.IdSource;
    const { status } = await call(undefined, proxyEvent({ path: '/VimisResult', body: JSON.stringify(body) }));
    expect(status).toBe(200);
  });

  it('refuses a lone surrogate in Message, naming the field, keeps it, and queues nothing (issue 24, finding 9)', async () => {
    // As the sender's JSON writes it: an escape, valid JSON, not Unicode text.
    const raw = JSON.stringify(freshMessage('SEMDStatus')).replace(/"Message":"[^"]*"/, '"Message":"\\ud800 ok"');
    const { status, ack } = await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', body: raw }));
    expect([status, ack.Status, ack.Message]).toEqual([400, 'Failed', `Сообщение отклонено: Message — ${REASONS.loneSurrogate}`]);
    expect(rejectedStore.kept.map((k) => [k.httpStatus, k.code])).toEqual([[400, 'invalid_fields']]);
    expect([store.records.size, queue.sent.length]).toEqual([0, 0]);
  });

  it('refuses an Lpu that could not travel as a queue attribute, naming it', async () => {
    const { status, ack } = await call(
      'MseResult',
      proxyEvent({ path: '/MseResult', body: JSON.stringify(freshMessage('MseResult', { Lpu: 'mo\u0007' })) }),
    );
    expect(status).toBe(400);
    expect(ack.Message).toBe(`Сообщение отклонено: Lpu — ${REASONS.attributeChars}`);
  });

  it('refuses a message from an MO the site does not serve, naming Lpu', async () => {
    deps = { ...deps, lpuAllowlist: new Set(['20dfadd0-c709-43b0-a130-5a16301b0217']) };
    const served = await call(
      'MseResult',
      proxyEvent({ path: '/MseResult', body: JSON.stringify(freshMessage('MseResult', { Lpu: '20DFADD0-C709-43B0-A130-5A16301B0217' })) }),
    );
    expect(served.status).toBe(200);
    const other = await call(
      'MseResult',
      proxyEvent({ path: '/MseResult', body: JSON.stringify(freshMessage('MseResult', { Lpu: 'bb155d55-a036-404c-aa25-f7e55bab3d57' })) }),
    );
    expect(other.status).toBe(400);
    expect(other.ack.Message).toBe('Сообщение отклонено: Lpu — МО с таким идентификатором не обслуживается этой площадкой');
    expect(queue.sent).toHaveLength(1);
  });

  describe('rejected requests', () => {
    it('keeps every rejected request with its body, reason and ack status', async () => {
      const body = JSON.stringify({ ...freshMessage('SEMDStatus'), IdMedDocument: 'x' });
      await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', body }));
      await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', body: 'not json' }));
      await call(undefined, proxyEvent({ path: '/Nope', body }));
      await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', method: 'PUT', body }));
      await call('SEMDStatus', proxyEvent({ path: '/SEMDStatus', body: 'x'.repeat(70 * 1024) }));

      expect(rejectedStore.kept.map((k) => [k.httpStatus, k.code])).toEqual([
        [400, 'invalid_fields'],
        [400, 'invalid_body'],
        [404, 'unknown_type'],
        [405, 'method_not_allowed'],
        [413, 'too_large'],
      ]);
      const [first] = rejectedStore.kept;
      expect(Buffer.from(first!.bodyBase64, 'base64').toString()).toBe(body);
      expect(first!.reason).toContain('IdMedDocument');
      expect(first!.messageType).toBe('SEMDStatus');
      expect(rejectedStore.kept[2]!.messageType).toBe('Nope');
      expect(rejectedStore.kept[4]).toMatchObject({ bodyBytes: 70 * 1024, bodyTruncated: true });
      expect(Buffer.from(rejectedStore.kept[4]!.bodyBase64, 'base64')).toHaveLength(64 * 1024);
    });

    it('keeps the conflicting message of a 409, and nothing of accepted ones', async () => {
      const body = freshMessage('MseResult');
      await call('MseResult', proxyEvent({ path: '/MseResult', body: JSON.stringify(body) }));
      await call('MseResult', proxyEvent({ path: '/MseResult', body: JSON.stringify(body) }));
      expect(rejectedStore.kept).toHaveLength(0);
      await call('MseResult', proxyEvent({ path: '/MseResult', body: JSON.stringify({ ...body, Message: 'иное' }) }));
      expect(rejectedStore.kept.map((k) => [k.httpStatus, k.messageId])).toEqual([[409, body.MessageId]]);
    });

    it('keeps headers but never credentials', async () => {
      await call(
        'MseResult',
        proxyEvent({
          path: '/MseResult',
          body: '{}',
          headers: { Authorization: 'Bearer x', 'X-Api-Key': 'k', Cookie: 'c', 'X-Amz-Security-Token': 't', 'User-Agent': 'N3/1.0' },
        }),
      );
      expect(Object.keys(rejectedStore.kept[0]!.headers).sort()).toEqual(['Content-Type', 'User-Agent']);
    });

    it('still answers the 4xx when the rejected store cannot keep the request, and says so in the log', async () => {
      rejectedStore.failNext = new Error('bucket down');
      const { status } = await call('MseResult', proxyEvent({ path: '/MseResult', body: '[]' }));
      expect(status).toBe(400);
      expect(logLines.join('')).toContain('rejected request not kept');
    });

    it('keeps nothing of a 5xx: the sender retries it', async () => {
      store.failNextPut = new StoreUnavailableError('down');
      await call('MseResult', proxyEvent({ path: '/MseResult', body: JSON.stringify(freshMessage('MseResult')) }));
      expect(rejectedStore.kept).toHaveLength(0);
    });
  });

  describe('fallback (no bound type)', () => {
    it('answers 404 to an unknown type, echoing the MessageId', async () => {
      const body = freshMessage('MseResult');
      const { status, ack } = await call(undefined, proxyEvent({ path: '/MseResults', body: JSON.stringify(body) }));
      expect(status).toBe(404);
      expect(ack).toMatchObject({ MessageId: body.MessageId, Status: 'Failed' });
      expect(ack.Message).toContain('MseResults');
    });

    it('resolves a type written in another letter case', async () => {
      const { status } = await call(undefined, proxyEvent({ path: '/mseresult', body: JSON.stringify(freshMessage('MseResult')) }));
      expect(status).toBe(200);
    });

    it('does not let a type hide behind a longer path', async () => {
      const { status } = await call(undefined, proxyEvent({ path: '/../MseResult', body: JSON.stringify(freshMessage('MseResult')) }));
      expect(status).toBe(404);
    });
  });

  it('logs ids, type, sizes and outcome but no payload text', async () => {
    const body = freshMessage('CDAStatus', { Message: 'Пациент Иванов: секретный текст', IdMedDocumentMis: 'doc-SECRET-42' });
    await call('CDAStatus', proxyEvent({ path: '/CDAStatus', body: JSON.stringify(body) }));
    await call('CDAStatus', proxyEvent({ path: '/CDAStatus', body: JSON.stringify({ ...body, IdMedDocument: 'x' }) }));
    const logs = logLines.join('');
    expect(logs).toContain(String(body.MessageId));
    expect(logs).toContain('"outcome":"accepted"');
    expect(logs).toContain('"IdMedDocument"');
    for (const secret of ['Иванов', 'doc-SECRET-42', String(body.CDA).slice(0, 20)]) expect(logs).not.toContain(secret);
  });
});
