import { MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  PayloadStoreUnavailableError,
  QueueRefusedError,
  QueueUnavailableError,
  RecordTooLargeError,
  StoreUnavailableError,
} from '../../contract/errors';
import type { Envelope } from '../../contract/envelope';
import { canonicalJson, groupIdFor, toQueueMessage } from '../../lambdas/ingest/envelope';
import { FACT_EXTRAS_MAX_BYTES, factsOf, ingest, type IngestSettings } from '../../lambdas/ingest/ingest';
import type { IngestPorts } from '../../lambdas/ingest/ports';
import { parseMessage, type MessageType, type ParsedMessage } from '../../contract/catalog';
import { InMemoryPayloads, InMemoryQueue, InMemoryStore, fixedClock } from '../../testing/fakes';
import { freshMessage } from '../../testing/messages';

const settings: IngestSettings = { site: 'mo-123', retentionDays: 30, maxInlinePayloadBytes: 200 * 1024 };

const parsed = (type: MessageType, body: Record<string, unknown>): ParsedMessage => {
  const result = parseMessage(type, body);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.message;
};

describe('ingest', () => {
  let store: InMemoryStore;
  let queue: InMemoryQueue;
  let payloads: InMemoryPayloads;
  let ports: IngestPorts;

  beforeEach(() => {
    store = new InMemoryStore();
    queue = new InMemoryQueue();
    payloads = new InMemoryPayloads();
    ports = { store, queue, payloads, clock: fixedClock('2026-11-25T10:00:00.000Z') };
  });

  it('stores, forwards and marks a new message', async () => {
    const message = parsed('REMDStatus', freshMessage('REMDStatus'));
    const outcome = await ingest(message, ports, settings);

    expect(outcome).toMatchObject({ kind: 'accepted', forwarding: { forwarded: true, marked: true } });
    expect(queue.sent).toHaveLength(1);
    expect(store.records.get(message.messageId)).toMatchObject({
      state: 'FORWARDED',
      messageType: 'REMDStatus',
      site: 'mo-123',
      lpu: message.lpu,
      status: 'Success',
      documentKey: message.documentKey,
      receivedAt: '2026-11-25T10:00:00.000Z',
      forwardedAt: '2026-11-25T10:00:00.000Z',
      expiresAt: Date.parse('2026-11-25T10:00:00.000Z') / 1000 + 30 * 86_400,
    });
  });

  it('sends the versioned envelope with group, deduplication id and attributes', async () => {
    const message = parsed('VimisResult', freshMessage('VimisResult', { Status: 'Failed' }));
    await ingest(message, ports, settings);

    const [sent] = queue.sent;
    expect(sent!.groupId).toBe('2354219');
    expect(sent!.deduplicationId).toBe(message.messageId);
    expect(sent!.attributes).toEqual({ MessageType: 'VimisResult', Lpu: message.lpu, Status: 'Failed' });
    const envelope = JSON.parse(sent!.body) as Envelope;
    expect(envelope).toEqual({
      version: 1,
      site: 'mo-123',
      messageType: 'VimisResult',
      messageId: message.messageId,
      receivedAt: '2026-11-25T10:00:00.000Z',
      payload: message.payload,
    });
  });

  it('returns duplicate when the MessageId exists and is forwarded, and sends nothing', async () => {
    const body = freshMessage('SEMDStatus');
    await ingest(parsed('SEMDStatus', body), ports, settings);
    const outcome = await ingest(parsed('SEMDStatus', body), ports, settings);

    expect(outcome).toMatchObject({ kind: 'duplicate', forwarding: undefined });
    expect(queue.sent).toHaveLength(1);
    expect(store.calls).toEqual({ put: 2, mark: 1, find: 0 });
  });

  it('treats the same message with keys in another order and the id in upper case as a duplicate', async () => {
    const body = freshMessage('SEMDStatus');
    await ingest(parsed('SEMDStatus', body), ports, settings);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    reordered.MessageId = String(body.MessageId).toUpperCase();
    expect((await ingest(parsed('SEMDStatus', reordered), ports, settings)).kind).toBe('duplicate');
  });

  it('acks a stored message as deferred when the queue is down, and keeps it pending', async () => {
    const message = parsed('MseResult', freshMessage('MseResult'));
    queue.failNextSend = new QueueUnavailableError('down');
    const outcome = await ingest(message, ports, settings);
    expect(outcome).toMatchObject({ kind: 'accepted', forwarding: { forwarded: false, marked: false } });
    expect(store.records.get(message.messageId)?.state).toBe('RECEIVED');
    expect(queue.sent).toHaveLength(0);
  });

  it('lets a bug in sending through instead of calling it deferred', async () => {
    queue.failNextSend = new TypeError('bug');
    await expect(ingest(parsed('MseResult', freshMessage('MseResult')), ports, settings)).rejects.toThrow(TypeError);
  });

  it('forwards again when a re-send finds the message still pending', async () => {
    const body = freshMessage('MseResult');
    queue.failNextSend = new QueueUnavailableError('down');
    await ingest(parsed('MseResult', body), ports, settings);

    const retry = await ingest(parsed('MseResult', body), ports, settings);
    expect(retry).toMatchObject({ kind: 'duplicate', forwarding: { forwarded: true, marked: true } });
    expect(queue.delivered).toHaveLength(1);
    expect(store.records.get(String(body.MessageId))?.state).toBe('FORWARDED');
  });

  it('forwards what was stored first, not the retry, when re-forwarding', async () => {
    const body = freshMessage('MseResult');
    queue.failNextSend = new QueueUnavailableError('down');
    await ingest(parsed('MseResult', body), ports, settings);
    ports = { ...ports, clock: fixedClock('2026-11-25T10:05:00.000Z') };
    await ingest(parsed('MseResult', body), ports, settings);
    expect((JSON.parse(queue.sent[0]!.body) as Envelope).receivedAt).toBe('2026-11-25T10:00:00.000Z');
  });

  it('returns conflict for the same MessageId with other content, and changes nothing', async () => {
    const body = freshMessage('REMDStatus');
    await ingest(parsed('REMDStatus', body), ports, settings);
    const before = store.records.get(String(body.MessageId));

    const outcome = await ingest(parsed('REMDStatus', { ...body, Status: 'Failed' }), ports, settings);
    expect(outcome.kind).toBe('conflict');
    expect(queue.sent).toHaveLength(1);
    expect(store.records.get(String(body.MessageId))).toEqual(before);
  });

  it('lets a store failure through and forwards nothing', async () => {
    store.failNextPut = new StoreUnavailableError('down');
    await expect(ingest(parsed('CDAStatus', freshMessage('CDAStatus')), ports, settings)).rejects.toThrow(StoreUnavailableError);
    expect(queue.sent).toHaveLength(0);
  });

  it('still accepts when marking fails after the message is on the queue', async () => {
    store.failNextMark = new StoreUnavailableError('down');
    const message = parsed('CDAStatus', freshMessage('CDAStatus'));
    const outcome = await ingest(message, ports, settings);
    expect(outcome).toMatchObject({ kind: 'accepted', forwarding: { forwarded: true, marked: false } });
    expect(queue.sent).toHaveLength(1);
    expect(store.records.get(message.messageId)?.state).toBe('RECEIVED');
  });

  it('marks a message the queue refuses for good UNDELIVERABLE, out of the pending set, and says so', async () => {
    const message = parsed('SEMDStatus', freshMessage('SEMDStatus'));
    queue.failNextSend = new QueueRefusedError('InvalidMessageContents');
    const outcome = await ingest(message, ports, settings);
    expect(outcome).toMatchObject({
      kind: 'undeliverable',
      record: { state: 'UNDELIVERABLE' },
      forwarding: { forwarded: false, marked: true, refusal: 'InvalidMessageContents' },
    });
    expect(store.records.get(message.messageId)).toMatchObject({
      state: 'UNDELIVERABLE',
      refusal: 'InvalidMessageContents',
      undeliverableAt: '2026-11-25T10:00:00.000Z',
    });
    expect(await store.countPending()).toBe(0);
  });

  it('answers a re-send of an undeliverable message the same, without sending it again', async () => {
    const body = freshMessage('SEMDStatus');
    queue.failNextSend = new QueueRefusedError('InvalidMessageContents');
    await ingest(parsed('SEMDStatus', body), ports, settings);
    const again = await ingest(parsed('SEMDStatus', body), ports, settings);
    expect(again).toMatchObject({ kind: 'undeliverable', forwarding: undefined, record: { refusal: 'InvalidMessageContents' } });
    expect(queue.attempts).toBe(1);
  });

  it('still answers undeliverable when the mark fails: the record stays pending, and the next send marks it', async () => {
    const message = parsed('SEMDStatus', freshMessage('SEMDStatus'));
    queue.failNextSend = new QueueRefusedError('InvalidMessageContents');
    store.failNextMark = new StoreUnavailableError('down');
    const outcome = await ingest(message, ports, settings);
    expect(outcome).toMatchObject({ kind: 'undeliverable', forwarding: { marked: false, refusal: 'InvalidMessageContents' } });
    expect(store.records.get(message.messageId)?.state).toBe('RECEIVED');
  });

  it.each([
    ['inline', {}],
    ['claim check', { CDA: 'QUJD'.repeat(80 * 1024) }],
  ])('returns conflict (type) for the same MessageId and content under another type (%s), and sends nothing more', async (_name, extra) => {
    const body = freshMessage('SEMDStatus', extra);
    await ingest(parsed('SEMDStatus', body), ports, settings);
    const before = store.records.get(String(body.MessageId));
    const outcome = await ingest(parsed('CDAStatus', body), ports, settings);
    expect(outcome).toMatchObject({ kind: 'conflict', on: 'type' });
    expect(store.records.get(String(body.MessageId))).toEqual(before);
    expect(queue.sent).toHaveLength(1);
    expect(payloads.objects.size).toBe(Object.keys(extra).length);
  });

  it('calls other content under the same type a conflict of content', async () => {
    const body = freshMessage('SEMDStatus');
    await ingest(parsed('SEMDStatus', body), ports, settings);
    expect(await ingest(parsed('SEMDStatus', { ...body, Message: 'иное' }), ports, settings)).toMatchObject({
      kind: 'conflict',
      on: 'content',
    });
  });

  describe("the simulator's mark (issue 24, finding 7)", () => {
    const run = { runId: 'sim-20261125T100000-0a1b2c3d' };

    it('keeps the mark with the message and puts it in the envelope; an unmarked message has none', async () => {
      await ingest(parsed('SEMDStatus', freshMessage('SEMDStatus')), ports, settings, { simulation: run });
      await ingest(parsed('SEMDStatus', freshMessage('SEMDStatus')), ports, settings);
      const [marked, real] = queue.sent.map((m) => JSON.parse(m.body) as Envelope);
      expect(marked!.simulation).toEqual(run);
      expect(real).not.toHaveProperty('simulation');
      expect([...store.records.values()].map((r) => r.simulation)).toEqual([run, undefined]);
    });

    it('forwards the mark again from the stored record (the Sweep and the reconciler send the record)', async () => {
      queue.failNextSend = new QueueUnavailableError('down');
      const message = parsed('MseResult', freshMessage('MseResult'));
      await ingest(message, ports, settings, { simulation: run });
      await ingest(message, ports, settings, { simulation: run });
      expect((JSON.parse(queue.sent.at(-1)!.body) as Envelope).simulation).toEqual(run);
    });

    it.each([
      ['marked first, then the same message unmarked (a real one cannot hide behind a marked copy)', run, undefined],
      ['unmarked first, then marked', undefined, run],
      ['marked by one run, then by another', run, { runId: 'another-run' }],
    ])('calls the same MessageId and content %s a conflict, never a duplicate', async (_case, first, second) => {
      const body = freshMessage('REMDStatus');
      await ingest(parsed('REMDStatus', body), ports, settings, first ? { simulation: first } : {});
      const outcome = await ingest(parsed('REMDStatus', body), ports, settings, second ? { simulation: second } : {});
      expect(outcome).toMatchObject({ kind: 'conflict', on: 'simulation' });
      expect(queue.sent).toHaveLength(1);
    });

    it('calls a re-send with the same mark a duplicate', async () => {
      const body = freshMessage('REMDStatus');
      await ingest(parsed('REMDStatus', body), ports, settings, { simulation: run });
      expect(await ingest(parsed('REMDStatus', body), ports, settings, { simulation: run })).toMatchObject({ kind: 'duplicate' });
    });
  });

  describe('bounded records', () => {
    it('refuses a record that cannot fit before writing anything, naming the largest field of the table', async () => {
      const message = parsed('REMDStatus', freshMessage('REMDStatus', { IdSourceMis: 'd'.repeat(450_000), Junk: 'j'.repeat(500_000) }));
      const error = await ingest(message, ports, { ...settings, maxInlinePayloadBytes: 4096 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RecordTooLargeError);
      expect(error).toMatchObject({ field: 'IdSourceMis', limit: store.maxRecordBytes });
      expect(payloads.puts).toBe(0);
      expect(store.calls.put).toBe(0);
    });

    it('removes the upload when the store refuses the record for its size after all', async () => {
      store.failNextPut = new RecordTooLargeError(500_000, 400_000, undefined);
      const message = parsed('CDAStatus', freshMessage('CDAStatus', { CDA: 'QUJD'.repeat(80 * 1024) }));
      await expect(ingest(message, ports, settings)).rejects.toThrow(RecordTooLargeError);
      expect(payloads.puts).toBe(1);
      expect(payloads.objects.size).toBe(0);
    });

    it('keeps the upload after a store outage: the sender’s retry writes the same key, and a concurrent delivery may point at it', async () => {
      const body = freshMessage('CDAStatus', { CDA: 'QUJD'.repeat(80 * 1024) });
      store.failNextPut = new StoreUnavailableError('down');
      await expect(ingest(parsed('CDAStatus', body), ports, settings)).rejects.toThrow(StoreUnavailableError);
      expect(await ingest(parsed('CDAStatus', body), ports, settings)).toMatchObject({ kind: 'accepted' });
      expect([...payloads.objects.keys()]).toEqual([store.records.get(String(body.MessageId))!.payloadRef!.key]);
    });

    it('keeps the table’s fields in the facts, long bodies left out, and extras only within their budget', () => {
      const extras = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`Extra${String(i).padStart(3, '0')}`, 'x'.repeat(40)]));
      const message = parsed('CDAStatus', freshMessage('CDAStatus', { CDA: 'QUJD'.repeat(1024), ...extras }));
      const facts = JSON.parse(factsOf('CDAStatus', message.payload)) as Record<string, unknown>;
      const { CDA: _, ...table } = message.payload;
      expect(facts).toMatchObject(Object.fromEntries(Object.entries(table).filter(([k]) => !k.startsWith('Extra'))));
      expect(facts.CDA).toBeUndefined();
      const kept = Object.keys(facts).filter((k) => k.startsWith('Extra'));
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(500);
      // In key order, so the same payload always keeps the same extras.
      expect(kept).toEqual(Object.keys(extras).slice(0, kept.length));
      expect(Buffer.byteLength(canonicalJson(Object.fromEntries(kept.map((k) => [k, facts[k]]))))).toBeLessThanOrEqual(
        FACT_EXTRAS_MAX_BYTES + 2,
      );
    });

    it('keeps an extra field named __proto__ as a field', () => {
      const payload = JSON.parse('{"__proto__": {"polluted": 1}, "Lpu": "x"}') as Record<string, unknown>;
      expect(JSON.parse(factsOf('SEMDStatus', payload))).toEqual(payload);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('claim check', () => {
    const large = () => freshMessage('CDAStatus', { CDA: 'QUJD'.repeat(80 * 1024) });

    it('puts a payload over the inline limit in the bucket and forwards a reference to it', async () => {
      const message = parsed('CDAStatus', large());
      const outcome = await ingest(message, ports, settings);
      expect(outcome.kind).toBe('accepted');

      const record = store.records.get(message.messageId)!;
      expect(record.payload).toBeUndefined();
      const key = `mo-123/CDAStatus/2026/11/25/${message.messageId}.${record.payloadHash}.json`;
      expect(record.payloadRef).toEqual({ bucket: 'memory', key, size: record.payloadBytes, sha256: record.payloadHash });
      expect(JSON.parse(payloads.objects.get(key)!)).toEqual(message.payload);

      const envelope = JSON.parse(queue.sent[0]!.body) as Envelope;
      expect(envelope.payloadRef).toEqual(record.payloadRef);
      expect(envelope.payload).toBeUndefined();
      expect(Buffer.byteLength(queue.sent[0]!.body)).toBeLessThan(1024);
    });

    it('keeps a payload of exactly the limit inline', async () => {
      const body = freshMessage('SEMDStatus');
      const size = Buffer.byteLength(canonicalJson(parsed('SEMDStatus', body).payload));
      await ingest(parsed('SEMDStatus', body), ports, { ...settings, maxInlinePayloadBytes: size });
      expect(payloads.puts).toBe(0);
    });

    it('answers a payload store failure with an error and stores nothing', async () => {
      payloads.failNextPut = new PayloadStoreUnavailableError('down');
      await expect(ingest(parsed('CDAStatus', large()), ports, settings)).rejects.toThrow(PayloadStoreUnavailableError);
      expect(store.calls.put).toBe(0);
      expect(queue.sent).toHaveLength(0);
    });

    it('keeps one object for duplicates and discards the object of a conflicting message', async () => {
      const body = large();
      await ingest(parsed('CDAStatus', body), ports, settings);
      await ingest(parsed('CDAStatus', body), ports, settings);
      expect(payloads.objects.size).toBe(1);

      const outcome = await ingest(parsed('CDAStatus', { ...body, CDA: 'QkNE'.repeat(80 * 1024) }), ports, settings);
      expect(outcome.kind).toBe('conflict');
      expect(payloads.objects.size).toBe(1);
      expect([...payloads.objects.keys()][0]).toBe(store.records.get(String(body.MessageId))!.payloadRef!.key);
    });

    it('never uploads a re-sent or conflicting large payload again: one strong read finds the record first', async () => {
      const body = large();
      await ingest(parsed('CDAStatus', body), ports, settings);
      expect(payloads.puts).toBe(1);
      expect((await ingest(parsed('CDAStatus', body), ports, settings)).kind).toBe('duplicate');
      expect((await ingest(parsed('CDAStatus', { ...body, CDA: 'QkNE'.repeat(80 * 1024) }), ports, settings)).kind).toBe('conflict');
      expect(payloads.puts).toBe(1);
      expect(store.calls).toMatchObject({ put: 1, find: 3 });
    });

    it('keeps a payload inline up to the limit, and only then uses the bucket', async () => {
      const limit = { ...settings, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES };
      await ingest(parsed('REMDStatus', freshMessage('REMDStatus')), ports, limit);
      await ingest(parsed('CDAStatus', freshMessage('CDAStatus', { CDA: 'QUJD'.repeat(1024) })), ports, limit);
      expect(payloads.puts).toBe(1);
      expect(store.calls.find).toBe(1);
    });

    it('discards the new object of a re-send on another day and forwards nothing more', async () => {
      const body = large();
      await ingest(parsed('CDAStatus', body), ports, settings);
      ports = { ...ports, clock: fixedClock('2026-11-26T09:00:00.000Z') };
      expect((await ingest(parsed('CDAStatus', body), ports, settings)).kind).toBe('duplicate');
      expect([...payloads.objects.keys()]).toEqual([store.records.get(String(body.MessageId))!.payloadRef!.key]);
      expect(payloads.puts).toBe(1);
      expect(queue.sent).toHaveLength(1);
    });
  });
});

describe('envelope', () => {
  it('escapes U+FFFE and U+FFFF, which SQS refuses, and astral characters, which some SQS-compatible queues refuse, to the same JSON data', () => {
    const message = parsed('SEMDStatus', freshMessage('SEMDStatus', { Message: 'a\uFFFFb\uFFFE 🩺', 'x\uFFFF': 1 }));
    const { body } = toQueueMessage({
      messageId: message.messageId,
      state: 'RECEIVED',
      messageType: 'SEMDStatus',
      site: 's',
      lpu: message.lpu,
      status: message.status,
      documentKey: message.documentKey,
      payloadHash: 'h',
      payload: canonicalJson(message.payload),
      payloadBytes: 1,
      receivedAt: '2026-11-25T10:00:00.000Z',
      expiresAt: 1,
    });
    expect(body).not.toMatch(/[\uD800-\uDFFF\uFFFE\uFFFF]/);
    expect(body).toContain('a\\uFFFFb\\uFFFE \\uD83E\\uDE7A');
    expect((JSON.parse(body) as Envelope).payload).toEqual(message.payload);
  });

  it('hashes key order away', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('uses a document id as FIFO group when SQS allows it, else a stable hash', () => {
    expect(groupIdFor('idDocumentMis_2125630')).toBe('idDocumentMis_2125630');
    expect(groupIdFor('ReferralMSE:558')).toBe('ReferralMSE:558');
    const cyrillic = groupIdFor('Документ 15');
    expect(cyrillic).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(groupIdFor('Документ 15')).toBe(cyrillic);
    expect(groupIdFor('x'.repeat(129))).toMatch(/^sha256-/);
    expect(groupIdFor('x'.repeat(128))).toBe('x'.repeat(128));
  });
});
