import type { PayloadRef } from '../contract/envelope';
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
  /** Canonical JSON of the normalised payload, when small enough to keep inline… */
  readonly payload?: string;
  /** …or where it was put instead (claim check), when it is not. */
  readonly payloadRef?: PayloadRef;
  /**
   * With a claim check: the payload's small fields (canonical JSON, long strings such as CDA or Data
   * left out), so that the document projection reads them from the record, not from the bucket.
   */
  readonly facts?: string;
  readonly payloadBytes: number;
  readonly receivedAt: string;
  readonly forwardedAt?: string;
  /** Epoch seconds: DynamoDB TTL. */
  readonly expiresAt: number;
}

export type { PayloadRef };

export type PutResult = { readonly created: true } | { readonly created: false; readonly existing: MessageRecord };

export interface MessageStore {
  /** Writes the record unless one with its MessageId exists; then returns that one instead. */
  putIfAbsent(record: MessageRecord): Promise<PutResult>;
  /** The record with this MessageId, read strongly, or undefined. */
  find(messageId: string): Promise<MessageRecord | undefined>;
  /** RECEIVED → FORWARDED; harmless when already forwarded. */
  markForwarded(messageId: string, forwardedAt: string): Promise<void>;
  /** Records still RECEIVED since before `receivedBefore`, oldest first. */
  listPending(receivedBefore: string, limit: number): Promise<MessageRecord[]>;
  /** How many records are RECEIVED, whatever their age. */
  countPending(): Promise<number>;
}

/** The bucket for payloads too large to keep inline. */
export interface PayloadStore {
  /** Writes the object under its content-addressed key; writing the same again is harmless. */
  put(key: string, body: string, sha256: string): Promise<PayloadRef>;
  /** Best effort: removes an object that no record will ever point at. */
  discard(key: string): Promise<void>;
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
  readonly payloads: PayloadStore;
  readonly clock: Clock;
}

/** A request the endpoint rejected, kept as it came for someone to look at. */
export interface RejectedRequest {
  readonly receivedAt: string;
  readonly requestId: string;
  readonly httpStatus: number;
  readonly code: string;
  readonly reason: string;
  readonly messageType: string | undefined;
  readonly messageId: string;
  readonly method: string;
  readonly sourceIp: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly bodyBytes: number;
  readonly bodyTruncated: boolean;
  readonly bodyBase64: string;
}

export interface RejectedStore {
  /** Keeps the request; returns where. */
  keep(request: RejectedRequest): Promise<string>;
}
