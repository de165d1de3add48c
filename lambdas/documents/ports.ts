import type { Stage } from '../../contract/documents';
import type { OpenDocument } from '../../contract/ladder';
import type { MessageRecord } from '../ingest/ports';
import type { DocumentState } from './projection';

/*
 * What the document service needs from storage. The DynamoDB adapter implements it against the
 * documents table; tests implement it in memory.
 */

export interface VersionedDocument {
  readonly state: DocumentState;
  /** Optimistic lock: bumped on every write. */
  readonly version: number;
  /** Written by another projection version (or shape): rewrite it even when a message changes nothing. */
  readonly stale?: boolean;
}

export interface DocumentQuery {
  /** Written at or after this ISO time. */
  readonly since: string;
  readonly stage?: Stage;
  readonly state?: string;
  readonly limit: number;
}

export interface DocumentStore {
  get(documentId: string): Promise<VersionedDocument | undefined>;
  /**
   * Writes the document (with its TTL, `state.expiresAt`) if it is still at `expectedVersion` (undefined: it must not exist yet);
   * false when another writer came first (read again and retry).
   */
  save(state: DocumentState, expectedVersion: number | undefined, now: string): Promise<boolean>;
  /** Documents written since a time, optionally in one stage state. */
  list(query: DocumentQuery): Promise<DocumentState[]>;
  /** Documents with an unmet expectation due at or before `now`. */
  due(now: string, limit: number): Promise<DocumentState[]>;
  /**
   * Every stage of a document written since `since` that still waits for a final answer, and since when
   * (the age ladder): read from what the `updated` index projects, no document item.
   */
  waiting(since: string): Promise<OpenDocument[]>;
}

/** One page of the message table, as `reproject` reads it (in any order: the projection does not care). */
export interface StoredMessagePage {
  readonly records: readonly MessageRecord[];
  /** Items on the page that are not message records (written by something else, or damaged): counted, skipped. */
  readonly unreadable: number;
}

/** Every stored message, page by page (the message table, scanned). */
export type StoredMessages = AsyncIterable<StoredMessagePage>;
