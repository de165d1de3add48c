/*
 * The message table's shape, shared by the DynamoDB adapter, the local runner and the
 * CDK stack so that all three always agree.
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
