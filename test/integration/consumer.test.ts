import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  createCallbackConsumer,
  isSimulation,
  PayloadIntegrityError,
  type CallbackConsumer,
  type CallbackMessage,
} from '../../consumer/index';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import type { Envelope } from '../../contract/envelope';
import { MESSAGE_TYPES, type MessageType } from '../../contract/catalog';
import { localOverrides } from '../../local/clients';
import { provision, type Resources } from '../../local/provision';
import { drain, queueDepth, s3Client, sqsClient } from '../support/aws';
import { proxyEvent } from '../../testing/events';
import { freshMessage } from '../../testing/messages';
import { until } from '../support/wait';

/*
 * The consumer library against fauxqs (SQS + S3) with messages the endpoint itself produced
 * on DynamoDB Local: what an MIS team will run, end to end.
 */

const emulators = inject('emulators');

describe('callback consumer', () => {
  let resources: Resources;
  let sqs: SQSClient;
  let s3: S3Client;
  let send: (type: MessageType, body: Record<string, unknown>, headers?: Record<string, string>) => Promise<number>;
  let consumer: CallbackConsumer | undefined;

  // Fresh table, queues and bucket per test: a message a test leaves in flight cannot touch the next.
  beforeEach(async () => {
    resources = await provision(
      { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs },
      { prefix: `consumer-${randomUUID().slice(0, 8)}` },
    );
    const adapters = createAwsAdapters(
      { TABLE_NAME: resources.tableName, QUEUE_URL: resources.queueUrl, BUCKET_NAME: resources.bucket, S3_FORCE_PATH_STYLE: true },
      localOverrides({ dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs }),
    );
    const deps = {
      ...adapters,
      settings: { site: 'consumer-site', retentionDays: 1, maxInlinePayloadBytes: 200 * 1024 },
      maxBodyBytes: 4 * 1024 * 1024,
      logger: new Logger({ serviceName: 'it', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'it' }),
    };
    send = async (type, body, headers) =>
      (
        await createReceiveHandler(
          type,
          deps,
        )(proxyEvent({ path: `/${type}`, body: JSON.stringify(body), ...(headers ? { headers } : {}) }))
      ).statusCode;
  });
  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
  });
  beforeAll(() => {
    sqs = sqsClient(emulators.sqs);
    s3 = s3Client(emulators.sqs);
  });
  afterAll(() => {
    sqs?.destroy();
    s3?.destroy();
  });

  const start = (
    options: Partial<Parameters<typeof createCallbackConsumer>[0]> & Pick<Parameters<typeof createCallbackConsumer>[0], 'handlers'>,
  ) => {
    consumer = createCallbackConsumer({
      queueUrl: resources.queueUrl,
      sqs: sqsClient(emulators.sqs),
      s3: s3Client(emulators.sqs),
      waitTimeSeconds: 1,
      ...options,
    });
    consumer.start();
    return consumer;
  };

  it('hands each type to its typed handler exactly once and deletes it', async () => {
    const seen: CallbackMessage[] = [];
    const record = async (message: CallbackMessage) => void seen.push(message);
    const sent = MESSAGE_TYPES.map((type) => [type, freshMessage(type)] as const);
    for (const [type, body] of sent) {
      expect(await send(type, body)).toBe(200);
      expect(await send(type, body)).toBe(200); // the sender's re-send
    }
    start({
      handlers: {
        CDAStatus: record,
        SEMDStatus: record,
        REMDStatus: async (message) => {
          // Typed from the catalog: REMD fields are known here.
          expect(typeof message.payload.IdFedRequest).toBe('string');
          seen.push(message);
        },
        MseResult: record,
        MseResultData: record,
        VimisResult: record,
      },
    });
    await until(() => (seen.length >= 6 ? true : undefined), 'six messages');
    await until(async () => ((await queueDepth(sqs, resources.queueUrl)) === 0 ? true : undefined), 'an empty queue');
    expect(seen.map((m) => m.messageType).sort()).toEqual([...MESSAGE_TYPES].sort());
    expect(new Set(seen.map((m) => m.messageId)).size).toBe(6);
    for (const [type, body] of sent) {
      const message = seen.find((m) => m.messageType === type)!;
      expect(message.messageId).toBe(String(body.MessageId));
      expect(message.site).toBe('consumer-site');
      expect(message.payload.Message).toBe(body.Message);
      expect(message.receiveCount).toBe(1);
    }
  });

  it('fetches a claim-checked CDA from the bucket, checked, before the handler sees it', async () => {
    const cda = Buffer.alloc(1_500_000, 'PDF').toString('base64');
    const body = freshMessage('CDAStatus', { CDA: cda });
    expect(await send('CDAStatus', body)).toBe(200);
    const received = await new Promise<CallbackMessage<'CDAStatus'>>((resolve) =>
      start({ handlers: { CDAStatus: async (m) => resolve(m) } }),
    );
    expect(received.payload.CDA).toBe(cda);
  });

  it('refuses a payload whose object no longer matches its reference, and keeps the message', async () => {
    const body = freshMessage('MseResultData', { Data: Buffer.alloc(400_000, 'MSE').toString('base64') });
    expect(await send('MseResultData', body)).toBe(200);
    const [message] = await drain(sqs, resources.queueUrl);
    const { payloadRef } = JSON.parse(message!.Body!) as Envelope;
    await s3.send(new PutObjectCommand({ Bucket: payloadRef!.bucket, Key: payloadRef!.key, Body: '{"tampered":true}' }));
    await sqs.send(
      new (await import('@aws-sdk/client-sqs')).SendMessageCommand({
        QueueUrl: resources.queueUrl,
        MessageBody: message!.Body!,
        MessageGroupId: 'g',
        MessageDeduplicationId: randomUUID(),
      }),
    );

    let handled = false;
    const error = await new Promise<Error>((resolve) =>
      start({
        handlers: {
          MseResultData: async () => {
            handled = true;
          },
        },
        onError: (e) => resolve(e),
        visibilityTimeout: 30,
      }),
    );
    expect(error).toBeInstanceOf(PayloadIntegrityError);
    expect(handled).toBe(false);
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);
  });

  it("keeps one document's messages in order", async () => {
    const document = `doc-${randomUUID()}`;
    const bodies = ['первое', 'второе', 'третье'].map((text) => freshMessage('SEMDStatus', { IdMedDocumentMis: document, Message: text }));
    for (const body of bodies) expect(await send('SEMDStatus', body)).toBe(200);
    const order: string[] = [];
    start({ handlers: { SEMDStatus: async (m) => void order.push(String(m.payload.Message)) }, batchSize: 10 });
    await until(() => (order.length === 3 ? true : undefined), 'three messages');
    expect(order).toEqual(['первое', 'второе', 'третье']);
  });

  it('leaves a failing message on the queue, so the redrive policy moves it to the DLQ after 5 receives', async () => {
    const poison = freshMessage('REMDStatus');
    const fine = freshMessage('MseResult');
    expect(await send('REMDStatus', poison)).toBe(200);
    expect(await send('MseResult', fine)).toBe(200);
    const attempts: number[] = [];
    const done: string[] = [];
    start({
      visibilityTimeout: 1,
      handlers: {
        REMDStatus: async (m) => {
          attempts.push(m.receiveCount);
          throw new Error('MIS database down');
        },
        MseResult: async (m) => void done.push(m.messageId),
      },
    });
    await until(async () => ((await queueDepth(sqs, resources.dlqUrl)) === 1 ? true : undefined), 'the poison message in the DLQ', 30_000);
    expect(done).toEqual([String(fine.MessageId)]);
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);
  });

  it('tells a simulated message by its mark, and deletes it unhandled when told to (a production MIS)', async () => {
    const simulated = freshMessage('REMDStatus');
    expect(await send('REMDStatus', simulated, { 'X-N3-Simulation': 'run-7' })).toBe(200);
    const real = freshMessage('REMDStatus');
    expect(await send('REMDStatus', real)).toBe(200);
    const seen: CallbackMessage<'REMDStatus'>[] = [];
    start({ handlers: { REMDStatus: async (m) => void seen.push(m) } });
    await until(() => (seen.length === 2 ? true : undefined), 'both messages');
    await consumer!.stop();
    const byId = new Map(seen.map((m) => [m.messageId, m]));
    expect([isSimulation(byId.get(String(simulated.MessageId))!), byId.get(String(simulated.MessageId))!.simulation]).toEqual([
      true,
      { runId: 'run-7' },
    ]);
    expect(isSimulation(byId.get(String(real.MessageId))!)).toBe(false);

    const productionSeen: string[] = [];
    expect(await send('REMDStatus', freshMessage('REMDStatus'), { 'X-N3-Simulation': 'run-8' })).toBe(200);
    const realToo = freshMessage('REMDStatus');
    expect(await send('REMDStatus', realToo)).toBe(200);
    start({ handlers: { REMDStatus: async (m) => void productionSeen.push(m.messageId) }, simulations: 'delete' });
    await until(async () => ((await queueDepth(sqs, resources.queueUrl)) === 0 ? true : undefined), 'the queue emptied');
    expect(productionSeen).toEqual([String(realToo.MessageId)]);
  });

  it('keeps a type without a handler unless told to delete it', async () => {
    const body = freshMessage('VimisResult');
    expect(await send('VimisResult', body)).toBe(200);
    const other = freshMessage('MseResult');
    expect(await send('MseResult', other)).toBe(200);
    const seen: string[] = [];
    start({ handlers: { MseResult: async (m) => void seen.push(m.messageId) }, visibilityTimeout: 2 });
    await until(() => (seen.length === 1 ? true : undefined), 'the handled message');
    await consumer!.stop();
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(1);

    // The kept message is hidden for its visibility timeout; a consumer told to delete unhandled types settles it.
    start({ handlers: {}, onUnhandled: 'delete', visibilityTimeout: 1 });
    await until(async () => ((await queueDepth(sqs, resources.queueUrl)) === 0 ? true : undefined), 'the queue emptied', 40_000);
  });
});
