import { PayloadTooLargeError } from '../errors';
import type { ParsedMessage } from '../protocol/catalog';
import { canonicalJson, sha256, toQueueMessage } from './envelope';
import type { IngestPorts, MessageRecord } from './ports';

/*
 * The whole delivery rule, over ports:
 *   1. conditional put of the record (RECEIVED) keyed by MessageId: the idempotency gate;
 *   2. send the envelope to the FIFO queue (deduplicated by MessageId);
 *   3. mark the record FORWARDED.
 * A re-send of a FORWARDED message costs one conditional put. A re-send that finds the
 * record still RECEIVED (an earlier attempt died between 1 and 3, or is still running)
 * forwards again: FIFO deduplication keeps the queue single, and a Success ack then
 * always means "it is on the queue".
 */

export interface IngestSettings {
  readonly site: string;
  readonly retentionDays: number;
  /** Largest canonical payload kept inline in the record and the queue message. */
  readonly maxInlinePayloadBytes: number;
}

export type IngestOutcome =
  | { readonly kind: 'accepted'; readonly record: MessageRecord; readonly markedForwarded: boolean }
  | { readonly kind: 'duplicate'; readonly record: MessageRecord; readonly reforwarded: boolean; readonly markedForwarded: boolean }
  | { readonly kind: 'conflict'; readonly record: MessageRecord };

export async function ingest(message: ParsedMessage, ports: IngestPorts, settings: IngestSettings): Promise<IngestOutcome> {
  const record = newRecord(message, ports.clock.now(), settings);
  if (record.payloadBytes > settings.maxInlinePayloadBytes) {
    throw new PayloadTooLargeError(record.payloadBytes, settings.maxInlinePayloadBytes);
  }

  const put = await ports.store.putIfAbsent(record);
  if (put.created) {
    return { kind: 'accepted', record, markedForwarded: await forward(record, ports) };
  }

  const existing = put.existing;
  if (existing.payloadHash !== record.payloadHash) return { kind: 'conflict', record: existing };
  if (existing.state === 'FORWARDED') {
    return { kind: 'duplicate', record: existing, reforwarded: false, markedForwarded: true };
  }
  return { kind: 'duplicate', record: existing, reforwarded: true, markedForwarded: await forward(existing, ports) };
}

/** Sends, then marks. A failed send propagates (the sender retries); a failed mark does not. */
async function forward(record: MessageRecord, ports: IngestPorts): Promise<boolean> {
  await ports.queue.send(toQueueMessage(record));
  try {
    // The message is on the queue: failing the ack now would only cause a needless re-send.
    // The record stays RECEIVED and the next delivery or the reconciler marks it.
    await ports.store.markForwarded(record.messageId, ports.clock.now().toISOString());
    return true;
  } catch {
    return false;
  }
}

function newRecord(message: ParsedMessage, now: Date, settings: IngestSettings): MessageRecord {
  const payload = canonicalJson(message.payload);
  return {
    messageId: message.messageId,
    state: 'RECEIVED',
    messageType: message.type,
    site: settings.site,
    lpu: message.lpu,
    status: message.status,
    documentKey: message.documentKey,
    payloadHash: sha256(payload),
    payload,
    payloadBytes: Buffer.byteLength(payload, 'utf8'),
    receivedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + settings.retentionDays * 86_400,
  };
}
