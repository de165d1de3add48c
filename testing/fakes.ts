import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DocumentQuery, DocumentStore, VersionedDocument } from '../lambdas/documents/ports';
import { type DocumentState, nextDueOf, statesOf, waitingOf } from '../lambdas/documents/projection';
import type { Stage } from '../contract/documents';
import type { OpenDocument } from '../contract/ladder';
import type { ReceiveDeps } from '../lambdas/handlers/receive-handler';
import {
  type Clock,
  type IngestPorts,
  type MessageQueue,
  type MessageRecord,
  type MessageStore,
  type PayloadRef,
  type PayloadStore,
  type PutResult,
  type RejectedStore,
  type QueueMessage,
  type RejectedRequest,
  type PendingBatch,
  UNREADABLE_RECORD,
} from '../lambdas/ingest/ports';

/** In-memory MessageStore with the same conditional-put semantics as the DynamoDB adapter. */
export class InMemoryStore implements MessageStore {
  readonly records = new Map<string, MessageRecord>();
  calls = { put: 0, mark: 0, find: 0 };
  /** As the DynamoDB adapter's bound; a record is sized as its JSON (close to, and above, its item size). */
  maxRecordBytes = 400 * 1024 - 1024;
  failNextPut?: Error;
  failNextMark?: Error;

  async putIfAbsent(record: MessageRecord): Promise<PutResult> {
    this.calls.put++;
    if (this.failNextPut) throw this.take('failNextPut');
    const existing = this.records.get(record.messageId);
    if (existing) return { created: false, existing };
    this.records.set(record.messageId, record);
    return { created: true };
  }

  async find(messageId: string): Promise<MessageRecord | undefined> {
    this.calls.find++;
    return this.records.get(messageId);
  }

  async markForwarded(messageId: string, forwardedAt: string): Promise<void> {
    this.calls.mark++;
    if (this.failNextMark) throw this.take('failNextMark');
    const record = this.records.get(messageId);
    if (record) this.records.set(messageId, { ...record, state: 'FORWARDED', forwardedAt: record.forwardedAt ?? forwardedAt });
  }

  async markUndeliverable(messageId: string, at: string, refusal: string): Promise<void> {
    this.calls.mark++;
    if (this.failNextMark) throw this.take('failNextMark');
    const record = this.records.get(messageId);
    if (record?.state === 'RECEIVED') this.records.set(messageId, { ...record, state: 'UNDELIVERABLE', undeliverableAt: at, refusal });
  }

  sizeOf(record: MessageRecord): number {
    return Buffer.byteLength(JSON.stringify(record));
  }

  /** Keys of items in the pending set that do not read as a record (what the DynamoDB adapter cannot map). */
  readonly unreadableKeys = new Set<string>();

  async listPending(receivedBefore: string, limit: number): Promise<PendingBatch> {
    const records = [...this.records.values()]
      .filter((r) => r.state === 'RECEIVED' && r.receivedAt < receivedBefore)
      .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt))
      .slice(0, limit);
    return { records, unreadable: [...this.unreadableKeys].slice(0, limit) };
  }

  async setAsideUnreadable(messageId: string, at: string): Promise<void> {
    this.calls.mark++;
    if (this.failNextMark) throw this.take('failNextMark');
    this.unreadableKeys.delete(messageId);
    const record = this.records.get(messageId);
    if (record?.state === 'RECEIVED')
      this.records.set(messageId, { ...record, state: 'UNDELIVERABLE', undeliverableAt: at, refusal: UNREADABLE_RECORD });
  }

  async countPending(): Promise<number> {
    return [...this.records.values()].filter((r) => r.state === 'RECEIVED').length + this.unreadableKeys.size;
  }

  private take(key: 'failNextPut' | 'failNextMark'): Error {
    const error = this[key]!;
    this[key] = undefined;
    return error;
  }
}

/** In-memory FIFO queue that deduplicates by MessageDeduplicationId, as SQS FIFO does within its window. */
export class InMemoryQueue implements MessageQueue {
  readonly sent: QueueMessage[] = [];
  readonly delivered: QueueMessage[] = [];
  private readonly seen = new Set<string>();
  failNextSend?: Error;
  /** Fails every send it returns an error for (a queue down, or one that refuses some messages). */
  failWhen?: (message: QueueMessage) => Error | undefined;
  attempts = 0;

  async send(message: QueueMessage): Promise<void> {
    this.attempts++;
    if (this.failNextSend) {
      const error = this.failNextSend;
      this.failNextSend = undefined;
      throw error;
    }
    const failure = this.failWhen?.(message);
    if (failure) throw failure;
    this.sent.push(message);
    if (!this.seen.has(message.deduplicationId)) {
      this.seen.add(message.deduplicationId);
      this.delivered.push(message);
    }
  }
}

export const fixedClock = (iso = '2026-11-25T10:00:00.000Z'): Clock => ({ now: () => new Date(iso) });

export class InMemoryPayloads implements PayloadStore {
  readonly bucket = 'memory';
  readonly objects = new Map<string, string>();
  puts = 0;
  failNextPut?: Error;

  async put(key: string, body: string, sha256: string): Promise<PayloadRef> {
    this.puts++;
    if (this.failNextPut) {
      const error = this.failNextPut;
      this.failNextPut = undefined;
      throw error;
    }
    this.objects.set(key, body);
    return { bucket: this.bucket, key, size: Buffer.byteLength(body), sha256 };
  }

  async discard(key: string): Promise<void> {
    this.objects.delete(key);
  }
}

export class InMemoryRejectedStore implements RejectedStore {
  readonly kept: RejectedRequest[] = [];
  failNext?: Error;

  async keep(request: RejectedRequest): Promise<string> {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.kept.push(request);
    return `rejected/${this.kept.length}`;
  }
}

/** Instant ports: fresh in-memory store, queue and bucket, the real clock unless given one. */
export function inMemoryPorts(
  clock: Clock = { now: () => new Date() },
): IngestPorts & { store: InMemoryStore; queue: InMemoryQueue; payloads: InMemoryPayloads } {
  return { store: new InMemoryStore(), queue: new InMemoryQueue(), payloads: new InMemoryPayloads(), clock };
}

/** Everything the receive handler needs, in memory, logs silent unless overridden. */
export function inMemoryReceiveDeps(overrides: Partial<ReceiveDeps> = {}): ReceiveDeps & { rejectedStore: InMemoryRejectedStore } {
  return {
    ports: inMemoryPorts(),
    rejectedStore: new InMemoryRejectedStore(),
    settings: { site: 'test', retentionDays: 1, maxInlinePayloadBytes: 200 * 1024 },
    maxBodyBytes: 4 * 1024 * 1024,
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test' }),
    ...overrides,
  } as ReceiveDeps & { rejectedStore: InMemoryRejectedStore };
}

/** In-memory DocumentStore with the adapter's optimistic-lock semantics; `racer` writes between a read and a save. */
export class InMemoryDocumentStore implements DocumentStore {
  readonly documents = new Map<string, { state: DocumentState; version: number; writtenAt: string }>();
  saves = 0;
  conflicts = 0;
  racer?: () => void;

  async get(documentId: string): Promise<VersionedDocument | undefined> {
    const found = this.documents.get(documentId);
    return found ? { state: found.state, version: found.version } : undefined;
  }

  async save(state: DocumentState, expectedVersion: number | undefined, now: string): Promise<boolean> {
    const racer = this.racer;
    this.racer = undefined;
    racer?.();
    const current = this.documents.get(state.documentId);
    if (current?.version !== expectedVersion) {
      this.conflicts++;
      return false;
    }
    this.saves++;
    this.documents.set(state.documentId, { state, version: (expectedVersion ?? 0) + 1, writtenAt: now });
    return true;
  }

  async list(query: DocumentQuery): Promise<DocumentState[]> {
    return [...this.documents.values()]
      .filter((d) => d.writtenAt >= query.since)
      .filter(
        (d) =>
          !query.stage || (query.state ? statesOf(d.state)[query.stage] === query.state : statesOf(d.state)[query.stage] !== undefined),
      )
      .map((d) => d.state)
      .slice(0, query.limit);
  }

  async due(now: string, limit: number): Promise<DocumentState[]> {
    return [...this.documents.values()]
      .filter((d) => (nextDueOf(d.state) ?? '~') <= now)
      .map((d) => d.state)
      .slice(0, limit);
  }

  async waiting(since: string): Promise<OpenDocument[]> {
    return [...this.documents.values()]
      .filter((d) => d.writtenAt >= since)
      .flatMap((d) =>
        Object.entries(waitingOf(d.state, d.writtenAt)).map(([stage, at]) => ({
          documentId: d.state.documentId,
          stage: stage as Stage,
          since: at,
        })),
      );
  }
}
