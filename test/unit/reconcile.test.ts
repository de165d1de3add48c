import { beforeEach, describe, expect, it } from 'vitest';
import { QueueRefusedError, QueueUnavailableError, StoreUnavailableError } from '../../contract/errors';
import { ingest, type IngestSettings } from '../../lambdas/ingest/ingest';
import { type IngestPorts, UNREADABLE_RECORD } from '../../lambdas/ingest/ports';
import { QUEUE_DOWN_AFTER, reconcile } from '../../lambdas/ingest/reconcile';
import { parseMessage, type MessageType } from '../../contract/catalog';
import { InMemoryPayloads, InMemoryQueue, InMemoryStore, fixedClock } from '../../testing/fakes';
import { freshMessage } from '../../testing/messages';

const settings: IngestSettings = { site: 'mo-1', retentionDays: 30, maxInlinePayloadBytes: 200 * 1024 };

describe('reconcile', () => {
  let store: InMemoryStore;
  let queue: InMemoryQueue;
  let ports: IngestPorts;

  beforeEach(() => {
    store = new InMemoryStore();
    queue = new InMemoryQueue();
    ports = { store, queue, payloads: new InMemoryPayloads(), clock: fixedClock('2026-11-25T10:00:00.000Z') };
  });

  /** Delivers with the queue down: stored, acked Success, pending. */
  const deferred = async (type: MessageType, at: string, overrides: Record<string, unknown> = {}) => {
    const result = parseMessage(type, freshMessage(type, overrides));
    if (!result.ok) throw new Error('invalid');
    queue.failNextSend = new QueueUnavailableError('down');
    await ingest(result.message, { ...ports, clock: fixedClock(at) }, settings);
    return result.message.messageId;
  };
  const at = (iso: string) => ({ ...ports, clock: fixedClock(iso) });

  it('forwards pending messages older than the grace period, oldest first, and marks them', async () => {
    const second = await deferred('SEMDStatus', '2026-11-25T10:00:30.000Z');
    const first = await deferred('SEMDStatus', '2026-11-25T10:00:00.000Z');

    const report = await reconcile(at('2026-11-25T10:02:00.000Z'), { graceSeconds: 60, batch: 100 });
    expect(report).toEqual({
      pendingBefore: 2,
      due: 2,
      forwarded: 2,
      unmarked: 0,
      undeliverable: 0,
      undeliverableIds: [],
      unreadable: 0,
      unreadableIds: [],
      failed: 0,
      pendingAfter: 0,
    });
    expect(queue.sent.map((m) => m.deduplicationId)).toEqual([first, second]);
    expect(store.records.get(first)?.state).toBe('FORWARDED');
  });

  it('leaves a message younger than the grace period alone: its own delivery may still be running', async () => {
    await deferred('MseResult', '2026-11-25T10:00:00.000Z');
    const report = await reconcile(at('2026-11-25T10:00:59.000Z'), { graceSeconds: 60, batch: 100 });
    expect(report).toMatchObject({ pendingBefore: 1, due: 0, forwarded: 0, pendingAfter: 1 });
    expect(queue.sent).toHaveLength(0);
  });

  it('does nothing when nothing is pending', async () => {
    expect(await reconcile(ports, { graceSeconds: 0, batch: 100 })).toEqual({
      pendingBefore: 0,
      due: 0,
      forwarded: 0,
      unmarked: 0,
      undeliverable: 0,
      undeliverableIds: [],
      unreadable: 0,
      unreadableIds: [],
      failed: 0,
      pendingAfter: 0,
    });
  });

  it('holds a document’s later messages when its earlier one could not be sent, so the document keeps its order', async () => {
    const first = await deferred('REMDStatus', '2026-11-25T09:00:00.000Z', { IdSourceMis: 'doc-1' });
    await deferred('REMDStatus', '2026-11-25T09:00:01.000Z', { IdSourceMis: 'doc-1' });
    queue.failNextSend = new QueueUnavailableError('still down');
    queue.attempts = 0;
    const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 100 });
    expect(report).toMatchObject({ due: 2, forwarded: 0, failed: 2, pendingAfter: 2 });
    expect(queue.attempts).toBe(1);
    expect(store.records.get(first)?.state).toBe('RECEIVED');
  });

  it('moves on past a message it could not send: the other documents’ messages are forwarded in the same run', async () => {
    const stuck = await deferred('REMDStatus', '2026-11-25T09:00:00.000Z', { IdSourceMis: 'doc-1' });
    const others = [
      await deferred('REMDStatus', '2026-11-25T09:00:01.000Z', { IdSourceMis: 'doc-2' }),
      await deferred('REMDStatus', '2026-11-25T09:00:02.000Z', { IdSourceMis: 'doc-3' }),
    ];
    queue.failWhen = (m) => (m.deduplicationId === stuck ? new QueueUnavailableError('throttled') : undefined);
    const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 100 });
    expect(report).toMatchObject({ due: 3, forwarded: 2, failed: 1, pendingAfter: 1 });
    expect(queue.delivered.map((m) => m.deduplicationId)).toEqual(others);
  });

  it('marks a message the queue refuses for good UNDELIVERABLE, counts it, and forwards the rest, its document’s too', async () => {
    const refused = await deferred('SEMDStatus', '2026-11-25T09:00:00.000Z', { IdMedDocumentMis: 'doc-1' });
    const later = await deferred('SEMDStatus', '2026-11-25T09:00:01.000Z', { IdMedDocumentMis: 'doc-1' });
    queue.failWhen = (m) => (m.deduplicationId === refused ? new QueueRefusedError('InvalidMessageContents') : undefined);
    const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 100 });
    expect(report).toMatchObject({ due: 2, forwarded: 1, undeliverable: 1, undeliverableIds: [refused], failed: 0, pendingAfter: 0 });
    expect(store.records.get(refused)).toMatchObject({ state: 'UNDELIVERABLE', refusal: 'InvalidMessageContents' });
    expect(queue.delivered.map((m) => m.deduplicationId)).toEqual([later]);
    // Out of the pending set: the next run does not try it again.
    expect(await reconcile(at('2026-11-25T10:01:00.000Z'), { graceSeconds: 60, batch: 100 })).toMatchObject({ due: 0, pendingAfter: 0 });
  });

  it(`stops after ${QUEUE_DOWN_AFTER} sends in a row fail for unavailability: the queue is down, the rest wait untried for the next run`, async () => {
    for (let i = 0; i < 6; i++) await deferred('MseResult', `2026-11-25T09:00:0${i}.000Z`, { IdMSEMis: `doc-${i}` });
    queue.failWhen = () => new QueueUnavailableError('down');
    queue.attempts = 0;
    const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 100 });
    expect(report).toMatchObject({ due: 6, forwarded: 0, failed: 6, pendingAfter: 6 });
    expect(queue.attempts).toBe(QUEUE_DOWN_AFTER);
  });

  it('keeps going through failures that successes interrupt: only a run of them means the queue is down', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await deferred('MseResult', `2026-11-25T09:00:0${i}.000Z`, { IdMSEMis: `doc-${i}` }));
    // Every other message fails: never QUEUE_DOWN_AFTER in a row.
    queue.failWhen = (m) => (ids.indexOf(m.deduplicationId) % 2 === 0 ? new QueueUnavailableError('throttled') : undefined);
    const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 100 });
    expect(report).toMatchObject({ due: 8, forwarded: 4, failed: 4 });
  });

  it('takes at most a batch per run', async () => {
    for (let i = 0; i < 5; i++) await deferred('VimisResult', `2026-11-25T09:00:0${i}.000Z`);
    const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 2 });
    expect(report).toMatchObject({ pendingBefore: 5, due: 2, forwarded: 2, pendingAfter: 3 });
  });

  it('forwards exactly once across runs and late re-sends', async () => {
    const body = freshMessage('CDAStatus');
    const result = parseMessage('CDAStatus', body);
    if (!result.ok) throw new Error('invalid');
    queue.failNextSend = new QueueUnavailableError('down');
    await ingest(result.message, ports, settings);
    await reconcile(at('2026-11-25T10:05:00.000Z'), { graceSeconds: 60, batch: 100 });
    await reconcile(at('2026-11-25T10:06:00.000Z'), { graceSeconds: 60, batch: 100 });
    await ingest(result.message, at('2026-11-25T10:07:00.000Z'), settings);
    expect(queue.sent).toHaveLength(1);
  });

  describe('a pending record that cannot be forwarded as stored', () => {
    const UNREADABLE_ID = '0f0e0d0c-0b0a-4909-8807-060504030201';
    it('is set aside as UNDELIVERABLE and counted (its key, never its content), and the run forwards the rest', async () => {
      const ok = await deferred('SEMDStatus', '2026-11-25T09:00:01.000Z');
      store.unreadableKeys.add(UNREADABLE_ID);
      const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 100 });
      expect(report).toMatchObject({ pendingBefore: 2, due: 2, forwarded: 1, unreadable: 1, unreadableIds: [UNREADABLE_ID], failed: 0 });
      expect(report.pendingAfter).toBe(0);
      expect(queue.delivered.map((m) => m.deduplicationId)).toEqual([ok]);
      // Out of the pending set: not read again every minute.
      expect(await reconcile(at('2026-11-25T10:01:00.000Z'), { graceSeconds: 60, batch: 100 })).toMatchObject({ due: 0, unreadable: 0 });
    });

    it('names a key that is not a UUID only as such: a key we did not write is no log’s business', async () => {
      store.unreadableKeys.add('Иванов Иван Иванович');
      const report = await reconcile(ports, { graceSeconds: 0, batch: 100 });
      expect(report.unreadableIds).toEqual(['(not a UUID)']);
      expect(JSON.stringify(report)).not.toContain('Иванов');
    });

    it.each([
      ['a payload that is not JSON', { payload: '{"Lpu": ' }],
      ['a payload that is not an object', { payload: '"text"' }],
      ['no payload and no claim check', { payload: undefined }],
      ['a type the MIS does not know', { messageType: 'Nonsense' }],
      ['a status the MIS does not know', { status: 'Maybe' }],
      ['a claim check without its key', { payload: undefined, payloadRef: { bucket: 'b', key: 'undefined', size: 1, sha256: 'h' } }],
    ])('with %s, is set aside; its document’s later message is forwarded', async (_case, damage) => {
      const damaged = await deferred('REMDStatus', '2026-11-25T09:00:00.000Z', { IdSourceMis: 'doc-1' });
      const later = await deferred('REMDStatus', '2026-11-25T09:00:01.000Z', { IdSourceMis: 'doc-1' });
      store.records.set(damaged, { ...store.records.get(damaged)!, ...damage } as never);
      const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 100 });
      expect(report).toMatchObject({ due: 2, forwarded: 1, unreadable: 1, unreadableIds: [damaged], failed: 0, pendingAfter: 0 });
      expect(store.records.get(damaged)).toMatchObject({ state: 'UNDELIVERABLE', refusal: UNREADABLE_RECORD });
      expect(queue.delivered.map((m) => m.deduplicationId)).toEqual([later]);
    });

    it('stays pending when setting it aside fails, and the run still forwards the rest', async () => {
      const ok = await deferred('SEMDStatus', '2026-11-25T09:00:01.000Z');
      store.unreadableKeys.add(UNREADABLE_ID);
      store.failNextMark = new StoreUnavailableError('down');
      const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 100 });
      expect(report).toMatchObject({ forwarded: 1, unreadable: 1, pendingAfter: 1 });
      expect(queue.delivered.map((m) => m.deduplicationId)).toEqual([ok]);
    });
  });

  describe('the run budget', () => {
    /** A function's remaining time that drops by `perCall` ms each time it is read. */
    const draining = (startMs: number, perCall: number) => {
      let left = startMs + perCall;
      return () => (left -= perCall);
    };

    it('starts no message with less time left than the reserve: the rest stay pending for the next run', async () => {
      for (let i = 0; i < 5; i++) await deferred('MseResult', `2026-11-25T09:00:0${i}.000Z`, { IdMSEMis: `doc-${i}` });
      // 10 s left at the first message, 1 s less at each next one: with a 7.5 s reserve, three start.
      const report = await reconcile(
        at('2026-11-25T10:00:00.000Z'),
        { graceSeconds: 60, batch: 100 },
        { timeLeftMs: draining(10_000, 1_000), reserveMs: 7_500 },
      );
      expect(report).toMatchObject({ due: 5, forwarded: 3, failed: 2, stopped: 'out-of-time', pendingAfter: 2 });
    });

    it('with no time at all, sends nothing and still reports what is pending', async () => {
      await deferred('MseResult', '2026-11-25T09:00:00.000Z');
      queue.attempts = 0;
      const report = await reconcile(
        at('2026-11-25T10:00:00.000Z'),
        { graceSeconds: 60, batch: 100 },
        { timeLeftMs: () => 0, reserveMs: 1 },
      );
      expect(report).toMatchObject({ pendingBefore: 1, due: 1, forwarded: 0, failed: 1, stopped: 'out-of-time', pendingAfter: 1 });
      expect(queue.attempts).toBe(0);
    });
  });

  it('lets a store failure through, so the run shows as an error', async () => {
    store.listPending = () => Promise.reject(new StoreUnavailableError('down'));
    await deferred('MseResult', '2026-11-25T09:00:00.000Z');
    await expect(reconcile(ports, { graceSeconds: 60, batch: 100 })).rejects.toThrow(StoreUnavailableError);
  });
});
