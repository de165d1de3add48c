import type { Stage } from '../contract/documents';
import type { DocumentState } from './projection';

/*
 * What the document service needs from storage. The DynamoDB adapter implements it against the
 * documents table; tests implement it in memory.
 */

export interface VersionedDocument {
  readonly state: DocumentState;
  /** Optimistic lock: bumped on every write. */
  readonly version: number;
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
   * Writes the document if it is still at `expectedVersion` (undefined: it must not exist yet);
   * false when another writer came first (read again and retry).
   */
  save(state: DocumentState, expectedVersion: number | undefined, now: string): Promise<boolean>;
  /** Documents written since a time, optionally in one stage state. */
  list(query: DocumentQuery): Promise<DocumentState[]>;
  /** Documents with an unmet expectation due at or before `now`. */
  due(now: string, limit: number): Promise<DocumentState[]>;
}
