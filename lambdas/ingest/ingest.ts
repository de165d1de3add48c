import { QueueUnavailableError } from '../errors';
import type { ParsedMessage } from '../protocol/catalog';
import { canonicalJson, payloadKey, sha256, toQueueMessage } from './envelope';
import type { IngestPorts, MessageRecord, PayloadRef } from './ports';

/*
 * The whole delivery rule, over ports:
 *   0. a payload too large to keep inline goes to the bucket first, under a key that names
 *      its content, so a record never points at an object that is not there — unless a record
 *      with its MessageId exists already (one strong read), so a re-send never uploads it again;
 *   1. conditional put of the record (RECEIVED) keyed by MessageId: the idempotency gate;
 *   2. send the envelope to the FIFO queue (deduplicated by MessageId);
 *   3. mark the record FORWARDED.
 * Once 1 succeeded the message is ours: a failed send is `deferred` (Success to the sender,
 * the reconciler forwards it). A re-send of a FORWARDED message costs one conditional put (a small
 * record: payloads above the inline limit live in the bucket, so the failed put is billed 1 unit).
 * A re-send that finds the record still RECEIVED forwards again: FIFO deduplication keeps
 * the queue single, and a Success ack then means "on the queue, or pending for the reconciler".
 */

export interface IngestSettings {
  readonly site: string;
  readonly retentionDays: number;
  /** Largest canonical payload kept inline in the record and the queue message. */
  readonly maxInlinePayloadBytes: number;
}

export interface Forwarding {
  /** On the queue now; false: the send failed and the record waits for the reconciler. */
  readonly forwarded: boolean;
  /** Marked FORWARDED; false: the mark failed, the next delivery or the reconciler marks it. */
  readonly marked: boolean;
}

export type IngestOutcome =
  | { readonly kind: 'accepted'; readonly record: MessageRecord; readonly forwarding: Forwarding }
  | { readonly kind: 'duplicate'; readonly record: MessageRecord; readonly forwarding: Forwarding | undefined }
  | { readonly kind: 'conflict'; readonly record: MessageRecord };

export async function ingest(message: ParsedMessage, ports: IngestPorts, settings: IngestSettings): Promise<IngestOutcome> {
  const now = ports.clock.now();
  const payload = canonicalJson(message.payload);
  const payloadHash = sha256(payload);
  const payloadBytes = Buffer.byteLength(payload, 'utf8');

  let payloadRef: PayloadRef | undefined;
  if (payloadBytes > settings.maxInlinePayloadBytes) {
    const known = await ports.store.find(message.messageId);
    if (known) return settle(known, payloadHash, ports);
    const key = payloadKey(settings.site, message.type, now, message.messageId, payloadHash);
    payloadRef = await ports.payloads.put(key, payload, payloadHash);
  }

  const record: MessageRecord = {
    messageId: message.messageId,
    state: 'RECEIVED',
    messageType: message.type,
    site: settings.site,
    lpu: message.lpu,
    status: message.status,
    documentKey: message.documentKey,
    payloadHash,
    ...(payloadRef ? { payloadRef, facts: factsOf(message.payload) } : { payload }),
    payloadBytes,
    receivedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + settings.retentionDays * 86_400,
  };

  const put = await ports.store.putIfAbsent(record);
  if (put.created) return { kind: 'accepted', record, forwarding: await forward(record, ports) };

  const existing = put.existing;
  // Ours is not the object of record (other content, or a re-send on another day): nothing will point at it.
  if (payloadRef && payloadRef.key !== existing.payloadRef?.key) await ports.payloads.discard(payloadRef.key);
  return settle(existing, payloadHash, ports);
}

/** Fields longer than this are bodies (a CDA, a file), not facts. */
const FACT_MAX_CHARS = 1024;

export function factsOf(payload: Readonly<Record<string, unknown>>): string {
  return canonicalJson(
    Object.fromEntries(Object.entries(payload).filter(([, v]) => !(typeof v === 'string' && v.length > FACT_MAX_CHARS))),
  );
}

/** A record with this MessageId exists: the same content is a duplicate (forwarded again if still pending), other content a conflict. */
async function settle(existing: MessageRecord, payloadHash: string, ports: IngestPorts): Promise<IngestOutcome> {
  if (existing.payloadHash !== payloadHash) return { kind: 'conflict', record: existing };
  if (existing.state === 'FORWARDED') return { kind: 'duplicate', record: existing, forwarding: undefined };
  return { kind: 'duplicate', record: existing, forwarding: await forward(existing, ports) };
}

/**
 * Sends, then marks. Only the queue being unavailable is tolerated here: the record is
 * durable and listed as pending, so the reconciler will send it. Anything else is a bug.
 */
export async function forward(record: MessageRecord, ports: Pick<IngestPorts, 'store' | 'queue' | 'clock'>): Promise<Forwarding> {
  try {
    await ports.queue.send(toQueueMessage(record));
  } catch (error) {
    if (error instanceof QueueUnavailableError) return { forwarded: false, marked: false };
    throw error;
  }
  try {
    // The message is on the queue: failing the ack now would only cause a needless re-send.
    await ports.store.markForwarded(record.messageId, ports.clock.now().toISOString());
    return { forwarded: true, marked: true };
  } catch {
    return { forwarded: true, marked: false };
  }
}
