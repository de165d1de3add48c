import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../contract/envelope';
import { MESSAGE_TYPES, type MessageType } from '../../contract/catalog';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { drain, s3Client, sqsClient } from '../support/aws';
import { freshMessage } from '../../testing/messages';
import { queueValidator } from '../support/queue-schemas';

// The spec table's spelling of StatusCode, with a Cyrillic С.
const TABLE_STATUS_CODE = 'Status\u0421ode';

/*
 * What `npm start` really puts on the MIS queue, checked against the published JSON Schemas
 * (docs/schemas/, ajv 2020-12): every spec example as sent over HTTP, the sender's legal variants,
 * and a claim-checked CDA whose object is fetched from the bucket and checked too.
 */

const { envelopeErrors, payloadErrors } = queueValidator();

describe('every message the local stack queues matches the published queue schemas', () => {
  let stack: LocalStack;
  let sqs: SQSClient;
  let s3: S3Client;
  const post = async (type: MessageType, body: string | Buffer) => {
    const response = await fetch(new URL(type, stack.info.baseUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body,
    });
    expect(response.status, await response.text()).toBe(200);
  };
  const received = async (): Promise<Array<{ message: Message; envelope: Envelope }>> =>
    (await drain(sqs, stack.info.queueUrl)).map((message) => ({ message, envelope: JSON.parse(message.Body!) as Envelope }));

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'mo-schema', reconcileEverySeconds: 0 });
    sqs = sqsClient(stack.info.sqsEndpoint);
    s3 = s3Client(stack.info.s3Endpoint);
  });
  afterAll(async () => stack?.stop());

  it('the six examples of examples/*.json, posted as they are: envelope, inline payload and message attributes', async () => {
    for (const type of MESSAGE_TYPES) await post(type, readFileSync(new URL(`../../examples/${type}.json`, import.meta.url)));
    const messages = await received();
    expect(messages.map((m) => m.envelope.messageType).sort()).toEqual([...MESSAGE_TYPES].sort());
    for (const { message, envelope } of messages) {
      expect(envelopeErrors(envelope), envelope.messageType).toBe('');
      expect(payloadErrors(envelope.messageType as MessageType, envelope.payload)).toBe('');
      expect(envelope).toMatchObject({ site: 'mo-schema', version: 1 });
      const payload = envelope.payload!;
      expect(message.MessageAttributes).toEqual({
        MessageType: { DataType: 'String', StringValue: envelope.messageType },
        Lpu: { DataType: 'String', StringValue: payload.Lpu },
        Status: { DataType: 'String', StringValue: payload.Status },
      });
      expect(message.Attributes?.MessageDeduplicationId).toBe(envelope.messageId);
    }
  });

  it('the legal variants a sender may write (upper-case UUIDs, nulls, table spellings, extra fields), normalised', async () => {
    const { IdSource, StatusCode, ...vimis } = freshMessage('VimisResult', { MessageId: crypto.randomUUID().toUpperCase() });
    await post('VimisResult', JSON.stringify({ ...vimis, IdSourse: IdSource, [TABLE_STATUS_CODE]: StatusCode, Extra: { a: [1] } }));
    await post('REMDStatus', JSON.stringify(freshMessage('REMDStatus', { RemdRegNumber: null, Status: 'Failed' })));
    await post('MseResultData', JSON.stringify(freshMessage('MseResultData', { Data: null })));
    const messages = await received();
    expect(messages).toHaveLength(3);
    for (const { envelope } of messages) expect(envelopeErrors(envelope), envelope.messageType).toBe('');
    const vimisPayload = messages.find((m) => m.envelope.messageType === 'VimisResult')!.envelope.payload!;
    expect(vimisPayload).toMatchObject({ IdSource, StatusCode, Extra: { a: [1] }, MessageId: String(vimis.MessageId).toLowerCase() });
  });

  it('a large CDA through the claim check: the envelope carries payloadRef, the object has its size and sha256 and matches the payload schema', async () => {
    const cda = freshMessage('CDAStatus', { CDA: Buffer.alloc(150_000, 'ClinicalDocument').toString('base64') });
    await post('CDAStatus', JSON.stringify(cda));
    const [only, ...rest] = await received();
    expect(rest).toHaveLength(0);
    const { envelope } = only!;
    expect(envelope.payload).toBeUndefined();
    expect(envelopeErrors(envelope)).toBe('');
    const ref = envelope.payloadRef!;
    const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    expect(bytes.length).toBe(ref.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(ref.sha256);
    const payload = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    expect(payloadErrors('CDAStatus', payload)).toBe('');
    expect(payload.CDA).toBe(cda.CDA);
  });
});
