import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DOCUMENTS, QUEUE, TABLE } from '../contract/shapes';
import { BUCKET_PREFIXES, keyAlias } from '../contract/names';

export interface StorageProps {
  readonly siteId: string;
  readonly retentionDays: number;
  /**
   * Keep version 1's `byDay` index (one partition a day, `state` projected) beside the new one.
   * @default false
   */
  readonly v1DayIndex?: boolean;
  /**
   * `kms`: one customer-managed key of the site's own for both tables, the three queues and the payload
   * bucket; `aws-managed`: each service's own encryption; `kms-retiring`: as `aws-managed`, with the key kept
   * for the data it encrypted before (see `retiringKey`).
   * @default 'aws-managed'
   */
  readonly encryption?: 'aws-managed' | 'kms' | 'kms-retiring';
}

/**
 * The message table (record of every callback), the MIS's FIFO queue with its dead-letter
 * queue, and the bucket for large payloads and rejected requests. Data is retained when
 * the stack is deleted: it is medical correspondence, not cache.
 */
export class Storage extends Construct {
  readonly table: Table;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly bucket: Bucket;
  /** One item per document: the projection of its messages (read by the document API). */
  readonly documents: Table;
  /** Stream batches the projector gave up on after its retries: alarmed, to be looked at and re-driven. */
  readonly projectionFailures: Queue;
  /** The site's customer-managed key, when `encryption: 'kms'`; used only through grants (lib/functions.ts, the consumer policy). */
  readonly key?: Key;
  /**
   * The same key when `encryption: 'kms-retiring'`: it encrypts nothing new, but the queued messages, payload
   * objects and backups written while the site was `kms` still need it, so it is kept (the same resource) and
   * granted for decrypt only.
   */
  readonly retiringKey?: Key;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    // Retained like the data it encrypts: deleting it would make every retained table, queue and object unreadable.
    // One construct id whether in use or retiring: the same logical id, so `kms` → `kms-retiring` keeps the key.
    const siteKey =
      props.encryption === 'kms' || props.encryption === 'kms-retiring'
        ? new Key(this, 'Key', {
            description: `N3 callback endpoint ${props.siteId}: tables, queues and payloads`,
            alias: keyAlias(props.siteId),
            enableKeyRotation: true,
            removalPolicy: RemovalPolicy.RETAIN,
          })
        : undefined;
    const key = props.encryption === 'kms' ? siteKey : undefined;
    this.key = key;
    this.retiringKey = props.encryption === 'kms-retiring' ? siteKey : undefined;
    const tableEncryption = key
      ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }
      : { encryption: TableEncryption.AWS_MANAGED };
    const queueEncryption = key
      ? { encryption: QueueEncryption.KMS, encryptionMasterKey: key }
      : { encryption: QueueEncryption.SQS_MANAGED };

    this.table = new Table(this, 'Messages', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE.ttlAttribute,
      ...tableEncryption,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // New records feed the document projector, off the ack's path.
      stream: StreamViewType.NEW_IMAGE,
    });
    addIndexes(this.table, [TABLE.pendingIndex, TABLE.dayIndex]);
    if (props.v1DayIndex) {
      addIndexes(this.table, [
        { ...TABLE.dayIndex, name: 'byDay', projected: ['messageType', 'state', 'status', 'lpu', 'documentKey', 'payloadBytes'] },
      ]);
    }

    const retentionPeriod = Duration.seconds(QUEUE.retentionSeconds);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      ...queueEncryption,
      enforceSSL: true,
      retentionPeriod,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.queue = new Queue(this, 'MisQueue', {
      fifo: true,
      // High-throughput FIFO: ordering and deduplication per document, not per queue.
      fifoThroughputLimit:
        QUEUE.fifoThroughputLimit === 'perMessageGroupId' ? FifoThroughputLimit.PER_MESSAGE_GROUP_ID : FifoThroughputLimit.PER_QUEUE,
      deduplicationScope: QUEUE.deduplicationScope === 'messageGroup' ? DeduplicationScope.MESSAGE_GROUP : DeduplicationScope.QUEUE,
      ...queueEncryption,
      enforceSSL: true,
      retentionPeriod,
      visibilityTimeout: Duration.seconds(QUEUE.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: QUEUE.maxReceiveCount },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // S3 delivers server access logs only to SSE-S3 buckets; they hold request lines, not payloads.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(props.retentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.documents = new Table(this, 'Documents', {
      partitionKey: { name: DOCUMENTS.partitionKey, type: AttributeType.STRING },
      // Each document expires with its newest message (or `retentionDays` past an expectation it still holds).
      timeToLiveAttribute: DOCUMENTS.ttlAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...tableEncryption,
      // Derived data: it can be rebuilt from the messages, but it also holds the MIS's expectations.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    addIndexes(this.documents, [DOCUMENTS.updatedIndex, DOCUMENTS.dueIndex]);
    this.projectionFailures = new Queue(this, 'ProjectionFailures', {
      ...queueEncryption,
      enforceSSL: true,
      retentionPeriod,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new Bucket(this, 'Payloads', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // A bucket key: S3 asks KMS once per bucket key period, not once per object.
      ...(key
        ? { encryption: BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'payloads/',
      lifecycleRules: [
        { id: 'payloads', prefix: BUCKET_PREFIXES.payloads(props.siteId), expiration: Duration.days(props.retentionDays) },
        { id: 'rejected', prefix: BUCKET_PREFIXES.rejected, expiration: Duration.days(props.retentionDays) },
        { id: 'uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/** String-keyed global indexes from the shared shapes (contract/shapes.ts): keys only unless attributes are projected. */
function addIndexes(
  table: Table,
  indexes: ReadonlyArray<{ name: string; partitionKey: string; sortKey: string; projected?: readonly string[] }>,
): void {
  for (const index of indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.STRING },
      ...(index.projected
        ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.projected] }
        : { projectionType: ProjectionType.KEYS_ONLY }),
    });
  }
}
