import { describe, expect, it } from 'vitest';
import { documentMessageOf, storedMessageOf } from '../../lambdas/documents/projection';
import type { VersionedDocument } from '../../lambdas/documents/ports';
import type { MessageRecord } from '../../lambdas/ingest/ports';
import { expectStage, getDocument, listDocuments, listSilent, project, reproject, sinceTime } from '../../lambdas/documents/service';
import { InMemoryDocumentStore } from '../../testing/fakes';

const message = (id: string, type: 'REMDStatus' | 'CDAStatus', status: 'Success' | 'Failed', payload: Record<string, unknown> = {}) => ({
  documentId: 'doc-1',
  message: documentMessageOf({ messageId: id, messageType: type, status, receivedAt: '2026-11-26T08:00:00.000Z', payload }),
});
const NOW = '2026-11-26T09:00:00.000Z';

describe('document service', () => {
  it('writes a document once per change, and not at all for a message it already has', async () => {
    const store = new InMemoryDocumentStore();
    await project(store, [message('m-1', 'REMDStatus', 'Success', { RemdRegNumber: '5' })], NOW);
    await project(store, [message('m-1', 'REMDStatus', 'Success', { RemdRegNumber: '5' })], NOW);
    expect(store.saves).toBe(1);
    expect((await getDocument(store, 'doc-1'))?.remd).toMatchObject({ state: 'registered', regNumber: '5' });
  });

  it('retries when another writer came first, keeping both writes', async () => {
    const store = new InMemoryDocumentStore();
    await project(store, [message('m-1', 'CDAStatus', 'Success')], NOW);
    store.racer = () => void project(store, [message('m-2', 'REMDStatus', 'Failed')], NOW);
    await project(store, [message('m-3', 'REMDStatus', 'Success', { RemdRegNumber: '9' })], NOW);
    expect(store.conflicts).toBeGreaterThan(0);
    const view = await getDocument(store, 'doc-1');
    expect(view?.timeline.map((t) => t.messageId).sort()).toEqual(['m-1', 'm-2', 'm-3']);
    expect(view?.remd?.state).toBe('registered');
  });

  it('lists by stage state, and lists silent documents until an answer arrives', async () => {
    const store = new InMemoryDocumentStore();
    await expectStage(store, 'doc-1', 'remd', '2026-11-26T08:30:00.000Z', NOW, 30);
    expect(await listSilent(store, NOW)).toEqual([{ documentId: 'doc-1', stage: 'remd', expectedBy: '2026-11-26T08:30:00.000Z' }]);
    await project(store, [message('m-1', 'REMDStatus', 'Failed')], NOW);
    expect(await listSilent(store, NOW)).toEqual([]);
    const since = sinceTime('1d', new Date(NOW))!;
    expect((await listDocuments(store, { since, stage: 'remd', state: 'failed' })).map((d) => d.documentId)).toEqual(['doc-1']);
    expect(await listDocuments(store, { since, stage: 'remd', state: 'registered' })).toEqual([]);
  });

  it('reads `since` as a duration or an ISO time, and nothing else', () => {
    const now = new Date(NOW);
    expect(sinceTime('2d', now)).toBe('2026-11-24T09:00:00.000Z');
    expect(sinceTime('2026-11-01T00:00:00Z', now)).toBe('2026-11-01T00:00:00.000Z');
    expect(sinceTime('yesterday', now)).toBeUndefined();
  });

  it('rebuilds from pages of records in any order to what the projector made, and a second run writes nothing', async () => {
    const record = (
      n: number,
      documentKey: string,
      messageType: 'CDAStatus' | 'REMDStatus',
      payload: Record<string, unknown>,
    ): MessageRecord => ({
      messageId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      state: 'FORWARDED',
      messageType,
      site: 'test',
      lpu: 'lpu',
      status: 'Success',
      documentKey,
      payloadHash: 'h',
      payload: JSON.stringify({ Message: `m${n}`, ...payload }),
      payloadBytes: 1,
      receivedAt: `2026-11-26T08:00:${String(n).padStart(2, '0')}.000Z`,
      expiresAt: 2_000_000_000 + n,
    });
    const records = [
      record(1, 'doc-a', 'CDAStatus', { IdMedDocument: 7 }),
      record(2, 'doc-a', 'REMDStatus', { RemdRegNumber: '1' }),
      record(3, 'doc-b', 'REMDStatus', {}),
      record(4, 'doc-a', 'REMDStatus', {}),
    ];
    const pages = (...groups: MessageRecord[][]) => [
      (async function* () {
        for (const group of groups) yield { records: group, unreadable: 0 };
      })(),
    ];
    const streamed = new InMemoryDocumentStore();
    await project(streamed, records.map(storedMessageOf), NOW);
    const rebuilt = new InMemoryDocumentStore();
    const first = await reproject(pages([records[3]!, records[1]!], [records[2]!], [records[0]!]), rebuilt, { now: () => NOW });
    expect(first).toMatchObject({ messages: 4, written: 3, skipped: 0, unreadable: 0 }); // doc-a on two pages: written twice
    for (const id of ['doc-a', 'doc-b']) expect(await getDocument(rebuilt, id)).toEqual(await getDocument(streamed, id));
    const second = await reproject(pages(records), rebuilt, { now: () => NOW });
    expect(second).toMatchObject({ messages: 4, written: 0, unchanged: 2 });
  });

  it('rewrites a document stored by another projection version even when no message is new', async () => {
    const store = new InMemoryDocumentStore();
    const m = message('m-1', 'CDAStatus', 'Success');
    await project(store, [m], NOW);
    const get = store.get.bind(store);
    store.get = async (id): Promise<VersionedDocument | undefined> => {
      const found = await get(id);
      return found && { ...found, stale: true };
    };
    const { changes } = await project(store, [m], NOW);
    expect(changes.map((c) => c.written)).toEqual([true]);
    expect(store.saves).toBe(2);
  });
});
