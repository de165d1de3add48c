import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { localClientConfig } from '../../local/clients';
import { toEvent } from '../../local/stream-poller';

/*
 * The message table's stream on DynamoDB Local, read on demand: after a message is stored, `inserts`
 * returns the new records since the last call as the event Lambda's event source mapping would hand
 * `Project` (INSERT only, as the stack's filter passes). Unlike npm start's poller this does not call
 * anything by itself, so the bench can meter each projection on its own.
 */
export class StreamTap {
  private readonly client: DynamoDBStreamsClient;
  private readonly iterators = new Map<string, string | undefined>();

  constructor(
    endpoint: string,
    private readonly streamArn: string,
  ) {
    this.client = new DynamoDBStreamsClient(localClientConfig(endpoint));
  }

  /** Every INSERT written since the last call; waits (up to 5 s) until at least `expected` have arrived. */
  async inserts(expected = 0): Promise<DynamoDBStreamEvent> {
    const found: StreamRecord[] = [];
    const deadline = Date.now() + 5_000;
    for (;;) {
      found.push(...(await this.read()).filter((record) => record.eventName === 'INSERT'));
      if (found.length >= expected) return toEvent(found, this.streamArn);
      if (Date.now() > deadline) throw new Error(`stream: ${found.length} of ${expected} new records within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  destroy(): void {
    this.client.destroy();
  }

  private async read(): Promise<StreamRecord[]> {
    const { StreamDescription } = await this.client.send(new DescribeStreamCommand({ StreamArn: this.streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (this.iterators.has(shard.ShardId!)) continue;
      const { ShardIterator } = await this.client.send(
        new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      this.iterators.set(shard.ShardId!, ShardIterator);
    }
    const records: StreamRecord[] = [];
    for (const [shardId, iterator] of this.iterators) {
      if (!iterator) continue;
      const { Records = [], NextShardIterator } = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      records.push(...Records);
      this.iterators.set(shardId, NextShardIterator);
    }
    return records;
  }
}
