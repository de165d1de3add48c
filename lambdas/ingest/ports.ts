import type { PayloadRef, Simulation } from '../../contract/envelope';
import type { MessageType } from '../../contract/catalog';
import type { Status } from '../../contract/fields';

/*
 * What the ingest core needs from the outside world. Adapters in ../adapters implement
 * these against AWS; tests implement them in memory. Only adapters import the AWS SDK.
 */

/**
 * RECEIVED: stored, pending until forwarded. FORWARDED: on the queue. UNDELIVERABLE: the queue refused
 * it for what it is (never for being down); kept, out of the pending set, so it never holds others up.
 */
export type RecordState = 'RECEIVED' | 'FORWARDED' | 'UNDELIVERABLE';

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
  /** UNDELIVERABLE: when, and the queue's error code (e.g. InvalidMessageContents). */
  readonly undeliverableAt?: string;
  readonly refusal?: string;
  /** Epoch seconds: DynamoDB TTL. */
  readonly expiresAt: number;
  /** Sent by `n3-callback simulate` (header X-N3-Simulation): the envelope says so, for the MIS to drop it. */
  readonly simulation?: Simulation;
  /** Let in by `n3-callback rejected readmit` (then `receivedAt` is the readmission): what was rejected, and when it came. */
  readonly readmitted?: Readmission;
}

/** A rejected request run through the ingest again, later: the kept request's key and its first arrival. */
export interface Readmission {
  /** The bucket key it was kept under (`rejected/…`). */
  readonly from: string;
  /** When it first arrived (and was rejected), ISO. */
  readonly arrivedAt: string;
}

export type { PayloadRef, Simulation };

export type PutResult = { readonly created: true } | { readonly created: false; readonly existing: MessageRecord };

export interface MessageStore {
  /** Writes the record unless one with its MessageId exists; then returns that one instead. */
  putIfAbsent(record: MessageRecord): Promise<PutResult>;
  /** The record with this MessageId, read strongly, or undefined. */
  find(messageId: string): Promise<MessageRecord | undefined>;
  /** RECEIVED → FORWARDED; harmless when already forwarded. */
  markForwarded(messageId: string, forwardedAt: string): Promise<void>;
  /** RECEIVED → UNDELIVERABLE, out of the pending set; a record already forwarded stays so. */
  markUndeliverable(messageId: string, at: string, refusal: string): Promise<void>;
  /** The record's size as the store counts it, against `maxRecordBytes`: larger ones cannot be written. */
  sizeOf(record: MessageRecord): number;
  readonly maxRecordBytes: number;
  /**
   * Records still RECEIVED since before `receivedBefore`, oldest first; and the keys of items in the pending set
   * that do not read as a record (an attribute missing or of the wrong type): never forwardable as they are.
   */
  listPending(receivedBefore: string, limit: number): Promise<PendingBatch>;
  /**
   * Takes an item that is in the pending set but cannot be forwarded as it is (`unreadable`) out of it, marked
   * UNDELIVERABLE with the refusal UNREADABLE_RECORD, so it is not read again every run; nothing else is changed.
   */
  setAsideUnreadable(messageId: string, at: string): Promise<void>;
  /** How many records are RECEIVED, whatever their age. */
  countPending(): Promise<number>;
}

export interface PendingBatch {
  readonly records: MessageRecord[];
  /** Keys (MessageIds as stored) of pending items that do not read as a record. */
  readonly unreadable: string[];
}

/** The `refusal` of a pending record set aside because it cannot be forwarded as stored (not the queue's code). */
export const UNREADABLE_RECORD = 'UnreadableRecord';

/** The bucket for payloads too large to keep inline. */
export interface PayloadStore {
  /** Where `put` writes: known before writing, so a record can be sized before its payload is uploaded. */
  readonly bucket: string;
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
