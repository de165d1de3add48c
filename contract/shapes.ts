/*
 * The shapes of the resources, shared by the adapters, the local runner (local/provision.ts) and the
 * CDK stack (lib/storage.ts), so that what runs locally is what deploys.
 */
export const TABLE = {
  partitionKey: 'MessageId',
  ttlAttribute: 'expiresAt',
  /**
   * Both indexes spread their partition key over this many shards (`<value>#<n>`, n from the
   * MessageId's hash) and are read by querying every shard in parallel and merging in order: one
   * index partition takes 1,000 writes a second, so a single value ("PENDING", a day) would cap a
   * site near 500 new messages a second (each writes the pending index twice). See README, Capacity.
   */
  shards: 10,
  /** Sparse index: only RECEIVED records carry its keys, so it lists exactly the messages still to forward. */
  pendingIndex: { name: 'pending', partitionKey: 'pendingPartition', sortKey: 'pendingSince' },
  /** Prefix of the pending index's partition values; records of the first version carry it bare. */
  pendingPartitionValue: 'PENDING',
  /**
   * What arrived on a day, in order: lets operators watch callbacks arrive (the CLI's `tail`)
   * without touching the MIS queue. Projects the facts that never change, never the payload, and not
   * `state`: marking a message forwarded then writes the table and the pending index only.
   */
  dayIndex: {
    // Version 1's index was `byDay` (state projected, one partition a day); see README, Moving from version 1.
    name: 'arrivals',
    partitionKey: 'receivedDay',
    sortKey: 'receivedAt',
    projected: ['messageType', 'status', 'lpu', 'documentKey', 'payloadBytes'],
  },
} as const;

/** Which shard a record's index keys go to: stable per MessageId, even across shards. */
export function shardOf(messageId: string): number {
  let hash = 2166136261; // FNV-1a: cheap, stable, well spread over UUIDs
  for (let i = 0; i < messageId.length; i++) hash = Math.imul(hash ^ messageId.charCodeAt(i), 16777619);
  return (hash >>> 0) % TABLE.shards;
}

export const pendingPartitionOf = (messageId: string) => `${TABLE.pendingPartitionValue}#${shardOf(messageId)}`;
export const dayPartitionOf = (receivedAt: string, messageId: string) => `${receivedAt.slice(0, 10)}#${shardOf(messageId)}`;

/** Every partition value to read for the pending set: each shard, and the unsharded value of records written before sharding. */
export const pendingPartitions = (): string[] => [
  ...Array.from({ length: TABLE.shards }, (_, n) => `${TABLE.pendingPartitionValue}#${n}`),
  TABLE.pendingPartitionValue,
];

/** The UTC days (`YYYY-MM-DD`) from one ISO time to another, oldest first, at most `max` of them. */
export function utcDays(fromIso: string, toIso: string, max = Number.POSITIVE_INFINITY): string[] {
  const days: string[] = [];
  const end = toIso.slice(0, 10);
  for (let day = new Date(`${fromIso.slice(0, 10)}T00:00:00Z`); days.length < max; day = new Date(day.getTime() + 86_400_000)) {
    const text = day.toISOString().slice(0, 10);
    days.push(text);
    if (text >= end) break;
  }
  return days;
}

/** Every partition value to read for one day (`YYYY-MM-DD`), the unsharded one of older records included. */
export const dayPartitions = (day: string): string[] => [...Array.from({ length: TABLE.shards }, (_, n) => `${day}#${n}`), day];

/** The MIS's FIFO queue and its dead-letter queue. */
export const QUEUE = {
  /** Seconds a received message stays hidden from other consumers. */
  visibilityTimeoutSeconds: 60,
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: 5,
  /** Seconds messages are kept (SQS's maximum, 14 days), on both queues. */
  retentionSeconds: 14 * 86_400,
  /** High-throughput FIFO: deduplication and throughput per message group (one document's news). */
  deduplicationScope: 'messageGroup',
  fifoThroughputLimit: 'perMessageGroupId',
} as const;

/** The documents table: one item per document, the projection of its messages (see lambdas/documents). */
export const DOCUMENTS = {
  partitionKey: 'documentId',
  /** Epoch seconds: DynamoDB TTL, as long as the document's newest message (or a pending expectation) is kept. */
  ttlAttribute: 'expiresAt',
  /**
   * Documents by the hour they were last written, sharded like the arrivals index (`<day>#<n>`). The sort key
   * holds the hour (`YYYY-MM-DDTHH`, `updatedHourOf`), not the instant, and nothing else is written into the
   * index, so a document written again within the hour leaves the index alone (0 WRU there, not 2 for a moved
   * sort key): readers narrow by hour here and by the item's `savedAt` after reading. `states` stays declared
   * because a deployed index's projection cannot change in place (DynamoDB would have to replace the index);
   * items no longer carry it, and documents written before carry it until they are next written.
   */
  updatedIndex: { name: 'updated', partitionKey: 'updatedDay', sortKey: 'writtenAt', projected: ['states'] },
  /** Sparse: only documents with an unmet expectation carry its keys; `nextDue` is the earliest. */
  dueIndex: { name: 'due', partitionKey: 'dueShard', sortKey: 'nextDue' },
} as const;

export const updatedPartitionOf = (writtenAt: string, documentId: string) => `${writtenAt.slice(0, 10)}#${shardOf(documentId)}`;
/** The `updated` index's sort value for a write at `writtenAt` (ISO): its UTC hour, `YYYY-MM-DDTHH`. */
export const updatedHourOf = (writtenAt: string) => writtenAt.slice(0, 13);
export const duePartitionOf = (documentId: string) => `DUE#${shardOf(documentId)}`;
/** Every partition value of the documents' `updated` index for one day (sharded from the start: no unsharded value). */
export const updatedPartitions = (day: string): string[] => Array.from({ length: TABLE.shards }, (_, n) => `${day}#${n}`);
export const duePartitions = (): string[] => Array.from({ length: TABLE.shards }, (_, n) => `DUE#${n}`);
