import { QueueRefusedError, QueueUnavailableError, RecordTooLargeError } from '../../contract/errors';
import { knownFields, type MessageType, type ParsedMessage } from '../../contract/catalog';
import { canonicalJson, payloadKey, sha256, toQueueMessage } from './envelope';
import type { IngestPorts, MessageRecord, MessageStore, PayloadRef, PutResult, QueueMessage, Simulation } from './ports';

/*
 * The whole delivery rule, over ports:
 *   0. the record is sized first: one that cannot fit the store is refused (413) before anything
 *      is written, so the sender gets one final answer and the bucket no object;
 *   1. a payload too large to keep inline goes to the bucket first, under a key that names
 *      its content, so a record never points at an object that is not there — unless a record
 *      with its MessageId exists already (one strong read), so a re-send never uploads it again;
 *   2. conditional put of the record (RECEIVED) keyed by MessageId: the idempotency gate;
 *   3. send the envelope to the FIFO queue (deduplicated by MessageId);
 *   4. mark the record FORWARDED.
 * Once 2 succeeded the message is ours: a send that failed because the queue is unavailable is
 * `deferred` (Success to the sender, the reconciler forwards it). A send the queue refuses for what
 * the message is can never succeed: the record is marked UNDELIVERABLE and the sender told so
 * (Failed), because a Success ack must mean the message can reach the queue.
 * A MessageId names one message of one type: the same id under another type is a conflict. A re-send of a FORWARDED message costs one conditional put (a small
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
  /** On the queue now; false: the send failed (or was refused) and the message is not on the queue. */
  readonly forwarded: boolean;
  /**
   * Marked FORWARDED (UNDELIVERABLE after a refusal); false: the mark failed, and the next delivery or
   * the reconciler marks it.
   */
  readonly marked: boolean;
  /** The queue refused the message for good: its error code. */
  readonly refusal?: string;
}

export type IngestOutcome =
  | { readonly kind: 'accepted'; readonly record: MessageRecord; readonly forwarding: Forwarding }
  | { readonly kind: 'duplicate'; readonly record: MessageRecord; readonly forwarding: Forwarding | undefined }
  /** `simulation`: one copy marked by the simulator and the other not (or another run): see contract/envelope.ts. */
  | { readonly kind: 'conflict'; readonly record: MessageRecord; readonly on: 'content' | 'type' | 'simulation' }
  /** Refused by the queue now (`forwarding`), or before (a re-send of an UNDELIVERABLE record: undefined). */
  | { readonly kind: 'undeliverable'; readonly record: MessageRecord; readonly forwarding: Forwarding | undefined };

/** What the request said of the message beside its body: today only the simulator's mark. */
export interface IngestMarks {
  readonly simulation?: Simulation;
}

export async function ingest(
  message: ParsedMessage,
  ports: IngestPorts,
  settings: IngestSettings,
  marks: IngestMarks = {},
): Promise<IngestOutcome> {
  const now = ports.clock.now();
  const payload = canonicalJson(message.payload);
  const payloadHash = sha256(payload);
  const payloadBytes = Buffer.byteLength(payload, 'utf8');

  let payloadRef: PayloadRef | undefined;
  if (payloadBytes > settings.maxInlinePayloadBytes) {
    const known = await ports.store.find(message.messageId);
    if (known) return settle(known, message.type, payloadHash, marks, ports);
    const key = payloadKey(settings.site, message.type, now, message.messageId, payloadHash);
    payloadRef = { bucket: ports.payloads.bucket, key, size: payloadBytes, sha256: payloadHash };
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
    ...(payloadRef ? { payloadRef, facts: factsOf(message.type, message.payload) } : { payload }),
    payloadBytes,
    receivedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + settings.retentionDays * 86_400,
    ...(marks.simulation ? { simulation: { runId: marks.simulation.runId } } : {}),
  };
  assertFits(record, message, ports.store);
  if (payloadRef) await ports.payloads.put(payloadRef.key, payload, payloadHash);

  let put: PutResult;
  try {
    put = await ports.store.putIfAbsent(record);
  } catch (error) {
    // Refused for its size (the sizing above missed): no delivery of this content can ever be written, so
    // nothing will point at the object. After any other failure it stays: a delivery of the same message
    // running now may have written a record pointing at this very key, and the sender's retry reuses it.
    if (payloadRef && error instanceof RecordTooLargeError) await ports.payloads.discard(payloadRef.key);
    throw error;
  }
  if (put.created) {
    const forwarding = await forward(record, ports);
    if (forwarding.refusal === undefined) return { kind: 'accepted', record, forwarding };
    return { kind: 'undeliverable', record: forwarding.marked ? { ...record, state: 'UNDELIVERABLE' } : record, forwarding };
  }

  const existing = put.existing;
  // Ours is not the object of record (other content, or a re-send on another day): nothing will point at it.
  if (payloadRef && payloadRef.key !== existing.payloadRef?.key) await ports.payloads.discard(payloadRef.key);
  return settle(existing, message.type, payloadHash, marks, ports);
}

/** Fields longer than this are bodies (a CDA, a file), not facts. */
const FACT_MAX_CHARS = 1024;
/**
 * Room in the facts for the fields the sender added beyond its table: the whole payload is in the
 * bucket anyway, and without a bound 600 KB of small extras would make a record no store can hold.
 */
export const FACT_EXTRAS_MAX_BYTES = 8 * 1024;

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * With a claim check, what the record keeps of the payload for the document projection: the table's
 * fields (bodies such as CDA and Data left out), then extras in key order as far as their budget goes.
 */
export function factsOf(type: MessageType, payload: Readonly<Record<string, unknown>>): string {
  const known = new Set(knownFields(type));
  const kept: Array<[string, unknown]> = [];
  let extras = 0;
  for (const [name, value] of Object.entries(payload).sort(byKey)) {
    if (known.has(name)) {
      if (!(typeof value === 'string' && value.length > FACT_MAX_CHARS)) kept.push([name, value]);
      continue;
    }
    const bytes = Buffer.byteLength(JSON.stringify(name)) + Buffer.byteLength(canonicalJson(value) ?? '') + 2;
    if (extras + bytes > FACT_EXTRAS_MAX_BYTES) continue;
    extras += bytes;
    kept.push([name, value]);
  }
  // fromEntries defines each key as data, so a field named "__proto__" stays a field.
  return canonicalJson(Object.fromEntries(kept));
}

/**
 * Refuses, before anything is written, a record the store could never hold, naming the table's field
 * that takes the most room (only the table's: an extra field's name is the sender's text).
 */
function assertFits(record: MessageRecord, message: ParsedMessage, store: MessageStore): void {
  const size = store.sizeOf(record);
  if (size <= store.maxRecordBytes) return;
  let largest: string | undefined;
  let largestBytes = 0;
  for (const field of knownFields(message.type)) {
    const bytes = Buffer.byteLength(JSON.stringify(message.payload[field]) ?? '');
    if (bytes > largestBytes) [largest, largestBytes] = [field, bytes];
  }
  throw new RecordTooLargeError(size, store.maxRecordBytes, largest);
}

/**
 * A record with this MessageId exists: the same type and content is a duplicate (forwarded again if still
 * pending), another type or other content a conflict; one the queue refused stays refused.
 */
async function settle(
  existing: MessageRecord,
  type: MessageType,
  payloadHash: string,
  marks: IngestMarks,
  ports: IngestPorts,
): Promise<IngestOutcome> {
  if (existing.messageType !== type) return { kind: 'conflict', record: existing, on: 'type' };
  if (existing.payloadHash !== payloadHash) return { kind: 'conflict', record: existing, on: 'content' };
  // Else a simulator's copy sent first would turn the real message into a silent duplicate the MIS drops.
  if (existing.simulation?.runId !== marks.simulation?.runId) return { kind: 'conflict', record: existing, on: 'simulation' };
  if (existing.state === 'FORWARDED') return { kind: 'duplicate', record: existing, forwarding: undefined };
  if (existing.state === 'UNDELIVERABLE') return { kind: 'undeliverable', record: existing, forwarding: undefined };
  const forwarding = await forward(existing, ports);
  if (forwarding.refusal === undefined) return { kind: 'duplicate', record: existing, forwarding };
  return { kind: 'undeliverable', record: forwarding.marked ? { ...existing, state: 'UNDELIVERABLE' } : existing, forwarding };
}

/**
 * Sends, then marks. The queue being unavailable is tolerated: the record is durable and listed as
 * pending, so the reconciler will send it. The queue refusing the message marks it UNDELIVERABLE (out of
 * the pending set: trying again cannot help). Anything else is a bug.
 */
export async function forward(
  record: MessageRecord,
  ports: Pick<IngestPorts, 'store' | 'queue' | 'clock'>,
  message: QueueMessage = toQueueMessage(record),
): Promise<Forwarding> {
  try {
    await ports.queue.send(message);
  } catch (error) {
    if (error instanceof QueueUnavailableError) return { forwarded: false, marked: false };
    if (error instanceof QueueRefusedError)
      return { forwarded: false, marked: await markUndeliverable(record, error.refusal, ports), refusal: error.refusal };
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

/** False when the mark failed: the record stays pending, and the next send meets the same refusal and marks it. */
async function markUndeliverable(record: MessageRecord, refusal: string, ports: Pick<IngestPorts, 'store' | 'clock'>): Promise<boolean> {
  try {
    await ports.store.markUndeliverable(record.messageId, ports.clock.now().toISOString(), refusal);
    return true;
  } catch {
    return false;
  }
}
