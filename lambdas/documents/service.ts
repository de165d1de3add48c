import type { DocumentFilter, DocumentView, SilentDocument, Stage } from '../contract/documents';
import { parseDuration } from '../contract/documents';
import type { DocumentStore } from './ports';
import {
  applyMessage,
  type DocumentMessage,
  type DocumentState,
  emptyDocument,
  expectAnswer,
  silentOf,
  statesOf,
  viewOf,
} from './projection';

/*
 * The document service over its port: every write is read → derive → conditional write, retried when
 * another writer (a projector on another stream shard, an `expect` call) came first. The projection is
 * pure (projection.ts); this only moves it in and out of storage.
 */

const MAX_ATTEMPTS = 20;

/** A document write that kept losing to other writers: the caller fails and is retried as a whole. */
export class DocumentContentionError extends Error {
  constructor(readonly documentId: string) {
    super(`document ${documentId}: ${MAX_ATTEMPTS} concurrent writes in a row`);
    this.name = 'DocumentContentionError';
  }
}

async function update(
  store: DocumentStore,
  documentId: string,
  now: string,
  change: (state: DocumentState) => DocumentState,
): Promise<{ before: DocumentState; after: DocumentState }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await store.get(documentId);
    const before = current?.state ?? emptyDocument(documentId);
    const after = change(before);
    if (current && after === before) return { before, after };
    if (await store.save(after, current?.version, now)) return { before, after };
  }
  throw new DocumentContentionError(documentId);
}

export interface ProjectedChange {
  readonly documentId: string;
  /** Stage states before and after, for metrics (e.g. REMD registrations a day). */
  readonly before: Partial<Record<Stage, string>>;
  readonly after: Partial<Record<Stage, string>>;
}

/** Applies stored messages to their documents (any order, any repetition: the result is the same). */
export async function project(
  store: DocumentStore,
  messages: ReadonlyArray<{ readonly documentId: string; readonly message: DocumentMessage }>,
  now: string,
): Promise<ProjectedChange[]> {
  const byDocument = new Map<string, DocumentMessage[]>();
  for (const { documentId, message } of messages) byDocument.set(documentId, [...(byDocument.get(documentId) ?? []), message]);
  const changes: ProjectedChange[] = [];
  for (const [documentId, list] of byDocument) {
    const { before, after } = await update(store, documentId, now, (state) => list.reduce(applyMessage, state));
    changes.push({ documentId, before: statesOf(before), after: statesOf(after) });
  }
  return changes;
}

export async function expectStage(
  store: DocumentStore,
  documentId: string,
  stage: Stage,
  expectedBy: string,
  now: string,
): Promise<DocumentView> {
  const { after } = await update(store, documentId, now, (state) => expectAnswer(state, stage, expectedBy));
  return viewOf(after);
}

export async function getDocument(store: DocumentStore, documentId: string): Promise<DocumentView | undefined> {
  const found = await store.get(documentId);
  return found ? viewOf(found.state) : undefined;
}

/** `since` is a duration (`1d`) or an ISO time; default: the last day. */
export function sinceTime(since: string | undefined, now: Date): string | undefined {
  if (since === undefined || since === '') return new Date(now.getTime() - 86_400_000).toISOString();
  const ms = parseDuration(since);
  if (ms !== undefined) return new Date(now.getTime() - ms).toISOString();
  return Number.isNaN(Date.parse(since)) ? undefined : new Date(since).toISOString();
}

export async function listDocuments(
  store: DocumentStore,
  filter: DocumentFilter & { since: string },
  limit = 100,
): Promise<DocumentView[]> {
  const states = await store.list({ since: filter.since, stage: filter.stage, state: filter.state, limit });
  return states.map(viewOf);
}

export async function listSilent(store: DocumentStore, now: string, limit = 1000): Promise<SilentDocument[]> {
  const due = await store.due(now, limit);
  return due.flatMap((state) => silentOf(state, now)).sort((a, b) => a.expectedBy.localeCompare(b.expectedBy));
}
