import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createCallbackConsumer, EnvelopeError, type CallbackConsumer, type CallbackMessage } from '../../consumer/index';
import { ENVELOPE_VERSION } from '../../contract/envelope';
import { provision, type Resources } from '../../local/provision';
import { queueDepth, s3Client, sqsClient } from '../support/aws';
import { freshMessage } from '../../testing/messages';
import { until } from '../support/wait';

/*
 * The versioning rule (README, "Versioning"), as the TypeScript consumer library applies it: an envelope
 * version it does not know is never handed to a handler nor deleted — reported through onError, it
 * reaches the dead-letter queue after the redrive count (the DLQ alarm fires); fields it does not know
 * are ignored in the envelope and handed over untouched in the payload. examples/python/consumer.py
 * follows the same rule (test/e2e/python-consumer.test.ts).
 */

const emulators = inject('emulators');

describe('consumer library and the versioning rule', () => {
  let resources: Resources;
  let sqs: SQSClient;
  let consumer: CallbackConsumer | undefined;

  beforeEach(async () => {
    resources = await provision(
      { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs },
      { prefix: `versioning-${randomUUID().slice(0, 8)}` },
    );
  });
  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
  });
  beforeAll(() => {
    sqs = sqsClient(emulators.sqs);
  });
  afterAll(() => sqs?.destroy());

  const put = (body: Record<string, unknown>) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: resources.queueUrl,
        MessageBody: JSON.stringify(body),
        MessageGroupId: randomUUID(),
        MessageDeduplicationId: randomUUID(),
      }),
    );
  const envelope = (payload: Record<string, unknown>, messageType: string) => ({
    version: ENVELOPE_VERSION,
    site: 'versioning',
    messageType,
    messageId: String(payload.MessageId),
    receivedAt: new Date().toISOString(),
    payload,
  });

  it('never hands an unknown envelope version to a handler nor deletes it: reported each time, then in the DLQ; others go on', async () => {
    await put({ ...envelope(freshMessage('REMDStatus'), 'REMDStatus'), version: ENVELOPE_VERSION + 1, shapeOfTheFuture: true });
    const current = freshMessage('REMDStatus');
    await put(envelope(current, 'REMDStatus'));
    const handled: string[] = [];
    const errors: Error[] = [];
    consumer = createCallbackConsumer({
      queueUrl: resources.queueUrl,
      sqs: sqsClient(emulators.sqs),
      s3: s3Client(emulators.sqs),
      waitTimeSeconds: 1,
      visibilityTimeout: 1,
      handlers: { REMDStatus: async (m) => void handled.push(m.messageId) },
      onError: (error) => errors.push(error),
    });
    consumer.start();
    await until(async () => ((await queueDepth(sqs, resources.dlqUrl)) === 1 ? true : undefined), 'the unknown version in the DLQ', 30_000);
    expect(handled).toEqual([current.MessageId]);
    expect(errors).toHaveLength(5);
    for (const error of errors) {
      expect(error).toBeInstanceOf(EnvelopeError);
      expect(error.message).toBe(`unsupported envelope version ${ENVELOPE_VERSION + 1}`);
    }
    expect(await queueDepth(sqs, resources.queueUrl)).toBe(0);
  });

  it('ignores fields it does not know: extra envelope fields are dropped, extra payload fields handed over as they are', async () => {
    const payload: Record<string, unknown> = { ...freshMessage('SEMDStatus'), IdAddedLater: { any: ['shape'] } };
    await put({ ...envelope(payload, 'SEMDStatus'), traceId: 'added later' });
    const received = await new Promise<CallbackMessage<'SEMDStatus'>>((resolve) => {
      consumer = createCallbackConsumer({
        queueUrl: resources.queueUrl,
        sqs: sqsClient(emulators.sqs),
        s3: s3Client(emulators.sqs),
        waitTimeSeconds: 1,
        handlers: { SEMDStatus: async (m) => resolve(m) },
      });
      consumer.start();
    });
    expect(received.messageId).toBe(payload.MessageId);
    expect(received.payload).toMatchObject({ IdAddedLater: { any: ['shape'] }, IdMedDocumentMis: payload.IdMedDocumentMis });
    expect(Object.keys(received)).not.toContain('traceId');
    await until(async () => ((await queueDepth(sqs, resources.queueUrl)) === 0 ? true : undefined), 'the message deleted');
  });
});
