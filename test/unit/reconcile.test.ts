import { beforeEach, describe, expect, it } from 'vitest';
import { QueueUnavailableError, StoreUnavailableError } from '../../lambdas/errors';
import { ingest, type IngestSettings } from '../../lambdas/ingest/ingest';
import type { IngestPorts } from '../../lambdas/ingest/ports';
import { reconcile } from '../../lambdas/ingest/reconcile';
import { parseMessage, type MessageType } from '../../lambdas/protocol/catalog';
import { InMemoryPayloads, InMemoryQueue, InMemoryStore, fixedClock } from '../support/fakes';
import { freshMessage } from '../support/messages';

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
    expect(report).toEqual({ pendingBefore: 2, due: 2, forwarded: 2, unmarked: 0, failed: 0, pendingAfter: 0 });
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
      failed: 0,
      pendingAfter: 0,
    });
  });

  it('stops at the first queue failure and leaves the rest pending for the next run', async () => {
    await deferred('REMDStatus', '2026-11-25T09:00:00.000Z');
    await deferred('REMDStatus', '2026-11-25T09:00:01.000Z');
    queue.failNextSend = new QueueUnavailableError('still down');
    const report = await reconcile(at('2026-11-25T10:00:00.000Z'), { graceSeconds: 60, batch: 100 });
    expect(report).toMatchObject({ due: 2, forwarded: 0, failed: 2, pendingAfter: 2 });
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

  it('lets a store failure through, so the run shows as an error', async () => {
    store.listPending = () => Promise.reject(new StoreUnavailableError('down'));
    await deferred('MseResult', '2026-11-25T09:00:00.000Z');
    await expect(reconcile(ports, { graceSeconds: 60, batch: 100 })).rejects.toThrow(StoreUnavailableError);
  });
});
