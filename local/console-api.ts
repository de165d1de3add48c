import { readFileSync } from 'node:fs';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { arrivalsSince, findMessage, listRejected, readPayload, readRejected } from '../lambdas/adapters';
import { MESSAGE_TYPES } from '../contract/catalog';
import { localDynamoDb, localS3, localSqs } from './clients';
import { type LocalEndpoint, NotFound } from './gateway';
import type { Resources } from './provision';

/*
 * What the local console (/_local/) reads, as JSON under /_local/: arrivals from the table's arrivals
 * index, one message's record and payload (from the table, or the claim check in the bucket), rejected
 * requests from the bucket (a body only when asked for), queue depths, and the examples its "send an
 * example" buttons post. Read-only: nothing here touches the MIS queue's messages.
 */

const EXAMPLES = Object.fromEntries(
  MESSAGE_TYPES.map((type) => [type, JSON.parse(readFileSync(new URL(`../examples/${type}.json`, import.meta.url), 'utf8')) as unknown]),
);

export function consoleEndpoints(options: { dynamodb: string; sqs: string; resources: Resources }): Record<string, LocalEndpoint> {
  const dynamodb = localDynamoDb(options.dynamodb);
  const sqs = localSqs(options.sqs);
  const s3 = localS3(options.sqs);
  const { resources } = options;
  const sinceOf = (query: URLSearchParams, defaultMs: number) => {
    const since = query.get('since');
    return since && !Number.isNaN(Date.parse(since)) ? new Date(since) : new Date(Date.now() - defaultMs);
  };
  const depth = async (queueUrl: string) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  };
  return {
    arrivals: async (query) => (await arrivalsSince(dynamodb, resources.tableName, sinceOf(query, 3_600_000).toISOString())).slice(-200),
    // The same reading as `n3-callback show`, by whole MessageId (the console links each arrival's own).
    messages: async (_query, rest) => {
      const [messageId] = rest;
      const since = new Date(Date.now() - 14 * 86_400_000).toISOString();
      const lookup = messageId ? await findMessage(dynamodb, resources.tableName, messageId, since) : undefined;
      if (!lookup || !('found' in lookup) || lookup.found.messageId !== messageId?.toLowerCase())
        throw new NotFound(`no message ${JSON.stringify(messageId ?? '')}`);
      const { payload: _inline, facts: _facts, ...record } = lookup.found;
      const read = await readPayload(s3, lookup.found);
      return { record, payload: read ? (JSON.parse(read.payload) as unknown) : null, payloadSource: read ? read.source : { gone: true } };
    },
    rejected: async (query, rest) => {
      if (rest.length === 0) return (await listRejected(s3, resources.bucket, sinceOf(query, 86_400_000))).slice(-200);
      const key = ['rejected', ...rest].join('/');
      try {
        const { bodyBase64, ...facts } = await readRejected(s3, resources.bucket, key);
        return query.get('body') === '1' ? { ...facts, body: Buffer.from(bodyBase64, 'base64').toString('utf8') } : facts;
      } catch (error) {
        if ((error as Error).name === 'NoSuchKey') throw new NotFound(`no rejected request under ${key}`);
        throw error;
      }
    },
    queues: async () => ({ queue: await depth(resources.queueUrl), deadLetters: await depth(resources.dlqUrl) }),
    examples: () => EXAMPLES,
  };
}
