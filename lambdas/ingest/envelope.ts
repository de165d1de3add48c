import { createHash } from 'node:crypto';
import { ENVELOPE_VERSION, type Envelope, type EnvelopeHead, type Redelivery } from '../../contract/envelope';
import type { MessageRecord, QueueMessage } from './ports';

/*
 * Building the envelope (its shape and version: contract/envelope.ts), the canonical form and hash
 * that make a re-send a duplicate, the FIFO group, and where a large payload is kept.
 */

/** Key-sorted JSON: the same message in any key order hashes the same, so a re-send is a duplicate, not a conflict. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

// SQS allows 1-128 printable ASCII characters in a MessageGroupId; MIS document ids may be
// Cyrillic or longer, and those map to a stable hash so the document still keeps one group.
const GROUP_ID = /^[\x21-\x7e]{1,128}$/;
export const groupIdFor = (documentKey: string): string => (GROUP_ID.test(documentKey) ? documentKey : `sha256-${sha256(documentKey)}`);

/**
 * Where a large payload lives: by site, type and day (for lifecycle rules and for people
 * browsing), named by MessageId and content hash, so that an object is never overwritten
 * with other content and every record points at exactly what it accepted.
 */
export function payloadKey(site: string, type: string, receivedAt: Date, messageId: string, hash: string): string {
  const day = receivedAt.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${site}/${type}/${day}/${messageId}.${hash}.json`;
}

/*
 * SQS takes only #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF in a body. JSON.stringify
 * already escapes control characters and lone surrogates; the noncharacters U+FFFE and U+FFFF it leaves
 * raw. Those are escaped here, and so is every character beyond the BMP (as its two UTF-16 escapes):
 * AWS takes those raw, but SQS-compatible services need not (fauxqs, which `npm start` runs, refuses
 * them). Every escape is the same data to any JSON consumer. One pass, linear.
 */
const SQS_UNSAFE_IN_JSON = /[\uD800-\uDFFF\uFFFE\uFFFF]/g;
const escapeForSqs = (json: string): string => json.replace(SQS_UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The record's queue message. With `redelivery` (`n3-callback replay`), the same envelope plus that field, in the
 * same group, under a deduplication id of its own (contract/envelope.ts, Redelivery).
 */
export function toQueueMessage(record: MessageRecord, redelivery?: Redelivery): QueueMessage {
  const head: EnvelopeHead = {
    version: ENVELOPE_VERSION,
    site: record.site,
    messageType: record.messageType,
    messageId: record.messageId,
    receivedAt: record.receivedAt,
    ...(record.simulation ? { simulation: { runId: record.simulation.runId } } : {}),
    ...(redelivery ? { redelivery: { replayId: redelivery.replayId } } : {}),
  };
  const envelope: Envelope = record.payloadRef
    ? { ...head, payloadRef: record.payloadRef }
    : { ...head, payload: JSON.parse(record.payload ?? 'null') as Record<string, unknown> };
  return {
    body: escapeForSqs(JSON.stringify(envelope)),
    groupId: groupIdFor(record.documentKey),
    deduplicationId: redelivery ? redeliveryDeduplicationId(record.messageId, redelivery.replayId) : record.messageId,
    attributes: { MessageType: record.messageType, Lpu: record.lpu, Status: record.status },
  };
}

/** A re-delivery's FIFO deduplication id: never the original's (which SQS would drop within five minutes), the same on every try of one replay. */
export const redeliveryDeduplicationId = (messageId: string, replayId: string): string => `${messageId}:${replayId}`;
