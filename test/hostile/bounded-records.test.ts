import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbMessageStore } from '../../lambdas/adapters/dynamodb-store';
import type { Envelope } from '../../contract/envelope';
import { RecordTooLargeError } from '../../contract/errors';
import type { MessageRecord } from '../../lambdas/ingest/ports';
import { drain, getRecord, listKeys, queueDepth } from '../support/aws';
import { freshMessage } from '../../testing/messages';
import { receiveSite, type ReceiveSite } from '../support/receive-site';

/*
 * Issue 17, point 4: a record always fits DynamoDB's 400 KB item, or the message is refused once
 * with 413 — never a 503 the sender re-sends into forever — and no upload is left behind.
 */

let site: ReceiveSite;
beforeAll(async () => {
  site = await receiveSite('bounded');
});
afterAll(() => site?.close());
beforeEach(async () => {
  await drain(site.sqs, site.resources.queueUrl);
});

const payloadObjects = () => listKeys(site.s3, site.resources.bucket, 'bounded/');

/**
 * 600 KB of small extra fields within the parse caps (contract/limits.ts: 200 extra keys per object): 200
 * extras, each an object of 30 short strings. Each is under the length that marks a body; together far over an item.
 */
const smallExtras = () =>
  Object.fromEntries(
    Array.from({ length: 200 }, (_, i) => [
      `Extra${i}`,
      Object.fromEntries(Array.from({ length: 30 }, (_, j) => [`f${j}`, 'x'.repeat(100)])),
    ]),
  );

describe('records stay within an item', () => {
  it('accepts a REMDStatus with 600 KB of small extra fields once, forwards it, and keeps only a bounded record', async () => {
    const body = freshMessage('REMDStatus', smallExtras());
    const id = String(body.MessageId);
    const first = await site.post('REMDStatus', body);
    expect([first.status, first.ack.Status]).toEqual([200, 'Success']);
    const again = await site.post('REMDStatus', body);
    expect([again.status, again.ack.Status]).toEqual([200, 'Success']);

    const item = await getRecord(site.dynamodb, site.resources.tableName, id);
    expect(item?.state).toBe('FORWARDED');
    const facts = JSON.parse(String(item?.facts)) as Record<string, unknown>;
    // The catalog's fields are all there; the extras only as far as their budget goes.
    expect(facts).toMatchObject({ IdSourceMis: body.IdSourceMis, RemdRegNumber: body.RemdRegNumber, Message: body.Message });
    expect(Buffer.byteLength(String(item?.facts))).toBeLessThan(64 * 1024);
    // The whole payload is in the bucket, referenced by the one message on the queue.
    const [message] = await drain(site.sqs, site.resources.queueUrl);
    const envelope = JSON.parse(message!.Body!) as Envelope;
    expect(envelope.messageId).toBe(id);
    expect(envelope.payloadRef?.size).toBeGreaterThan(600_000);
    expect((await payloadObjects()).filter((key) => key.includes(id))).toEqual([envelope.payloadRef?.key]);
  });

  it('answers 413 once, not 503, to a message whose record cannot fit, keeps it, and leaves no upload behind', async () => {
    // A document id of 450 KB: the record must carry it (it keys the document), and it cannot fit.
    const body = freshMessage('REMDStatus', { IdSourceMis: 'd'.repeat(450_000) });
    const id = String(body.MessageId);
    const before = await listKeys(site.s3, site.resources.bucket, 'rejected/');
    for (let attempt = 0; attempt < 2; attempt++) {
      const { status, ack } = await site.post('REMDStatus', body);
      expect([status, ack.Status]).toEqual([413, 'Failed']);
      expect(ack.Message).toMatch(/^Сообщение слишком велико.*IdSourceMis/);
    }
    const added = (await listKeys(site.s3, site.resources.bucket, 'rejected/')).filter((key) => !before.includes(key));
    expect(added).toEqual([expect.stringMatching(/-413-record_too_large-REMDStatus-/), expect.stringMatching(/-413-record_too_large-/)]);
    expect((await payloadObjects()).filter((key) => key.includes(id))).toEqual([]);
    expect(await getRecord(site.dynamodb, site.resources.tableName, id)).toBeUndefined();
    expect(await queueDepth(site.sqs, site.resources.queueUrl)).toBe(0);
  });

  it('turns DynamoDB’s item-size refusal into RecordTooLargeError (413), never a store outage (503)', async () => {
    const store = new DynamoDbMessageStore(site.dynamodb, site.resources.tableName);
    const record: MessageRecord = {
      messageId: crypto.randomUUID(),
      state: 'RECEIVED',
      messageType: 'REMDStatus',
      site: 'bounded',
      lpu: 'lpu',
      status: 'Success',
      documentKey: 'k'.repeat(420_000),
      payloadHash: '0'.repeat(64),
      payload: '{}',
      payloadBytes: 2,
      receivedAt: new Date().toISOString(),
      expiresAt: Math.floor(Date.now() / 1000) + 86_400,
    };
    const error = await store.putIfAbsent(record).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect((error as RecordTooLargeError).status).toBe(413);
  });
});
