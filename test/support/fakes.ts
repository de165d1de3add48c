import type { Clock, MessageQueue, MessageRecord, MessageStore, PutResult, QueueMessage } from '../../lambdas/ingest/ports';

/** In-memory MessageStore with the same conditional-put semantics as the DynamoDB adapter. */
export class InMemoryStore implements MessageStore {
  readonly records = new Map<string, MessageRecord>();
  calls = { put: 0, mark: 0 };
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

  async markForwarded(messageId: string, forwardedAt: string): Promise<void> {
    this.calls.mark++;
    if (this.failNextMark) throw this.take('failNextMark');
    const record = this.records.get(messageId);
    if (record) this.records.set(messageId, { ...record, state: 'FORWARDED', forwardedAt: record.forwardedAt ?? forwardedAt });
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
  failNextSend?: Error;

  async send(message: QueueMessage): Promise<void> {
    if (this.failNextSend) {
      const error = this.failNextSend;
      this.failNextSend = undefined;
      throw error;
    }
    this.sent.push(message);
    if (!this.delivered.some((m) => m.deduplicationId === message.deduplicationId)) this.delivered.push(message);
  }
}

export const fixedClock = (iso = '2026-11-25T10:00:00.000Z'): Clock => ({ now: () => new Date(iso) });
