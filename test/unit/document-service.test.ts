import { describe, expect, it } from 'vitest';
import { documentMessageOf } from '../../lambdas/documents/projection';
import { expectStage, getDocument, listDocuments, listSilent, project, sinceTime } from '../../lambdas/documents/service';
import { InMemoryDocumentStore } from '../support/fakes';

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
});
