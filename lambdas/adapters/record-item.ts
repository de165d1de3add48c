import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { MessageRecord, PayloadRef, Readmission, Simulation } from '../ingest/ports';
import type { MessageType } from '../../contract/catalog';
import type { Status } from '../../contract/fields';
import { dayPartitionOf, pendingPartitionOf, TABLE } from '../../contract/shapes';

/*
 * The one mapping between a MessageRecord and its DynamoDB item, as plain JavaScript values:
 * the DocumentClient (@aws-sdk/lib-dynamodb) does the attribute-value marshalling. The store, the
 * CLI and the tests all read items through `fromItem`, so the item shape is known here only.
 */

/** An item as the DocumentClient gives it. */
export type RecordItem = Record<string, unknown>;

/** An item lacks an attribute every record has: written by something else, or damaged. */
export class MissingAttributeError extends Error {
  constructor(
    readonly attribute: string,
    readonly messageId: string,
  ) {
    super(`item ${messageId || '(no id)'} has no "${attribute}"`);
    this.name = 'MissingAttributeError';
  }
}

export function toItem(record: MessageRecord): RecordItem {
  return {
    [TABLE.partitionKey]: record.messageId,
    state: record.state,
    messageType: record.messageType,
    site: record.site,
    lpu: record.lpu,
    status: record.status,
    documentKey: record.documentKey,
    payloadHash: record.payloadHash,
    payloadBytes: record.payloadBytes,
    receivedAt: record.receivedAt,
    [TABLE.dayIndex.partitionKey]: dayPartitionOf(record.receivedAt, record.messageId),
    [TABLE.ttlAttribute]: record.expiresAt,
    ...(record.payload !== undefined ? { payload: record.payload } : {}),
    ...(record.payloadRef ? { payloadRef: { ...record.payloadRef } } : {}),
    ...(record.facts !== undefined ? { facts: record.facts } : {}),
    ...(record.forwardedAt ? { forwardedAt: record.forwardedAt } : {}),
    ...(record.undeliverableAt ? { undeliverableAt: record.undeliverableAt } : {}),
    ...(record.refusal ? { refusal: record.refusal } : {}),
    ...(record.simulation ? { simulation: { runId: record.simulation.runId } } : {}),
    ...(record.readmitted ? { readmitted: { from: record.readmitted.from, arrivedAt: record.readmitted.arrivedAt } } : {}),
    ...(record.state === 'RECEIVED'
      ? { [TABLE.pendingIndex.partitionKey]: pendingPartitionOf(record.messageId), [TABLE.pendingIndex.sortKey]: record.receivedAt }
      : {}),
  };
}

/**
 * An item's size as DynamoDB counts it against its 400 KB limit (attribute names and values, UTF-8),
 * erring large: every number as its longest (21 bytes), 3 bytes per map or list plus 1 per element.
 */
export function itemBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return 21;
  if (value === null || typeof value === 'boolean' || value === undefined) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + itemBytes(v), 0);
  if (typeof value === 'object')
    return 3 + Object.entries(value).reduce((sum, [name, v]) => sum + 1 + Buffer.byteLength(name, 'utf8') + itemBytes(v), 0);
  return 0;
}

/** Reads required attributes, naming the one that is missing. */
function reader(item: RecordItem) {
  const messageId = typeof item[TABLE.partitionKey] === 'string' ? (item[TABLE.partitionKey] as string) : '';
  const string = (name: string): string => {
    const value = item[name];
    if (typeof value !== 'string') throw new MissingAttributeError(name, messageId);
    return value;
  };
  const number = (name: string): number => {
    const value = item[name];
    if (typeof value !== 'number') throw new MissingAttributeError(name, messageId);
    return value;
  };
  string(TABLE.partitionKey);
  return { messageId, string, number };
}

/** A stream record's image (DynamoDB's attribute-value form) as a MessageRecord. */
export function fromStreamImage(image: Record<string, unknown>): MessageRecord {
  return fromItem(unmarshall(image as Record<string, AttributeValue>));
}

export function fromItem(item: RecordItem): MessageRecord {
  const { messageId, string, number } = reader(item);
  const ref = item.payloadRef as Partial<PayloadRef> | undefined;
  const simulation = item.simulation as Partial<Simulation> | undefined;
  const state = string('state');
  return {
    messageId,
    // Anything else reads as RECEIVED: pending is the state that gets a record looked at again.
    state: state === 'FORWARDED' || state === 'UNDELIVERABLE' ? state : 'RECEIVED',
    messageType: string('messageType') as MessageType,
    site: string('site'),
    lpu: string('lpu'),
    status: string('status') as Status,
    documentKey: string('documentKey'),
    payloadHash: string('payloadHash'),
    ...(typeof item.payload === 'string' ? { payload: item.payload } : {}),
    ...(typeof item.facts === 'string' ? { facts: item.facts } : {}),
    ...(ref
      ? { payloadRef: { bucket: String(ref.bucket), key: String(ref.key), size: Number(ref.size), sha256: String(ref.sha256) } }
      : {}),
    payloadBytes: number('payloadBytes'),
    receivedAt: string('receivedAt'),
    ...(typeof item.forwardedAt === 'string' ? { forwardedAt: item.forwardedAt } : {}),
    ...(typeof item.undeliverableAt === 'string' ? { undeliverableAt: item.undeliverableAt } : {}),
    ...(typeof item.refusal === 'string' ? { refusal: item.refusal } : {}),
    ...(simulation && typeof simulation.runId === 'string' ? { simulation: { runId: simulation.runId } } : {}),
    ...readmittedOf(item.readmitted),
    expiresAt: number(TABLE.ttlAttribute),
  };
}

function readmittedOf(value: unknown): Pick<MessageRecord, 'readmitted'> {
  const { from, arrivedAt } = (value ?? {}) as Partial<Readmission>;
  return typeof from === 'string' && typeof arrivedAt === 'string' ? { readmitted: { from, arrivedAt } } : {};
}

/** One arrival as the by-day index projects it (facts, never the payload): what `n3-callback tail` lists. */
export interface Arrival {
  readonly receivedAt: string;
  readonly messageId: string;
  readonly messageType: string;
  readonly status: string;
  readonly state: string;
  readonly lpu: string;
  readonly documentKey: string;
  readonly bytes: number;
}

/** An arrival from the by-day index; `state` is not projected there (it changes), so it comes from the table. */
export function arrivalFromIndexItem(item: RecordItem, state: string): Arrival {
  const { messageId, string, number } = reader(item);
  return {
    receivedAt: string('receivedAt'),
    messageId,
    messageType: string('messageType'),
    status: string('status'),
    state,
    lpu: string('lpu'),
    documentKey: string('documentKey'),
    bytes: number('payloadBytes'),
  };
}
