/*
 * The shapes of the resources, shared by the adapters, the local runner (local/provision.ts) and the
 * CDK stack (lib/storage.ts), so that what runs locally is what deploys.
 */
export const TABLE = {
  partitionKey: 'MessageId',
  ttlAttribute: 'expiresAt',
  /** Sparse index: only RECEIVED records carry its keys, so it lists exactly the messages still to forward. */
  pendingIndex: { name: 'pending', partitionKey: 'pendingPartition', sortKey: 'pendingSince' },
  /** One partition value for all pending records: the set is small by design (it is the backlog). */
  pendingPartitionValue: 'PENDING',
  /**
   * What arrived on a day, in order: lets operators watch callbacks arrive (the CLI's `tail`)
   * without touching the MIS queue. Projects the facts, never the payload.
   */
  dayIndex: {
    name: 'byDay',
    partitionKey: 'receivedDay',
    sortKey: 'receivedAt',
    projected: ['messageType', 'state', 'status', 'lpu', 'documentKey', 'payloadBytes'],
  },
} as const;

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
