import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { emulatorClientConfig } from '../contract/local';
import { LOCAL_REGION } from './clients';

/*
 * What Lambda's event source mapping does for a DynamoDB stream, on DynamoDB Local: read each shard
 * from its start, hand batches to the function in order, and on a failure hand the same batch again
 * (from its first record) until it succeeds — nothing is skipped. Used by `npm start` and the tests.
 */

export interface StreamPoller {
  /** Resolves once every record written so far has been handed over successfully. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function startStreamPoller(options: {
  endpoint: string;
  streamArn: string;
  handler: (event: DynamoDBStreamEvent) => Promise<unknown>;
  intervalMs?: number;
  onError?: (error: Error) => void;
}): StreamPoller {
  // A hung emulator call ends (the tools' deadline, as every other local client): the poller logs and polls again.
  const client = new DynamoDBStreamsClient(emulatorClientConfig.dynamodb(options.endpoint));
  const iterators = new Map<string, string | undefined>();
  let stopped = false;
  let idleRound = 0;
  let rounds = 0;
  let running: Promise<void> = Promise.resolve();

  const discover = async () => {
    const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: options.streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (iterators.has(shard.ShardId!)) continue;
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({ StreamArn: options.streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      iterators.set(shard.ShardId!, ShardIterator);
    }
  };

  const getRecords = (iterator: string) => client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));

  const round = async (): Promise<boolean> => {
    await discover();
    let handed = false;
    for (const [shardId, iterator] of iterators) {
      if (!iterator) continue;
      let page: Awaited<ReturnType<typeof getRecords>>;
      try {
        page = await getRecords(iterator);
      } catch (error) {
        // DynamoDB Local invalidates the iterators of a table's stream when another table with a stream is created
        // on the same emulator (several sites on one machine): start the shard again from its oldest record. The
        // projection is idempotent, so what is handed twice changes nothing (a Lambda event source mapping does the same).
        const name = (error as Error).name;
        if (name !== 'TrimmedDataAccessException' && name !== 'ExpiredIteratorException') throw error;
        iterators.delete(shardId);
        continue;
      }
      const { Records = [], NextShardIterator } = page;
      if (Records.length > 0) {
        try {
          await options.handler(toEvent(Records, options.streamArn));
        } catch (error) {
          // Hand the same records again next round, as the event source mapping retries a failed batch.
          const { ShardIterator } = await client.send(
            new GetShardIteratorCommand({
              StreamArn: options.streamArn,
              ShardId: shardId,
              ShardIteratorType: 'AT_SEQUENCE_NUMBER',
              SequenceNumber: Records[0]!.dynamodb!.SequenceNumber!,
            }),
          );
          iterators.set(shardId, ShardIterator);
          throw error;
        }
        handed = true;
      }
      iterators.set(shardId, NextShardIterator);
    }
    return handed;
  };

  const loop = async () => {
    while (!stopped) {
      try {
        idleRound = (await round()) ? 0 : idleRound + 1;
      } catch (error) {
        idleRound = 0;
        options.onError?.(error as Error);
      }
      rounds++;
      if (idleRound > 0) await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
    }
  };
  running = loop();

  return {
    caughtUp: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      // A whole round that started after this call, and found nothing: everything written before the call is handed over.
      const after = rounds + 1;
      while (!(rounds > after && idleRound > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (!(rounds > after && idleRound > 0)) throw new Error(`stream poller: not caught up within ${timeoutMs} ms`);
    },
    stop: async () => {
      stopped = true;
      await running;
      client.destroy();
    },
  };
}

/** Stream records as the event Lambda's event source mapping hands a function (also the bench's stream tap). */
export function toEvent(records: StreamRecord[], streamArn: string): DynamoDBStreamEvent {
  return {
    Records: records.map((record) => ({
      eventID: record.eventID,
      eventName: record.eventName as 'INSERT' | 'MODIFY' | 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: LOCAL_REGION,
      eventSourceARN: streamArn,
      dynamodb: {
        ...(record.dynamodb as object),
        ApproximateCreationDateTime: record.dynamodb?.ApproximateCreationDateTime
          ? record.dynamodb.ApproximateCreationDateTime.getTime() / 1000
          : undefined,
      } as NonNullable<DynamoDBStreamEvent['Records'][number]['dynamodb']>,
    })),
  };
}
