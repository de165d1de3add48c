import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createAwsPorts, type ClientOverrides } from '../../lambdas/adapters/aws';
import { DynamoDbMessageStore } from '../../lambdas/adapters/dynamodb-store';
import { TABLE } from '../../lambdas/adapters/table-schema';
import { createReceiveHandler, type ReceiveDeps } from '../../lambdas/handlers/receive';
import type { Envelope } from '../../lambdas/ingest/envelope';
import { canonicalJson, sha256 } from '../../lambdas/ingest/envelope';
import { ACK_TEXT, type Ack } from '../../lambdas/protocol/ack';
import { MESSAGE_TYPES, parseMessage, type MessageType } from '../../lambdas/protocol/catalog';
import { startDynamo, type DynamoEmulator } from '../../local/emulators';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provision, type Resources } from '../../local/provision';
import { dynamoClient, drain, getRecord, pendingIds, queueDepth, sqsClient } from '../support/aws';
import { proxyEvent } from '../support/events';
import { freshMessage } from '../support/messages';

/*
 * The Lambda handler with the real DynamoDB and SQS adapters against real emulators:
 * AWS's DynamoDB Local (Java) and dynalite (the no-Java fallback, which returns no item
 * with a failed condition and so exercises the consistent-read path), and fauxqs for SQS FIFO.
 */

const emulators = inject('emulators');
const backends = [
  ...(emulators.dynamodbKind === 'dynamodb-local' ? ['dynamodb-local' as const] : []),
  'dynalite' as const,
];

const UNREACHABLE = 'http://127.0.0.1:9'; // discard port: nothing listens, every call fails fast

describe.each(backends)('receive on %s + fauxqs', (backend) => {
  let dynalite: DynamoEmulator | undefined;
  let dynamodbEndpoint: string;
  let resources: Resources;
  let dynamodb: DynamoDBClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    if (backend === 'dynalite') dynalite = await startDynamo({ preferJava: false });
    dynamodbEndpoint = dynalite?.endpoint ?? emulators.dynamodb;
    resources = await provision(
      { dynamodb: dynamodbEndpoint, sqs: emulators.sqs, s3: emulators.sqs },
      { prefix: `it-${backend}-${randomUUID().slice(0, 8)}` },
    );
    dynamodb = dynamoClient(dynamodbEndpoint);
    sqs = sqsClient(emulators.sqs);
  });

  afterAll(async () => {
    dynamodb?.destroy();
    sqs?.destroy();
    await dynalite?.stop();
  });

  beforeEach(async () => {
    await drain(sqs, resources.queueUrl);
  });

  const handlerFor = (type: MessageType | undefined, endpoints: { dynamodb?: string; sqs?: string } = {}) => {
    const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const overrides: ClientOverrides = {
      dynamodb: { ...common, endpoint: endpoints.dynamodb ?? dynamodbEndpoint, maxAttempts: 1 },
      sqs: { ...common, endpoint: endpoints.sqs ?? emulators.sqs, maxAttempts: 1 },
    };
    const deps: ReceiveDeps = {
      ports: createAwsPorts({ TABLE_NAME: resources.tableName, QUEUE_URL: resources.queueUrl }, overrides),
      settings: { site: 'it-site', retentionDays: 7, maxInlinePayloadBytes: 200 * 1024 },
      maxBodyBytes: 4 * 1024 * 1024,
      logger: new Logger({ serviceName: 'it' }),
      metrics: new Metrics({ namespace: 'it' }),
    };
    return createReceiveHandler(type, deps);
  };

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
    expect(envelope).toMatchObject({ version: 1, site: 'it-site', messageType: type, messageId: body.MessageId, payload: parsed.message.payload });
    expect(message!.MessageAttributes).toEqual({
      MessageType: { DataType: 'String', StringValue: type },
      Lpu: { DataType: 'String', StringValue: body.Lpu },
      Status: { DataType: 'String', StringValue: 'Success' },
    });
    expect(message!.Attributes?.MessageDeduplicationId).toBe(body.MessageId);
    expect(message!.Attributes?.MessageGroupId).toBe(parsed.message.documentKey);

    const item = await getRecord(dynamodb, resources.tableName, String(body.MessageId));
    expect(item?.state?.S).toBe('FORWARDED');
    expect(item?.payloadHash?.S).toBe(sha256(canonicalJson(parsed.message.payload)));
    expect(item?.[TABLE.pendingIndex.partitionKey]).toBeUndefined();
    expect(Number(item?.[TABLE.ttlAttribute]?.N)).toBeGreaterThan(Date.now() / 1000 + 6 * 86_400);
  });

  it('acks a sequential duplicate with Success and forwards nothing more', async () => {
    const body = freshMessage('REMDStatus');
    await post('REMDStatus', body);
    const second = await post('REMDStatus', body);
    expect(second).toEqual({ status: 200, ack: { MessageId: body.MessageId, Message: ACK_TEXT.duplicate, Status: 'Success' } });
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
  });

  it('puts exactly one message on the queue for 25 concurrent deliveries of one MessageId', async () => {
    const body = freshMessage('CDAStatus');
    const handler = handlerFor('CDAStatus');
    const results = await Promise.all(Array.from({ length: 25 }, () => post('CDAStatus', body, handler)));
    expect(results.map((r) => r.status)).toEqual(Array(25).fill(200));
    expect(results.every((r) => r.ack.Status === 'Success')).toBe(true);
    expect(results.filter((r) => r.ack.Message === ACK_TEXT.accepted)).toHaveLength(1);
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
    expect((await getRecord(dynamodb, resources.tableName, String(body.MessageId)))?.state?.S).toBe('FORWARDED');
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
    ['too large inline payload', 'CDAStatus', freshMessage('CDAStatus', { CDA: 'A'.repeat(300 * 1024) }), 413],
  ] as const)('rejects %s, stores and forwards nothing', async (_name, type, body, expected) => {
    const { status, ack } = await post(type, body);
    expect(status).toBe(expected);
    expect(ack.Status).toBe('Failed');
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);
    if (typeof body === 'object') expect(await getRecord(dynamodb, resources.tableName, String(body.MessageId).toLowerCase())).toBeUndefined();
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
    expect((await getRecord(dynamodb, resources.tableName, parsed.message.messageId))?.state?.S).toBe('FORWARDED');
    expect(await pendingIds(dynamodb, resources.tableName)).not.toContain(parsed.message.messageId);
  });

  it('answers 503 when DynamoDB is unreachable, and forwards nothing', async () => {
    const body = freshMessage('MseResultData');
    const { status, ack } = await post('MseResultData', body, handlerFor('MseResultData', { dynamodb: UNREACHABLE }));
    expect(status).toBe(503);
    expect(ack).toEqual({ MessageId: body.MessageId, Message: ACK_TEXT.unavailable, Status: 'Failed' });
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);
  });

  it('answers 503 when the queue is unreachable, keeps the message pending, and the retry forwards it once', async () => {
    const body = freshMessage('VimisResult');
    const failed = await post('VimisResult', body, handlerFor('VimisResult', { sqs: UNREACHABLE }));
    expect(failed.status).toBe(503);
    const id = String(body.MessageId);
    expect((await getRecord(dynamodb, resources.tableName, id))?.state?.S).toBe('RECEIVED');
    expect(await pendingIds(dynamodb, resources.tableName)).toContain(id);

    const retried = await Promise.all([post('VimisResult', body), post('VimisResult', body)]);
    expect(retried.map((r) => r.status)).toEqual([200, 200]);
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
    expect(await pendingIds(dynamodb, resources.tableName)).not.toContain(id);
  });
});
