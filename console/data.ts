import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { arrivalsSince, failedAnswersSince, findMessage, listRejected, readPayload, readRejected } from '../lambdas/adapters';
import { CAUSES, summariseCauses } from '../contract/causes';
import { LADDER_RUNGS } from '../contract/ladder';

/*
 * What the console reads, as JSON under /_local/: arrivals from the table's arrivals index, one message's record and payload (the table, or the claim check in
 * the bucket), rejected requests from
 * the bucket (a body only when asked for), queue depths, arrivals per minute by outcome, and the Failed answers by
 * cause. One home for `npm start` (local/console-api.ts, over the emulators) and `n3-callback console --site`
 * (cli/console.ts, over a deployed site with the operator's credentials): both hand it clients and resource names.
 * Read-only: nothing here touches the MIS queue's messages.
 */

/** A console endpoint: given the query and the path segments after its name, the JSON to answer (or NotFound). */
export type ConsoleEndpoint = (query: URLSearchParams, rest: readonly string[]) => unknown;

/** An endpoint's way to say 404. */
export class NotFound extends Error {}

/** Which site the console looks at, shown on the page. */
export interface SiteLabel {
  readonly siteId: string;
  /** `npm start` (the emulators), or a deployed site read with the operator's credentials. */
  readonly kind: 'local' | 'deployed';
  readonly stackName?: string;
  readonly region: string;
  readonly account?: string;
}

export interface SiteResources {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly tableName: string;
  readonly bucket: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

const sinceOf = (query: URLSearchParams, defaultMs: number) => {
  const since = query.get('since');
  return since && !Number.isNaN(Date.parse(since)) ? new Date(since) : new Date(Date.now() - defaultMs);
};

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
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
}

/** Arrivals per minute by outcome (the ack's Status, and rejected requests), oldest minute first, every minute of the window present. */
export interface MinuteCount {
  readonly minute: string;
  readonly Success: number;
  readonly Failed: number;
  readonly rejected: number;
}

export function perMinute(
  arrivals: readonly { receivedAt: string; status: string }[],
  rejected: readonly { time: string }[],
  since: Date,
  until: Date,
): MinuteCount[] {
  const minutes = new Map<string, { Success: number; Failed: number; rejected: number }>();
  const start = Math.floor(since.getTime() / 60_000) * 60_000;
  for (let at = start; at <= until.getTime(); at += 60_000)
    minutes.set(new Date(at).toISOString().slice(0, 16), { Success: 0, Failed: 0, rejected: 0 });
  for (const a of arrivals) {
    const slot = minutes.get(a.receivedAt.slice(0, 16));
    if (slot && (a.status === 'Success' || a.status === 'Failed')) slot[a.status]++;
  }
  for (const r of rejected) {
    const slot = minutes.get(r.time.slice(0, 16));
    if (slot) slot.rejected++;
  }
  return [...minutes].map(([minute, counts]) => ({ minute, ...counts }));
}

/** The page's words for rungs and causes, from their one home (contract/): the page holds no copy. */
export const vocabulary = () => ({ rungs: LADDER_RUNGS.map(({ id, ru, en }) => ({ id, ru, en })), causes: CAUSES });

export function consoleEndpoints(site: SiteResources, label: SiteLabel): Record<string, ConsoleEndpoint> {
  return {
    site: () => label,
    // The page's words for rungs and causes, from their one home (contract/): the page holds no copy.
    vocabulary,
    arrivals: async (query) => (await arrivalsSince(site.dynamodb, site.tableName, sinceOf(query, 3_600_000).toISOString())).slice(-200),
    // The same reading as `n3-callback show`, by whole MessageId (the console links each arrival's own).
    messages: async (_query, rest) => {
      const [messageId] = rest;
      const since = new Date(Date.now() - 14 * 86_400_000).toISOString();
      const lookup = messageId ? await findMessage(site.dynamodb, site.tableName, messageId, since) : undefined;
      if (!lookup || !('found' in lookup) || lookup.found.messageId !== messageId?.toLowerCase())
        throw new NotFound(`no message ${JSON.stringify(messageId ?? '')}`);
      const { payload: _inline, facts: _facts, ...record } = lookup.found;
      const read = await readPayload(site.s3, lookup.found);
      return { record, payload: read ? (JSON.parse(read.payload) as unknown) : null, payloadSource: read ? read.source : { gone: true } };
    },
    rejected: async (query, rest) => {
      if (rest.length === 0) return (await listRejected(site.s3, site.bucket, sinceOf(query, 86_400_000))).slice(-200);
      const key = ['rejected', ...rest].join('/');
      try {
        const { bodyBase64, ...facts } = await readRejected(site.s3, site.bucket, key);
        return query.get('body') === '1' ? { ...facts, body: Buffer.from(bodyBase64, 'base64').toString('utf8') } : facts;
      } catch (error) {
        if ((error as Error).name === 'NoSuchKey') throw new NotFound(`no rejected request under ${key}`);
        throw error;
      }
    },
    queues: async () => ({ queue: await queueDepth(site.sqs, site.queueUrl), deadLetters: await queueDepth(site.sqs, site.dlqUrl) }),
    minutes: async (query) => {
      const since = sinceOf(query, 3_600_000);
      const until = new Date();
      const [arrivals, rejected] = await Promise.all([
        arrivalsSince(site.dynamodb, site.tableName, since.toISOString(), until),
        listRejected(site.s3, site.bucket, since, until),
      ]);
      return perMinute(arrivals, rejected, since, until);
    },
    // The Failed answers' texts go to the operator's browser only: this server logs nothing of them.
    causes: async (query) =>
      summariseCauses(await failedAnswersSince(site.dynamodb, site.tableName, sinceOf(query, 86_400_000).toISOString())),
  };
}
