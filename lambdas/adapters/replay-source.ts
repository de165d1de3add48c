import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PayloadRef } from '../../contract/envelope';
import type { MessageRecord } from '../ingest/ports';
import type { PayloadObjects, ReplayCandidate, ReplaySource } from '../ingest/replay';
import { batchGetAll, documentClient, queryAll } from './dynamodb-store';
import { arrivalFromIndexItem, fromItem, MissingAttributeError, type RecordItem } from './record-item';
import { dayPartitions, TABLE, utcDays } from '../../contract/shapes';

/*
 * What `n3-callback replay` reads (lambdas/ingest/replay.ts): a window of arrivals from the by-day index
 * (a Query per day and shard, never a Scan), their state and claim check from the table (a projected
 * BatchGetItem, no payload), the records themselves only when their turn comes, and the claim-checked
 * objects' presence (HeadObject).
 */

/** The record's attributes the selection reads, besides the key: its facts, state and claim check; never the payload. */
const FACTS = ['receivedAt', 'messageType', 'status', 'state', 'lpu', 'documentKey', 'payloadBytes', 'payloadRef'];

export class DynamoDbReplaySource implements ReplaySource {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.client = documentClient(dynamodb);
  }

  async arrivalsBetween(since: string, until: string): Promise<ReplayCandidate[]> {
    const { dayIndex, partitionKey } = TABLE;
    const partitions = utcDays(since, until).flatMap(dayPartitions);
    const items: RecordItem[] = [];
    // A few days' shards at a time: eleven queries a day, most of them one empty page.
    for (let i = 0; i < partitions.length; i += 22) {
      const pages = await Promise.all(
        partitions.slice(i, i + 22).map((partition) =>
          queryAll(this.client, this.tableName, {
            IndexName: dayIndex.name,
            KeyConditionExpression: '#day = :day AND #at BETWEEN :since AND :until',
            ExpressionAttributeNames: { '#day': dayIndex.partitionKey, '#at': dayIndex.sortKey, '#id': partitionKey },
            ExpressionAttributeValues: { ':day': partition, ':since': since, ':until': until },
            ProjectionExpression: '#id',
          }),
        ),
      );
      items.push(...pages.flat().flatMap((page) => page.Items ?? []));
    }
    // The index lags the table and projects no state: the facts come from the records, read strongly.
    return this.candidatesByIds(items.map((item) => String(item[partitionKey])));
  }

  async candidatesByIds(ids: readonly string[]): Promise<ReplayCandidate[]> {
    const items = await batchGetAll(this.client, this.tableName, TABLE.partitionKey, ids, { consistent: true, attributes: FACTS });
    return items.flatMap((item) => {
      try {
        const arrival = arrivalFromIndexItem(item, String(item.state));
        const ref = item.payloadRef as Partial<PayloadRef> | undefined;
        return [
          {
            messageId: arrival.messageId,
            receivedAt: arrival.receivedAt,
            messageType: arrival.messageType,
            status: arrival.status,
            state: arrival.state,
            lpu: arrival.lpu,
            documentKey: arrival.documentKey,
            ...(ref
              ? { payloadRef: { bucket: String(ref.bucket), key: String(ref.key), size: Number(ref.size), sha256: String(ref.sha256) } }
              : {}),
          },
        ];
      } catch (error) {
        // An item that does not read as a record is no message to replay.
        if (error instanceof MissingAttributeError) return [];
        throw error;
      }
    });
  }

  async records(ids: readonly string[]): Promise<MessageRecord[]> {
    const items = await batchGetAll(this.client, this.tableName, TABLE.partitionKey, ids, { consistent: true });
    return items.flatMap((item) => {
      try {
        return [fromItem(item)];
      } catch (error) {
        if (error instanceof MissingAttributeError) return [];
        throw error;
      }
    });
  }
}

/** The claim-checked objects, by HeadObject: gone (404) or of another size is not there. */
export class S3PayloadObjects implements PayloadObjects {
  constructor(private readonly s3: S3Client) {}

  async exists(ref: PayloadRef): Promise<boolean> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      return head.ContentLength === undefined || head.ContentLength === ref.size;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchKey') return false;
      throw error;
    }
  }
}
