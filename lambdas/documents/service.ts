import type { DocumentFilter, DocumentView, SilentDocument, Stage } from '../../contract/documents';
import { isDocumentId, parseDuration } from '../../contract/documents';
import { type Ladder, ladderOf } from '../../contract/ladder';
import type { DocumentStore, StoredMessages } from './ports';
import {
  applyMessage,
  type DocumentMessage,
  type DocumentState,
  emptyDocument,
  expectAnswer,
  silentOf,
  statesOf,
  storedMessageOf,
  viewOf,
} from './projection';

/*
 * The document service over its port: every write is read → derive → conditional write, retried when
 * another writer (a projector on another stream shard, an `expect` call, `reproject`) came first. The
 * projection is pure (projection.ts); this only moves it in and out of storage.
 */

const MAX_ATTEMPTS = 20;
const DAY_MS = 86_400_000;

/**
 * A document write that kept losing to other writers: the caller fails and is retried as a whole.
 * It names no document: errors reach logs, and a document id is the MIS's, about a patient.
 */
export class DocumentContentionError extends Error {
  constructor() {
    super(`document write lost to other writers ${MAX_ATTEMPTS} times in a row`);
    this.name = 'DocumentContentionError';
  }
}

async function update(
  store: DocumentStore,
  documentId: string,
  now: string,
  change: (state: DocumentState) => DocumentState,
): Promise<{ before: DocumentState; after: DocumentState; written: boolean }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await store.get(documentId);
    const before = current?.state ?? emptyDocument(documentId);
    const after = change(before);
    // Nothing new, and stored in the current shape: no write (a re-sent message costs one read).
    if (current && !current.stale && after === before) return { before, after, written: false };
    if (await store.save(after, current?.version, now)) return { before, after, written: true };
  }
  throw new DocumentContentionError();
}

export interface ProjectedChange {
  readonly documentId: string;
  /** Stage states before and after, for metrics (e.g. REMD registrations a day). */
  readonly before: Partial<Record<Stage, string>>;
  readonly after: Partial<Record<Stage, string>>;
  /** Whether the document was written (false: it already had every message). */
  readonly written: boolean;
}

export interface ProjectResult {
  readonly changes: readonly ProjectedChange[];
  /** Messages whose document id cannot name a document (see `isDocumentId`): not projected. */
  readonly skipped: number;
}

/**
 * Applies stored messages to their documents (any order, any repetition: the result is the same),
 * `concurrency` documents at a time.
 */
export async function project(
  store: DocumentStore,
  messages: ReadonlyArray<{ readonly documentId: string; readonly message: DocumentMessage }>,
  now: string,
  concurrency = 4,
): Promise<ProjectResult> {
  const byDocument = new Map<string, DocumentMessage[]>();
  let skipped = 0;
  for (const { documentId, message } of messages) {
    // A key DynamoDB cannot take would fail the whole batch on every retry.
    if (!isDocumentId(documentId)) {
      skipped++;
      continue;
    }
    const list = byDocument.get(documentId);
    if (list) list.push(message);
    else byDocument.set(documentId, [message]);
  }
  const changes = await inParallel([...byDocument], concurrency, async ([documentId, list]) => {
    const { before, after, written } = await update(store, documentId, now, (state) => list.reduce(applyMessage, state));
    return { documentId, before: statesOf(before), after: statesOf(after), written };
  });
  return { changes, skipped };
}

export async function expectStage(
  store: DocumentStore,
  documentId: string,
  stage: Stage,
  expectedBy: string,
  now: string,
  retentionDays: number,
): Promise<DocumentView> {
  const { after } = await update(store, documentId, now, (state) => expectAnswer(state, stage, expectedBy, retentionDays));
  return viewOf(after);
}

export async function getDocument(store: DocumentStore, documentId: string): Promise<DocumentView | undefined> {
  const found = await store.get(documentId);
  return found ? viewOf(found.state) : undefined;
}

/** `since` is a duration (`1d`) or an ISO time; default: the last day. */
export function sinceTime(since: string | undefined, now: Date): string | undefined {
  if (since === undefined || since === '') return new Date(now.getTime() - DAY_MS).toISOString();
  const ms = parseDuration(since);
  if (ms !== undefined) return new Date(now.getTime() - ms).toISOString();
  return Number.isNaN(Date.parse(since)) ? undefined : new Date(since).toISOString();
}

/** The earliest `since` worth asking for: nothing older is kept (documents expire `retentionDays` after their news). */
export const earliestSince = (now: Date, retentionDays: number): string => new Date(now.getTime() - retentionDays * DAY_MS).toISOString();

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

/**
 * The age ladder of every document still waiting for a final answer, over everything the site keeps (its
 * retention): one read of the `updated` index's keys and stage states per (day, shard), no document item.
 */
export async function waitingLadder(store: DocumentStore, now: Date, retentionDays: number): Promise<Ladder> {
  return ladderOf(await store.waiting(earliestSince(now, retentionDays)), now);
}

export interface ReprojectProgress {
  /** Message records read. */
  readonly messages: number;
  /** Document writes (a document whose messages span pages may be written once per page). */
  readonly written: number;
  /** Documents that already had every message they were given, in the current shape. */
  readonly unchanged: number;
  /** Messages whose document id cannot name a document. */
  readonly skipped: number;
  /** Items that are not message records. */
  readonly unreadable: number;
}

/**
 * Rebuilds documents from every stored message, e.g. after the projector gave up on a stream batch, or
 * after a projection change (a document written by another `PROJECTION_VERSION` is rewritten). The
 * projection is order-independent and idempotent, so pages are applied as they come, beside the live
 * projector (both write under the optimistic lock), and a second run writes nothing.
 */
export async function reproject(
  sources: readonly StoredMessages[],
  store: DocumentStore,
  options: { now: () => string; concurrency?: number; onProgress?: (progress: ReprojectProgress) => void },
): Promise<ReprojectProgress> {
  const progress = { messages: 0, written: 0, unchanged: 0, skipped: 0, unreadable: 0 };
  // One reader per source (a scan segment), all at once.
  await Promise.all(sources.map((source) => applyPages(source, store, progress, options)));
  return progress;
}

async function applyPages(
  source: StoredMessages,
  store: DocumentStore,
  progress: { -readonly [K in keyof ReprojectProgress]: number },
  options: { now: () => string; concurrency?: number; onProgress?: (progress: ReprojectProgress) => void },
): Promise<void> {
  for await (const page of source) {
    const messages: Array<{ documentId: string; message: DocumentMessage }> = [];
    for (const record of page.records) {
      try {
        messages.push(storedMessageOf(record));
      } catch {
        progress.unreadable++; // a payload that is not JSON: nothing to project
      }
    }
    const { changes, skipped } = await project(store, messages, options.now(), options.concurrency ?? 16);
    progress.messages += page.records.length;
    progress.unreadable += page.unreadable;
    progress.skipped += skipped;
    for (const change of changes) change.written ? progress.written++ : progress.unchanged++;
    options.onProgress?.({ ...progress });
  }
}

/** Runs `work` over `items`, at most `limit` at once, results in the items' order. */
async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
