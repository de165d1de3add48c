import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  newReplayId,
  readCheckpoint,
  type ReplayCheckpoint,
  rateArgument,
  selectionFrom,
  timeArgument,
  writeCheckpoint,
} from '../../cli/replay';
import { parseMessage, type MessageType } from '../../contract/catalog';
import { type Envelope, REPLAY_ID } from '../../contract/envelope';
import { QueueRefusedError, QueueUnavailableError } from '../../contract/errors';
import { toQueueMessage } from '../../lambdas/ingest/envelope';
import { ingest, type IngestSettings } from '../../lambdas/ingest/ingest';
import type { MessageRecord } from '../../lambdas/ingest/ports';
import {
  planReplay,
  type ReplayCandidate,
  type ReplayPorts,
  type ReplayProgress,
  type ReplaySelection,
  type ReplaySource,
  sendReplay,
  summarize,
} from '../../lambdas/ingest/replay';
import { fixedClock, InMemoryPayloads, InMemoryQueue, InMemoryStore } from '../../testing/fakes';
import { freshMessage } from '../../testing/messages';

/*
 * The replay core (lambdas/ingest/replay.ts) over memory: what it selects, in which order, what it refuses, and
 * that a replay stopped anywhere resumes without a message going twice; and the CLI's own logic beside it
 * (its flags, its checkpoint file).
 */

const settings: IngestSettings = { site: 'mo-1', retentionDays: 30, maxInlinePayloadBytes: 200 * 1024 };

/** The adapter's view of the in-memory table: a window is read inclusively at both ends, as a BETWEEN query is. */
function sourceOver(store: InMemoryStore): ReplaySource & { reads: number } {
  const candidate = (r: MessageRecord): ReplayCandidate => ({
    messageId: r.messageId,
    receivedAt: r.receivedAt,
    messageType: r.messageType,
    status: r.status,
    state: r.state,
    lpu: r.lpu,
    documentKey: r.documentKey,
    ...(r.payloadRef ? { payloadRef: r.payloadRef } : {}),
  });
  const source = {
    reads: 0,
    arrivalsBetween: async (since: string, until: string) =>
      [...store.records.values()].filter((r) => r.receivedAt >= since && r.receivedAt <= until).map(candidate),
    candidatesByIds: async (ids: readonly string[]) =>
      ids.flatMap((id) => (store.records.has(id) ? [candidate(store.records.get(id)!)] : [])),
    records: async (ids: readonly string[]) => {
      source.reads++;
      return ids.flatMap((id) => (store.records.has(id) ? [store.records.get(id)!] : []));
    },
  };
  return source;
}

describe('replay', () => {
  let store: InMemoryStore;
  let queue: InMemoryQueue;
  let payloads: InMemoryPayloads;
  let source: ReturnType<typeof sourceOver>;
  const objects = () => ({ exists: async (ref: { key: string }) => payloads.objects.has(ref.key) });

  beforeEach(() => {
    store = new InMemoryStore();
    queue = new InMemoryQueue();
    payloads = new InMemoryPayloads();
    source = sourceOver(store);
  });

  /** One message through the real ingest at `at`, forwarded and marked; its MessageId. */
  const arrived = async (
    type: MessageType,
    at: string,
    overrides: Record<string, unknown> = {},
    inlineLimit = settings.maxInlinePayloadBytes,
  ) => {
    const parsed = parseMessage(type, freshMessage(type, overrides));
    if (!parsed.ok) throw new Error('invalid example');
    await ingest(parsed.message, { store, queue, payloads, clock: fixedClock(at) }, { ...settings, maxInlinePayloadBytes: inlineLimit });
    return parsed.message.messageId;
  };
  const select = (selection: Partial<ReplaySelection>) =>
    planReplay({ until: '2026-12-01T00:00:00.000Z', ...selection }, { source, objects: objects() });
  /** Ports whose timer only pretends to wait (it advances its own clock), saving into `saved`. */
  const portsFor = (saved: ReplayProgress[], overrides: Partial<ReplayPorts> = {}) => {
    let now = 0;
    const slept: number[] = [];
    const ports: ReplayPorts = {
      source,
      queue,
      timer: {
        now: () => now,
        sleep: async (ms) => {
          slept.push(ms);
          now += ms;
        },
      },
      save: (progress) => void saved.push(progress),
      ...overrides,
    };
    return { ports, slept };
  };

  describe('selection', () => {
    it('takes the arrival window from --since (included) to --until (excluded), in arrival order, ties by MessageId', async () => {
      const before = await arrived('SEMDStatus', '2026-11-22T09:59:59.999Z');
      const atSince = await arrived('SEMDStatus', '2026-11-22T10:00:00.000Z');
      const later = await arrived('REMDStatus', '2026-11-23T10:00:00.000Z');
      const sameMs = await arrived('CDAStatus', '2026-11-23T10:00:00.000Z');
      const atUntil = await arrived('MseResult', '2026-11-25T10:00:00.000Z');
      const plan = await select({ since: '2026-11-22T10:00:00.000Z', until: '2026-11-25T10:00:00.000Z' });
      expect(plan.sendable.map((c) => c.messageId)).toEqual([atSince, ...[later, sameMs].sort()]);
      expect(plan.sendable.map((c) => c.messageId)).not.toContain(before);
      expect(plan.sendable.map((c) => c.messageId)).not.toContain(atUntil);
    });

    it('narrows by type, state, document and Lpu (Lpu without regard to case); each list matches any of its values', async () => {
      const lpu = '1.2.643.5.1.13.13.12.2.77.7777';
      const wanted = await arrived('REMDStatus', '2026-11-23T10:00:00.000Z', { IdSourceMis: 'DOC-1', Lpu: lpu });
      await arrived('REMDStatus', '2026-11-23T10:00:01.000Z', { IdSourceMis: 'DOC-2', Lpu: lpu });
      await arrived('SEMDStatus', '2026-11-23T10:00:02.000Z');
      queue.failNextSend = new QueueUnavailableError('down');
      const pending = await arrived('REMDStatus', '2026-11-23T10:00:03.000Z', { IdSourceMis: 'DOC-1', Lpu: lpu });
      const since = '2026-11-23T00:00:00.000Z';

      const narrowed = await select({
        since,
        types: ['REMDStatus'],
        states: ['FORWARDED'],
        documents: ['DOC-1'],
        lpus: [lpu.toUpperCase()],
      });
      expect(narrowed.sendable.map((c) => c.messageId)).toEqual([wanted]);
      expect((await select({ since, states: ['RECEIVED'] })).sendable.map((c) => c.messageId)).toEqual([pending]);
      expect((await select({ since, types: ['SEMDStatus', 'REMDStatus'] })).sendable).toHaveLength(4);
    });

    it('by MessageId: the stored ones in arrival order, the others named as not found; the window still applies when given', async () => {
      const second = await arrived('SEMDStatus', '2026-11-24T10:00:00.000Z');
      const first = await arrived('SEMDStatus', '2026-11-20T10:00:00.000Z');
      const unknown = '0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f';
      const plan = await select({ messageIds: [second.toUpperCase(), first, unknown] });
      expect(plan.sendable.map((c) => c.messageId)).toEqual([first, second]);
      expect(plan.notFound).toEqual([unknown]);
      expect((await select({ messageIds: [first, second], since: '2026-11-21T00:00:00.000Z' })).sendable.map((c) => c.messageId)).toEqual([
        second,
      ]);
    });

    it('refuses a claim-checked message whose payload object is gone, and counts it; the rest still go', async () => {
      const kept = await arrived('CDAStatus', '2026-11-23T10:00:00.000Z', {}, 100);
      const lost = await arrived('CDAStatus', '2026-11-23T10:00:01.000Z', {}, 100);
      const inline = await arrived('REMDStatus', '2026-11-23T10:00:02.000Z');
      payloads.objects.delete(store.records.get(lost)!.payloadRef!.key);
      const plan = await select({ since: '2026-11-23T00:00:00.000Z' });
      expect(plan.sendable.map((c) => c.messageId)).toEqual([kept, inline]);
      expect(plan.payloadGone.map((c) => c.messageId)).toEqual([lost]);
    });

    it('summarises a selection as a dry run prints it: the count by type, the first and the last', async () => {
      const first = await arrived('SEMDStatus', '2026-11-23T10:00:00.000Z');
      await arrived('REMDStatus', '2026-11-23T11:00:00.000Z');
      const last = await arrived('SEMDStatus', '2026-11-23T12:00:00.000Z');
      const summary = summarize((await select({ since: '2026-11-23T00:00:00.000Z' })).sendable);
      expect(summary).toEqual({
        count: 3,
        byType: { SEMDStatus: 2, REMDStatus: 1 },
        first: { receivedAt: '2026-11-23T10:00:00.000Z', messageId: first, messageType: 'SEMDStatus' },
        last: { receivedAt: '2026-11-23T12:00:00.000Z', messageId: last, messageType: 'SEMDStatus' },
      });
      expect(summarize([])).toEqual({ count: 0, byType: {} });
    });
  });

  describe('sending', () => {
    it("sends each as the original envelope plus redelivery, in the original's group, under <MessageId>:<replayId>", async () => {
      const id = await arrived('REMDStatus', '2026-11-23T10:00:00.000Z');
      const claimChecked = await arrived('CDAStatus', '2026-11-23T10:00:01.000Z', {}, 100);
      const originals = [...queue.sent];
      queue.sent.length = 0;
      const plan = await select({ since: '2026-11-23T00:00:00.000Z' });
      const result = await sendReplay(plan.sendable, portsFor([]).ports, { replayId: 'r-1' });

      expect(result).toMatchObject({ counts: { sent: 2, refused: 0, missing: 0 }, after: { messageId: claimChecked } });
      expect(result).not.toHaveProperty('stopped');
      expect(queue.sent.map((m) => m.deduplicationId)).toEqual([`${id}:r-1`, `${claimChecked}:r-1`]);
      queue.sent.forEach((message, n) => {
        const original = originals[n]!;
        expect([message.groupId, message.attributes]).toEqual([original.groupId, original.attributes]);
        // The same bytes as first delivered, the field added: nothing else about the envelope changes.
        const { redelivery, ...rest } = JSON.parse(message.body) as Envelope;
        expect(redelivery).toEqual({ replayId: 'r-1' });
        expect(JSON.stringify(rest)).toBe(original.body);
      });
      // A large payload goes by its claim check, as the first time.
      expect(JSON.parse(queue.sent[1]!.body)).toHaveProperty('payloadRef', store.records.get(claimChecked)!.payloadRef);
      expect(toQueueMessage(store.records.get(id)!).body).toBe(originals[0]!.body);
    });

    it('stopped after N and resumed from its checkpoint, sends every message once, in order', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 7; n++) ids.push(await arrived('SEMDStatus', `2026-11-23T10:00:0${n}.000Z`, { IdMedDocumentMis: 'DOC-A' }));
      queue.sent.length = 0;
      const plan = await select({ since: '2026-11-23T00:00:00.000Z' });
      const controller = new AbortController();
      const saved: ReplayProgress[] = [];
      const first = await sendReplay(
        plan.sendable,
        portsFor(saved, { onProgress: (p) => (p.counts.sent === 3 ? controller.abort() : undefined) }).ports,
        { replayId: 'r-2', signal: controller.signal },
      );
      expect(first).toMatchObject({ stopped: 'interrupted', counts: { sent: 3 }, after: { messageId: ids[2] } });
      expect(saved.at(-1)).toEqual({ after: first.after, counts: first.counts });

      // The resumed run selects again (as after a restart) and starts after the checkpoint.
      const again = await select({ since: '2026-11-23T00:00:00.000Z' });
      const second = await sendReplay(again.sendable, portsFor(saved).ports, { replayId: 'r-2', resumeFrom: saved.at(-1)! });
      expect(second).toMatchObject({ counts: { sent: 7, refused: 0, missing: 0 } });
      expect(second).not.toHaveProperty('stopped');
      expect(queue.sent.map((m) => m.deduplicationId)).toEqual(ids.map((id) => `${id}:r-2`));
    });

    it('killed between a send and its checkpoint, the resumed replay repeats that one send under the same deduplication id, which FIFO drops', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 4; n++) ids.push(await arrived('SEMDStatus', `2026-11-23T10:00:0${n}.000Z`));
      queue.sent.length = 0;
      queue.delivered.length = 0;
      const plan = await select({ since: '2026-11-23T00:00:00.000Z' });
      const saved: ReplayProgress[] = [];
      const killed = new Error('killed');
      const crashing = portsFor(saved, {
        save: (progress) => {
          if (progress.counts.sent === 2) throw killed;
          saved.push(progress);
        },
      });
      await expect(sendReplay(plan.sendable, crashing.ports, { replayId: 'r-3' })).rejects.toBe(killed);
      await sendReplay(plan.sendable, portsFor(saved).ports, { replayId: 'r-3', resumeFrom: saved.at(-1)! });
      expect(queue.sent.map((m) => m.deduplicationId)).toEqual([ids[0], ids[1], ids[1], ids[2], ids[3]].map((id) => `${id}:r-3`));
      expect(queue.delivered.map((m) => m.deduplicationId)).toEqual(ids.map((id) => `${id}:r-3`));
    });

    it('stops at the first message the queue does not take for unavailability, so its document keeps its order; resumes with that one', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 3; n++) ids.push(await arrived('SEMDStatus', `2026-11-23T10:00:0${n}.000Z`, { IdMedDocumentMis: 'DOC-B' }));
      queue.sent.length = 0;
      const plan = await select({ since: '2026-11-23T00:00:00.000Z' });
      const saved: ReplayProgress[] = [];
      queue.failWhen = (m) => (m.deduplicationId.startsWith(ids[1]!) ? new QueueUnavailableError('down') : undefined);
      const first = await sendReplay(plan.sendable, portsFor(saved).ports, { replayId: 'r-4' });
      expect(first).toMatchObject({ stopped: 'queue-down', counts: { sent: 1 }, after: { messageId: ids[0] } });
      queue.failWhen = undefined;
      await sendReplay(plan.sendable, portsFor(saved).ports, { replayId: 'r-4', resumeFrom: saved.at(-1)! });
      expect(queue.sent.map((m) => m.deduplicationId)).toEqual(ids.map((id) => `${id}:r-4`));
    });

    it('counts a message the queue refuses for good, names it, and goes on; one expired since the selection is counted as missing', async () => {
      const [refused, expired, fine] = [
        await arrived('SEMDStatus', '2026-11-23T10:00:00.000Z'),
        await arrived('SEMDStatus', '2026-11-23T10:00:01.000Z'),
        await arrived('SEMDStatus', '2026-11-23T10:00:02.000Z'),
      ];
      queue.sent.length = 0;
      const plan = await select({ since: '2026-11-23T00:00:00.000Z' });
      store.records.delete(expired);
      queue.failWhen = (m) => (m.deduplicationId.startsWith(refused) ? new QueueRefusedError('InvalidMessageContents') : undefined);
      const result = await sendReplay(plan.sendable, portsFor([]).ports, { replayId: 'r-5' });
      expect(result).toMatchObject({ counts: { sent: 1, refused: 1, missing: 1 }, refusedIds: [refused], after: { messageId: fine } });
    });

    it('keeps to --rate: N messages at R a second wait (N-1)/R seconds between them, the first at once', async () => {
      for (let n = 0; n < 5; n++) await arrived('SEMDStatus', `2026-11-23T10:00:0${n}.000Z`);
      const plan = await select({ since: '2026-11-23T00:00:00.000Z' });
      const { ports, slept } = portsFor([]);
      await sendReplay(plan.sendable, ports, { replayId: 'r-6', ratePerSecond: 2 });
      expect(slept).toEqual([500, 500, 500, 500]);
    });

    it('reads records a batch ahead of their turn, never the whole selection at once', async () => {
      for (let n = 0; n < 30; n++) await arrived('SEMDStatus', `2026-11-23T10:00:${String(n).padStart(2, '0')}.000Z`);
      const plan = await select({ since: '2026-11-23T00:00:00.000Z' });
      await sendReplay(plan.sendable, portsFor([]).ports, { replayId: 'r-7' });
      expect(source.reads).toBe(2);
    });
  });
});

describe('n3-callback replay: flags and checkpoint', () => {
  const now = new Date('2026-11-25T10:00:00.000Z');
  const noFile = () => {
    throw Object.assign(new Error('absent'), { code: 'ENOENT' });
  };

  it('reads --since and --until as ISO times, UTC dates or durations back, and fixes an open window at now', () => {
    expect(timeArgument('3d', '--since', now)).toBe('2026-11-22T10:00:00.000Z');
    expect(timeArgument('90m', '--since', now)).toBe('2026-11-25T08:30:00.000Z');
    expect(timeArgument('2026-11-20', '--since', now)).toBe('2026-11-20T00:00:00.000Z');
    expect(timeArgument('2026-11-20T12:30+03:00', '--since', now)).toBe('2026-11-20T09:30:00.000Z');
    expect(() => timeArgument('yesterday', '--since', now)).toThrow(/--since takes an ISO time/);
    expect(selectionFrom({ since: '3d' }, noFile, now)).toEqual({
      since: '2026-11-22T10:00:00.000Z',
      until: '2026-11-25T10:00:00.000Z',
      states: ['FORWARDED'],
    });
    expect(() => selectionFrom({ since: '1d', until: '2d' }, noFile, now)).toThrow(/must come before --until/);
  });

  it('needs a window or MessageIds, takes ids from flags and a file (one a line, # comments), and refuses what is no MessageId', () => {
    expect(() => selectionFrom({ type: ['REMDStatus'] }, noFile, now)).toThrow(/replay needs --since/);
    const a = '5c1f7a0e-2b3c-4d5e-8f90-1a2b3c4d5e6f';
    const b = '6d2e8b1f-3c4d-4e5f-9a01-2b3c4d5e6f70';
    const file = `# lost on 2026-11-24\n${b.toUpperCase()}\n\n`;
    expect(selectionFrom({ 'message-id': [a], 'message-ids-from': 'ids.txt' }, () => file, now).messageIds).toEqual([a, b]);
    expect(() => selectionFrom({ 'message-id': ['not-an-id'] }, noFile, now)).toThrow(/--message-id takes a MessageId/);
    expect(() => selectionFrom({ 'message-ids-from': 'ids.txt' }, noFile, now)).toThrow('no such file: ids.txt');
  });

  it('takes types by any of their names, states comma-separated or any, and rates as N/s', () => {
    const selection = selectionFrom(
      { since: '1d', type: ['remdstatus,SEMDStatus'], state: 'forwarded,received', lpu: ['a,b'] },
      noFile,
      now,
    );
    expect(selection).toMatchObject({ types: ['REMDStatus', 'SEMDStatus'], states: ['FORWARDED', 'RECEIVED'], lpus: ['a', 'b'] });
    expect(selectionFrom({ since: '1d', state: 'any' }, noFile, now)).not.toHaveProperty('states');
    expect(() => selectionFrom({ since: '1d', type: ['Nope'] }, noFile, now)).toThrow(/unknown MessageType "Nope"/);
    expect(() => selectionFrom({ since: '1d', state: 'DONE' }, noFile, now)).toThrow(/--state takes FORWARDED/);
    expect([rateArgument('20/s'), rateArgument('0.5/s'), rateArgument('3')]).toEqual([20, 0.5, 3]);
    expect(() => rateArgument('0/s')).toThrow(/--rate takes/);
  });

  it("names a replay so that its deduplication ids stay within SQS's 128 characters", () => {
    const id = newReplayId(now);
    expect(id).toMatch(/^r-20261125T100000Z-[0-9a-f]{6}$/);
    expect(REPLAY_ID.test(id)).toBe(true);
    expect(`5c1f7a0e-2b3c-4d5e-8f90-1a2b3c4d5e6f:${'x'.repeat(64)}`.length).toBeLessThanOrEqual(128);
  });

  it('writes the checkpoint whole (temporary file renamed into place) and reads it back; refuses a file that is not one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-checkpoint-'));
    const path = join(dir, 'nested', 'r-1.json');
    const checkpoint: ReplayCheckpoint = {
      replayId: 'r-20261125T100000Z-abcdef',
      startedAt: now.toISOString(),
      queueUrl: 'http://queue',
      tableName: 'table',
      selection: { since: '2026-11-22T10:00:00.000Z', until: now.toISOString() },
      after: { receivedAt: '2026-11-23T10:00:00.000Z', messageId: '5c1f7a0e-2b3c-4d5e-8f90-1a2b3c4d5e6f' },
      counts: { sent: 3, refused: 0, missing: 0 },
      finished: false,
    };
    writeCheckpoint(path, checkpoint);
    writeCheckpoint(path, { ...checkpoint, counts: { sent: 4, refused: 0, missing: 0 } });
    expect(readCheckpoint(path).counts.sent).toBe(4);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['r-1.json']);
    expect(JSON.parse(readFileSync(path, 'utf8')).replayId).toBe(checkpoint.replayId);
    writeFileSync(join(dir, 'other.json'), '{"hello":1}');
    expect(() => readCheckpoint(join(dir, 'other.json'))).toThrow(/is not a replay checkpoint/);
    expect(() => readCheckpoint(join(dir, 'absent.json'))).toThrow(/no checkpoint at/);
  });
});
