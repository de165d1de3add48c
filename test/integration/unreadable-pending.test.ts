import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { pendingPartitionOf, TABLE } from '../../contract/shapes';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import { UNREADABLE_RECORD } from '../../lambdas/ingest/ports';
import { localOverrides } from '../../local/clients';
import { provision, type Resources } from '../../local/provision';
import { drain, dynamoClient, getRecord, sqsClient } from '../support/aws';
import { freshMessage } from '../../testing/messages';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import { MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { proxyEvent } from '../../testing/events';

/*
 * One damaged item in the pending index used to fail every reconciler run (the whole batch's read threw), so no
 * pending message of the site was forwarded again, ever. On AWS's DynamoDB Local: items written raw, as a hand
 * edit or another writer would, beside good pending messages; the reconciler sets each damaged one aside
 * (UNDELIVERABLE, refusal UnreadableRecord, out of the pending index), counts it, logs its key and never its
 * content, and forwards the rest.
 */

const emulators = inject('emulators');
const endpoints = { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs };
const CONTENT = 'ZZPATIENT-Иванов'; // in every damaged item's values: must never reach a log

let resources: Resources;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  resources = await provision(endpoints, { prefix: `unreadable-${randomUUID().slice(0, 8)}` });
  dynamodb = dynamoClient(emulators.dynamodb);
  sqs = sqsClient(emulators.sqs);
});
afterAll(() => {
  dynamodb?.destroy();
  sqs?.destroy();
});
afterEach(() => vi.restoreAllMocks());

const adapters = (queue = endpoints.sqs) =>
  createAwsAdapters(
    { TABLE_NAME: resources.tableName, QUEUE_URL: resources.queueUrl, BUCKET_NAME: resources.bucket, S3_FORCE_PATH_STYLE: true },
    localOverrides({ ...endpoints, sqs: queue }, { maxAttempts: 1 }),
  );

/** A good message, stored while its queue was down (nothing listens on port 9): pending. */
async function pendingMessage(): Promise<string> {
  const body = freshMessage('SEMDStatus');
  const handler = createReceiveHandler('SEMDStatus', {
    ...adapters('http://127.0.0.1:9'),
    settings: { site: 'unreadable', retentionDays: 7, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES },
    maxBodyBytes: 4 * 1024 * 1024,
    logger: new Logger({ serviceName: 'unreadable', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'unreadable' }),
  });
  const result = await handler(proxyEvent({ path: '/SEMDStatus', body: JSON.stringify(body) }));
  expect(result.statusCode).toBe(200);
  return String(body.MessageId);
}

/** A whole, well-formed record item in the pending index, as the adapter writes one, with `damage` applied. */
function rawItem(id: string, damage: (item: Record<string, unknown>) => void): Record<string, unknown> {
  const receivedAt = new Date(Date.now() - 3_600_000).toISOString();
  const item: Record<string, unknown> = {
    [TABLE.partitionKey]: id,
    state: 'RECEIVED',
    messageType: 'SEMDStatus',
    site: 'unreadable',
    lpu: CONTENT,
    status: 'Success',
    documentKey: `${CONTENT}-doc`,
    payloadHash: 'a'.repeat(64),
    payload: JSON.stringify({ Message: CONTENT }),
    payloadBytes: 40,
    receivedAt,
    [TABLE.ttlAttribute]: Math.floor(Date.now() / 1000) + 86_400,
    [TABLE.pendingIndex.partitionKey]: pendingPartitionOf(id),
    [TABLE.pendingIndex.sortKey]: receivedAt,
  };
  damage(item);
  return item;
}

const DAMAGES: Record<string, (item: Record<string, unknown>) => void> = {
  'missing fields (no type, no hash)': (item) => {
    delete item.messageType;
    delete item.payloadHash;
  },
  'wrong types (a number for Lpu, text for the size)': (item) => {
    item.lpu = 42;
    item.payloadBytes = CONTENT;
  },
  'a payload that is not JSON': (item) => {
    item.payload = `{"Message": "${CONTENT}`;
  },
  'a type the MIS does not know': (item) => {
    item.messageType = CONTENT;
  },
};

describe('a damaged pending record', () => {
  it('is set aside and counted, its key logged and never its content, and every good pending message is forwarded', async () => {
    await drain(sqs, resources.queueUrl);
    const good = [await pendingMessage(), await pendingMessage()];
    const damaged = Object.fromEntries(Object.keys(DAMAGES).map((name) => [name, randomUUID()]));
    for (const [name, id] of Object.entries(damaged)) {
      await dynamodb.send(
        new PutItemCommand({
          TableName: resources.tableName,
          Item: marshall(rawItem(id, DAMAGES[name]!), { removeUndefinedValues: true }),
        }),
      );
    }

    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const reconciler = createReconcileHandler({
      ports: adapters().ports,
      settings: { graceSeconds: 0, batch: 100 },
      logger: new Logger({ serviceName: 'unreadable', logLevel: 'INFO' }),
      metrics: new Metrics({ namespace: 'unreadable' }),
    });
    const report = await reconciler();
    vi.restoreAllMocks();

    expect(report).toMatchObject({ pendingBefore: 6, due: 6, forwarded: 2, unreadable: 4, failed: 0, pendingAfter: 0 });
    expect([...report.unreadableIds].sort()).toEqual(Object.values(damaged).sort());
    const forwarded = (await drain(sqs, resources.queueUrl)).map((m) => m.Attributes?.MessageDeduplicationId);
    expect(forwarded.sort()).toEqual([...good].sort());
    for (const id of Object.values(damaged)) {
      const item = await getRecord(dynamodb, resources.tableName, id);
      expect(item).toMatchObject({ state: 'UNDELIVERABLE', refusal: UNREADABLE_RECORD });
      expect(item).not.toHaveProperty(TABLE.pendingIndex.partitionKey);
      expect(item).not.toHaveProperty(TABLE.pendingIndex.sortKey);
    }

    const log = lines.join('');
    for (const id of Object.values(damaged)) expect(log).toContain(id);
    expect(log).not.toContain('ZZPATIENT');
    expect(log).not.toContain('Иванов');

    // Out of the pending set: the next run has nothing to read again.
    expect(await reconciler()).toMatchObject({ pendingBefore: 0, due: 0, unreadable: 0 });
  });
});
