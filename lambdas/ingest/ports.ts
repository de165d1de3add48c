import type { MessageType } from '../protocol/catalog';
import type { Status } from '../protocol/fields';

/*
 * What the ingest core needs from the outside world. Adapters in ../adapters implement
 * these against AWS; tests implement them in memory. Only adapters import the AWS SDK.
 */

export type RecordState = 'RECEIVED' | 'FORWARDED';

/** The message of record, one per MessageId (lower-cased). */
export interface MessageRecord {
  readonly messageId: string;
  readonly state: RecordState;
  readonly messageType: MessageType;
  readonly site: string;
  readonly lpu: string;
  readonly status: Status;
  readonly documentKey: string;
  /** sha256 of the canonical normalised payload: same id with another hash is a conflict. */
  readonly payloadHash: string;
  /** Canonical JSON of the normalised payload. */
  readonly payload: string;
  readonly payloadBytes: number;
  readonly receivedAt: string;
  readonly forwardedAt?: string;
  /** Epoch seconds: DynamoDB TTL. */
  readonly expiresAt: number;
}

export type PutResult = { readonly created: true } | { readonly created: false; readonly existing: MessageRecord };

export interface MessageStore {
  /** Writes the record unless one with its MessageId exists; then returns that one instead. */
  putIfAbsent(record: MessageRecord): Promise<PutResult>;
  /** RECEIVED → FORWARDED; harmless when already forwarded. */
  markForwarded(messageId: string, forwardedAt: string): Promise<void>;
}

export interface QueueMessage {
  readonly body: string;
  /** FIFO MessageGroupId: keeps one document's news in order. */
  readonly groupId: string;
  /** FIFO MessageDeduplicationId: the MessageId, so re-sends within 5 minutes collapse. */
  readonly deduplicationId: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface MessageQueue {
  send(message: QueueMessage): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface IngestPorts {
  readonly store: MessageStore;
  readonly queue: MessageQueue;
  readonly clock: Clock;
}
