import { MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { documentClient, DynamoDbMessageStore } from '../../lambdas/adapters/dynamodb-store';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { arrivalsSince } from '../../lambdas/adapters/inspection';
import { TABLE } from '../../contract/shapes';
import { createReceiveHandler, type ReceiveDeps } from '../../lambdas/handlers/receive-handler';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import type { Envelope } from '../../contract/envelope';
import { canonicalJson, sha256 } from '../../lambdas/ingest/envelope';
import type { MessageQueue } from '../../lambdas/ingest/ports';
import { ACK_TEXT, type Ack } from '../../contract/ack';
import { MESSAGE_TYPES, parseMessage, type MessageType } from '../../contract/catalog';
import { startDynamo, type DynamoEmulator } from '../../local/emulators';
import { localOverrides } from '../../local/clients';
import { provision, type Resources } from '../../local/provision';
import { dynamoClient, drain, getRecord, listKeys, pendingIds, queueDepth, s3Client, sqsClient } from '../support/aws';
import { proxyEvent } from '../../testing/events';
import { freshMessage } from '../../testing/messages';

/*
 * The Lambda handler with the real DynamoDB and SQS adapters against real emulators:
 * AWS's DynamoDB Local (Java) and dynalite (the no-Java fallback, which returns no item
 * with a failed condition and so exercises the consistent-read path), and fauxqs for SQS FIFO.
 */

const emulators = inject('emulators');
// Both, always: the run refuses to start without Java (test/support/global-emulators.ts), so no backend quietly drops out.
const backends = ['dynamodb-local', 'dynalite'] as const;

const UNREACHABLE = 'http://127.0.0.1:9'; // discard port: nothing listens, every call fails fast

describe.each(backends)('receive on %s + fauxqs', (backend) => {
  let dynalite: DynamoEmulator | undefined;
  let dynamodbEndpoint: string;
  let resources: Resources;
  let dynamodb: DynamoDBClient;
  let sqs: SQSClient;
  let s3: S3Client;

  beforeAll(async () => {
    if (backend === 'dynalite') dynalite = await startDynamo({ preferJava: false });
    dynamodbEndpoint = dynalite?.endpoint ?? emulators.dynamodb;
    resources = await provision(
      { dynamodb: dynamodbEndpoint, sqs: emulators.sqs, s3: emulators.sqs },
      { prefix: `it-${backend}-${randomUUID().slice(0, 8)}` },
    );
    dynamodb = dynamoClient(dynamodbEndpoint);
    sqs = sqsClient(emulators.sqs);
    s3 = s3Client(emulators.sqs);
  });

  afterAll(async () => {
    dynamodb?.destroy();
    sqs?.destroy();
    s3?.destroy();
    await dynalite?.stop();
  });

  beforeEach(async () => {
    await drain(sqs, resources.queueUrl);
  });

  /*
   * Every SendMessage that SQS took through the real adapter, by MessageId. FIFO deduplication (fauxqs's, like
   * SQS's) keeps a repeated send off the queue, so a queue depth of one cannot tell "sent once" from "sent on
   * every re-send": these counts can.
   */
  const sendsOf = new Map<string, number>();
  const sends = (messageId: unknown) => sendsOf.get(String(messageId).toLowerCase()) ?? 0;

  const adaptersFor = (endpoints: { dynamodb?: string; sqs?: string; s3?: string } = {}) => {
    const overrides = localOverrides(
      { dynamodb: endpoints.dynamodb ?? dynamodbEndpoint, sqs: endpoints.sqs ?? emulators.sqs, s3: endpoints.s3 ?? emulators.sqs },
      { maxAttempts: 1 },
    );
    const adapters = createAwsAdapters(
      { TABLE_NAME: resources.tableName, QUEUE_URL: resources.queueUrl, BUCKET_NAME: resources.bucket, S3_FORCE_PATH_STYLE: true },
      overrides,
    );
    const queue = adapters.ports.queue;
    const counted: MessageQueue = {
      send: async (message) => {
        await queue.send(message);
        sendsOf.set(message.deduplicationId, (sendsOf.get(message.deduplicationId) ?? 0) + 1);
      },
    };
    return { ...adapters, ports: { ...adapters.ports, queue: counted } };
  };

  const handlerFor = (type: MessageType | undefined, endpoints: { dynamodb?: string; sqs?: string; s3?: string } = {}) => {
    const deps: ReceiveDeps = {
      ...adaptersFor(endpoints),
      settings: { site: 'it-site', retentionDays: 7, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES },
      maxBodyBytes: 4 * 1024 * 1024,
      logger: new Logger({ serviceName: 'it' }),
      metrics: new Metrics({ namespace: 'it' }),
    };
    return createReceiveHandler(type, deps);
  };

  const reconciler = () =>
    createReconcileHandler({
      ports: adaptersFor().ports,
      settings: { graceSeconds: 0, batch: 100 },
      logger: new Logger({ serviceName: 'it' }),
      metrics: new Metrics({ namespace: 'it' }),
    });

  const post = async (type: MessageType, body: unknown, handler = handlerFor(type)) => {
    const result = await handler(proxyEvent({ path: `/${type}`, body: typeof body === 'string' ? body : JSON.stringify(body) }));
    return { status: result.statusCode, ack: JSON.parse(result.body) as Ack };
  };

  it.each(MESSAGE_TYPES)('delivers a first %s once: ack, record FORWARDED, envelope on the FIFO queue', async (type) => {
    const body = freshMessage(type);
    const { status, ack } = await post(type, body);
    expect(status).toBe(200);
    expect(ack).toEqual({ MessageId: body.MessageId, Message: ACK_TEXT.accepted, Status: 'Success' });

    const messages = await drain(sqs, resources.queueUrl);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    const envelope = JSON.parse(message!.Body!) as Envelope;
    const parsed = parseMessage(type, body);
    if (!parsed.ok) throw new Error('example rejected');
    expect(envelope).toMatchObject({
      version: 1,
      site: 'it-site',
      messageType: type,
      messageId: body.MessageId,
      payload: parsed.message.payload,
    });
    expect(message!.MessageAttributes).toEqual({
      MessageType: { DataType: 'String', StringValue: type },
      Lpu: { DataType: 'String', StringValue: body.Lpu },
      Status: { DataType: 'String', StringValue: 'Success' },
    });
    expect(message!.Attributes?.MessageDeduplicationId).toBe(body.MessageId);
    expect(message!.Attributes?.MessageGroupId).toBe(parsed.message.documentKey);

    const item = await getRecord(dynamodb, resources.tableName, String(body.MessageId));
    expect(item?.state).toBe('FORWARDED');
    expect(item?.payloadHash).toBe(sha256(canonicalJson(parsed.message.payload)));
    expect(item?.[TABLE.pendingIndex.partitionKey]).toBeUndefined();
    expect(Number(item?.[TABLE.ttlAttribute])).toBeGreaterThan(Date.now() / 1000 + 6 * 86_400);
  });

  it('acks a sequential duplicate with Success and forwards nothing more', async () => {
    const body = freshMessage('REMDStatus');
    await post('REMDStatus', body);
    const second = await post('REMDStatus', body);
    expect(second).toEqual({ status: 200, ack: { MessageId: body.MessageId, Message: ACK_TEXT.duplicate, Status: 'Success' } });
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
    expect(sends(body.MessageId)).toBe(1);
  });

  it('puts exactly one message on the queue for 25 concurrent deliveries of one MessageId', async () => {
    const body = freshMessage('CDAStatus');
    const handler = handlerFor('CDAStatus');
    const results = await Promise.all(Array.from({ length: 25 }, () => post('CDAStatus', body, handler)));
    expect(results.map((r) => r.status)).toEqual(Array(25).fill(200));
    expect(results.every((r) => r.ack.Status === 'Success')).toBe(true);
    expect(results.filter((r) => r.ack.Message === ACK_TEXT.accepted)).toHaveLength(1);
    expect(results.filter((r) => r.ack.Message === ACK_TEXT.duplicate)).toHaveLength(24);
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
    // A loser that finds the record still RECEIVED forwards again (deduplicated): at most one send each.
    expect(sends(body.MessageId)).toBeGreaterThanOrEqual(1);
    expect(sends(body.MessageId)).toBeLessThanOrEqual(25);
    const after = sends(body.MessageId);
    expect(await post('CDAStatus', body, handler)).toMatchObject({ status: 200, ack: { Message: ACK_TEXT.duplicate } });
    expect(sends(body.MessageId)).toBe(after); // forwarded by then: a re-send sends nothing
    expect((await getRecord(dynamodb, resources.tableName, String(body.MessageId)))?.state).toBe('FORWARDED');
  });

  it('answers 409 to the same MessageId with other content and keeps the first', async () => {
    const body = freshMessage('MseResult');
    await post('MseResult', body);
    const before = await getRecord(dynamodb, resources.tableName, String(body.MessageId));
    const { status, ack } = await post('MseResult', { ...body, IdResultMSE: '01.20.2735.999' });
    expect(status).toBe(409);
    expect(ack.Status).toBe('Failed');
    expect(await getRecord(dynamodb, resources.tableName, String(body.MessageId))).toEqual(before);
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
  });

  it.each([
    ['empty body', 'VimisResult', '', 400],
    ['non-JSON', 'VimisResult', 'MessageId=1&Status=Success', 400],
    ['JSON array', 'VimisResult', '[]', 400],
    ['missing field', 'VimisResult', freshMessage('VimisResult', { IdCaseMis: undefined }), 400],
    ['wrong type', 'SEMDStatus', freshMessage('SEMDStatus', { IdMedDocument: '1053' }), 400],
    ['bad status', 'SEMDStatus', freshMessage('SEMDStatus', { Status: 'OK' }), 400],
    ['body over the function limit', 'CDAStatus', freshMessage('CDAStatus', { CDA: 'A'.repeat(4 * 1024 * 1024) }), 413],
  ] as const)('rejects %s, forwards nothing, and keeps it under rejected/', async (_name, type, body, expected) => {
    const before = await listKeys(s3, resources.bucket, 'rejected/');
    const { status, ack } = await post(type, body);
    expect(status).toBe(expected);
    const added = (await listKeys(s3, resources.bucket, 'rejected/')).filter((key) => !before.includes(key));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(new RegExp(`^rejected/\\d{4}/\\d{2}/\\d{2}/\\d{6}Z-${expected}-\\w+-${type}-`));
    expect(ack.Status).toBe('Failed');
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);
    if (typeof body === 'object')
      expect(await getRecord(dynamodb, resources.tableName, String(body.MessageId).toLowerCase())).toBeUndefined();
  });

  it('answers 404 on the catch-all route for an unknown type, and forwards nothing', async () => {
    const body = freshMessage('MseResult');
    const result = await handlerFor(undefined)(proxyEvent({ path: '/MseResultX', body: JSON.stringify(body) }));
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body)).toMatchObject({ MessageId: body.MessageId, Status: 'Failed' });
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);
  });

  it('forwards exactly once when a sender retries after an attempt died between store and queue', async () => {
    const body = freshMessage('SEMDStatus');
    const parsed = parseMessage('SEMDStatus', body);
    if (!parsed.ok) throw new Error('example rejected');
    // The first attempt: the record is written, then the function dies before the send.
    const store = new DynamoDbMessageStore(dynamodb, resources.tableName);
    const payload = canonicalJson(parsed.message.payload);
    await store.putIfAbsent({
      messageId: parsed.message.messageId,
      state: 'RECEIVED',
      messageType: 'SEMDStatus',
      site: 'it-site',
      lpu: parsed.message.lpu,
      status: parsed.message.status,
      documentKey: parsed.message.documentKey,
      payloadHash: sha256(payload),
      payload,
      payloadBytes: Buffer.byteLength(payload),
      receivedAt: new Date().toISOString(),
      expiresAt: Math.floor(Date.now() / 1000) + 86_400,
    });
    expect(await pendingIds(dynamodb, resources.tableName)).toContain(parsed.message.messageId);

    const retry = await post('SEMDStatus', body);
    expect(retry.status).toBe(200);
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
    expect(sends(body.MessageId)).toBe(1);
    expect((await getRecord(dynamodb, resources.tableName, parsed.message.messageId))?.state).toBe('FORWARDED');
    expect(await pendingIds(dynamodb, resources.tableName)).not.toContain(parsed.message.messageId);
  });

  it('answers 503 when DynamoDB is unreachable, and forwards nothing', async () => {
    const body = freshMessage('MseResultData');
    const { status, ack } = await post('MseResultData', body, handlerFor('MseResultData', { dynamodb: UNREACHABLE }));
    expect(status).toBe(503);
    expect(ack).toEqual({ MessageId: body.MessageId, Message: ACK_TEXT.unavailable, Status: 'Failed' });
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);
  });

  it('acks Success when the queue is unreachable after the store, and the reconciler forwards exactly one', async () => {
    const body = freshMessage('VimisResult');
    const deferred = await post('VimisResult', body, handlerFor('VimisResult', { sqs: UNREACHABLE }));
    expect(deferred).toEqual({ status: 200, ack: { MessageId: body.MessageId, Message: ACK_TEXT.accepted, Status: 'Success' } });
    const id = String(body.MessageId);
    expect((await getRecord(dynamodb, resources.tableName, id))?.state).toBe('RECEIVED');
    expect(await pendingIds(dynamodb, resources.tableName)).toContain(id);
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);

    const report = await reconciler()();
    expect(report).toMatchObject({ forwarded: 1, failed: 0, pendingAfter: 0 });
    await reconciler()();
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
    expect(sends(body.MessageId)).toBe(1); // the failed attempt never reached SQS; the reconciler's second run sends nothing
    expect((await getRecord(dynamodb, resources.tableName, id))?.state).toBe('FORWARDED');
    expect(await pendingIds(dynamodb, resources.tableName)).not.toContain(id);
  });

  it('forwards each pending message once when reconciler runs overlap (no reserved concurrency needed)', async () => {
    const bodies = Array.from({ length: 12 }, () => freshMessage('SEMDStatus'));
    for (const body of bodies) await post('SEMDStatus', body, handlerFor('SEMDStatus', { sqs: UNREACHABLE }));
    const reports = await Promise.all([reconciler()(), reconciler()(), reconciler()()]);
    expect(reports.every((r) => r.failed === 0)).toBe(true);
    expect(reports.reduce((sum, r) => sum + r.forwarded, 0)).toBeGreaterThanOrEqual(bodies.length);
    const ids = (await drain(sqs, resources.queueUrl)).map((m) => (JSON.parse(m.Body!) as Envelope).messageId).sort();
    expect(ids).toEqual(bodies.map((b) => String(b.MessageId)).sort());
    expect(await pendingIds(dynamodb, resources.tableName)).toEqual([]);
  });

  it('reads records the first version wrote (unsharded index keys, payload inline): forwards, lists and dedupes them', async () => {
    const body = freshMessage('REMDStatus');
    const parsed = parseMessage('REMDStatus', body);
    if (!parsed.ok) throw new Error('example must parse');
    const payload = canonicalJson(parsed.message.payload);
    const receivedAt = new Date(Date.now() - 120_000).toISOString();
    // Exactly what version 1 wrote: one pending partition, the day unsharded, `state` and the payload in the item.
    await documentClient(dynamodb).send(
      new PutCommand({
        TableName: resources.tableName,
        Item: {
          MessageId: parsed.message.messageId,
          state: 'RECEIVED',
          messageType: 'REMDStatus',
          site: 'it-site',
          lpu: parsed.message.lpu,
          status: parsed.message.status,
          documentKey: parsed.message.documentKey,
          payloadHash: sha256(payload),
          payload,
          payloadBytes: Buffer.byteLength(payload),
          receivedAt,
          receivedDay: receivedAt.slice(0, 10),
          expiresAt: Math.floor(Date.now() / 1000) + 86_400,
          pendingPartition: 'PENDING',
          pendingSince: receivedAt,
        },
      }),
    );
    const arrivals = await arrivalsSince(dynamodb, resources.tableName, new Date(Date.now() - 180_000).toISOString());
    expect(arrivals.find((a) => a.messageId === parsed.message.messageId)).toMatchObject({ state: 'RECEIVED', messageType: 'REMDStatus' });
    expect(await pendingIds(dynamodb, resources.tableName)).toContain(parsed.message.messageId);

    expect(await reconciler()()).toMatchObject({ forwarded: 1, failed: 0 });
    const [message] = await drain(sqs, resources.queueUrl);
    expect((JSON.parse(message!.Body!) as Envelope).payload).toEqual(parsed.message.payload);
    expect(await post('REMDStatus', body)).toMatchObject({ status: 200, ack: { Message: ACK_TEXT.duplicate } });
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);
    expect((await getRecord(dynamodb, resources.tableName, parsed.message.messageId))?.state).toBe('FORWARDED');
  });

  it('forwards once when a late re-send races the reconciler', async () => {
    const body = freshMessage('REMDStatus');
    await post('REMDStatus', body, handlerFor('REMDStatus', { sqs: UNREACHABLE }));
    const [resent, report] = await Promise.all([post('REMDStatus', body), reconciler()()]);
    expect(resent.ack.Status).toBe('Success');
    expect(report.failed).toBe(0);
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
  });

  describe('claim check', () => {
    const cda = (megabytes: number) => Buffer.alloc(megabytes * 1024 * 1024 * 0.75, 'CDA-PDF').toString('base64');

    it('puts a 3 MB CDA in the bucket once for 50 concurrent deliveries, and forwards one reference', async () => {
      const body = freshMessage('CDAStatus', { CDA: cda(3) });
      const handler = handlerFor('CDAStatus');
      // Serialised once: 50 serialisations of 4 MB would be the test's own CPU, not the endpoint's.
      const raw = JSON.stringify(body);
      const results = await Promise.all(Array.from({ length: 50 }, () => post('CDAStatus', raw, handler)));
      // The losers of the race are duplicates, not 503s.
      expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
      expect(results.filter((r) => r.ack.Message === ACK_TEXT.accepted)).toHaveLength(1);
      expect(results.filter((r) => r.ack.Message === ACK_TEXT.duplicate)).toHaveLength(49);

      const id = String(body.MessageId);
      const objects = (await listKeys(s3, resources.bucket, 'it-site/CDAStatus/')).filter((key) => key.includes(id));
      expect(objects).toHaveLength(1);
      const messages = await drain(sqs, resources.queueUrl);
      expect(messages).toHaveLength(1);
      expect(Buffer.byteLength(messages[0]!.Body!)).toBeLessThan(256 * 1024);
      const envelope = JSON.parse(messages[0]!.Body!) as Envelope;
      expect(envelope.payload).toBeUndefined();
      expect(envelope.payloadRef).toMatchObject({ bucket: resources.bucket, key: objects[0] });
      const item = await getRecord(dynamodb, resources.tableName, id);
      expect(item?.payload).toBeUndefined();
      expect((item?.payloadRef as { key?: string } | undefined)?.key).toBe(objects[0]);
    });

    it('answers 503 when the bucket is unreachable, and stores and forwards nothing', async () => {
      const body = freshMessage('MseResultData', { Data: cda(1) });
      const { status, ack } = await post('MseResultData', body, handlerFor('MseResultData', { s3: UNREACHABLE }));
      expect(status).toBe(503);
      expect(ack.Status).toBe('Failed');
      expect(await getRecord(dynamodb, resources.tableName, String(body.MessageId))).toBeUndefined();
      expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);
    });

    it('hands the reconciler a reference, not the payload, for a deferred large message', async () => {
      const body = freshMessage('MseResultData', { Data: cda(1) });
      await post('MseResultData', body, handlerFor('MseResultData', { sqs: UNREACHABLE }));
      await reconciler()();
      const [message] = await drain(sqs, resources.queueUrl);
      expect((JSON.parse(message!.Body!) as Envelope).payloadRef?.key).toContain(String(body.MessageId));
    });
  });
});
