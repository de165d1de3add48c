import { beforeEach, describe, expect, it } from 'vitest';
import { PayloadTooLargeError, QueueUnavailableError, StoreUnavailableError } from '../../lambdas/errors';
import { canonicalJson, groupIdFor, type Envelope } from '../../lambdas/ingest/envelope';
import { ingest, type IngestSettings } from '../../lambdas/ingest/ingest';
import type { IngestPorts } from '../../lambdas/ingest/ports';
import { parseMessage, type MessageType, type ParsedMessage } from '../../lambdas/protocol/catalog';
import { InMemoryQueue, InMemoryStore, fixedClock } from '../support/fakes';
import { freshMessage } from '../support/messages';

const settings: IngestSettings = { site: 'mo-123', retentionDays: 30, maxInlinePayloadBytes: 200 * 1024 };

const parsed = (type: MessageType, body: Record<string, unknown>): ParsedMessage => {
  const result = parseMessage(type, body);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.message;
};

describe('ingest', () => {
  let store: InMemoryStore;
  let queue: InMemoryQueue;
  let ports: IngestPorts;

  beforeEach(() => {
    store = new InMemoryStore();
    queue = new InMemoryQueue();
    ports = { store, queue, clock: fixedClock('2026-11-25T10:00:00.000Z') };
  });

  it('stores, forwards and marks a new message', async () => {
    const message = parsed('REMDStatus', freshMessage('REMDStatus'));
    const outcome = await ingest(message, ports, settings);

    expect(outcome).toMatchObject({ kind: 'accepted', markedForwarded: true });
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

    expect(outcome).toMatchObject({ kind: 'duplicate', reforwarded: false });
    expect(queue.sent).toHaveLength(1);
    expect(store.calls).toEqual({ put: 2, mark: 1 });
  });

  it('treats the same message with keys in another order and the id in upper case as a duplicate', async () => {
    const body = freshMessage('SEMDStatus');
    await ingest(parsed('SEMDStatus', body), ports, settings);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    reordered.MessageId = String(body.MessageId).toUpperCase();
    expect((await ingest(parsed('SEMDStatus', reordered), ports, settings)).kind).toBe('duplicate');
  });

  it('forwards again when an earlier attempt stored the message but died before forwarding', async () => {
    const body = freshMessage('MseResult');
    queue.failNextSend = new QueueUnavailableError('down');
    await expect(ingest(parsed('MseResult', body), ports, settings)).rejects.toThrow(QueueUnavailableError);
    expect(store.records.get(String(body.MessageId))?.state).toBe('RECEIVED');

    const retry = await ingest(parsed('MseResult', body), ports, settings);
    expect(retry).toMatchObject({ kind: 'duplicate', reforwarded: true, markedForwarded: true });
    expect(queue.delivered).toHaveLength(1);
    expect(store.records.get(String(body.MessageId))?.state).toBe('FORWARDED');
  });

  it('forwards what was stored first, not the retry, when re-forwarding', async () => {
    const body = freshMessage('MseResult');
    queue.failNextSend = new QueueUnavailableError('down');
    await ingest(parsed('MseResult', body), ports, settings).catch(() => undefined);
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
    expect(outcome).toMatchObject({ kind: 'accepted', markedForwarded: false });
    expect(queue.sent).toHaveLength(1);
    expect(store.records.get(message.messageId)?.state).toBe('RECEIVED');
  });

  it('refuses a payload over the inline limit before touching the store', async () => {
    const message = parsed('CDAStatus', freshMessage('CDAStatus', { CDA: 'A'.repeat(300 * 1024) }));
    await expect(ingest(message, ports, settings)).rejects.toThrow(PayloadTooLargeError);
    expect(store.calls.put).toBe(0);
  });
});

describe('envelope', () => {
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
