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
} as const;
