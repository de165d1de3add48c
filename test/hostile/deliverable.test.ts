import { Metrics } from '@aws-lambda-powertools/metrics';
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { SqsMessageQueue } from '../../lambdas/adapters/sqs-queue';
import type { Envelope } from '../../contract/envelope';
import { METRIC } from '../../contract/observability';
import { QueueRefusedError, QueueUnavailableError } from '../../contract/errors';
import { ACK_TEXT } from '../../contract/ack';
import type { MessageType } from '../../contract/catalog';
import { localSqs } from '../../local/clients';
import { drain, getRecord, listKeys, pendingIds, queueDepth } from '../support/aws';
import { freshMessage } from '../../testing/messages';
import { receiveSite, type ReceiveSite } from '../support/receive-site';

/*
 * Issue 17, point 3: everything acked is deliverable. SQS refuses some characters that JSON and
 * Unicode allow (U+FFFE, U+FFFF), some in attributes, and messages over the queue's size; a Success
 * ack must mean "on the queue, or pending for a send that can succeed", and one refused record must
 * not hold up the others.
 */

let site: ReceiveSite;
beforeAll(async () => {
  site = await receiveSite('deliverable');
});
afterAll(() => site?.close());
beforeEach(async () => {
  await drain(site.sqs, site.resources.queueUrl);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await setMaximumMessageSize(1024 * 1024);
});

/** The queue's own limit: AWS's default for a queue is 256 KiB, an operator may set less. */
const setMaximumMessageSize = (bytes: number) =>
  site.sqs.send(new SetQueueAttributesCommand({ QueueUrl: site.resources.queueUrl, Attributes: { MaximumMessageSize: String(bytes) } }));

const onQueue = async () =>
  new Map((await drain(site.sqs, site.resources.queueUrl)).map((m) => [(JSON.parse(m.Body!) as Envelope).messageId, m]));

const countsOf = (spy: { mock: { calls: unknown[][] } }, name: string) =>
  spy.mock.calls.filter(([metric]) => metric === name).reduce((sum, [, , value]) => sum + Number(value), 0);

describe('characters SQS refuses', () => {
  it.each([
    ['U+FFFF in Message', 'SEMDStatus', { Message: 'принято\uFFFF' }],
    ['U+FFFE in Message', 'REMDStatus', { Message: '\uFFFEтекст' }],
    ['U+FFFF in the document id', 'CDAStatus', { IdMedDocumentMis: 'doc\uFFFF1' }],
    // AWS takes these raw; SQS-compatible services need not (fauxqs refuses them).
    ['a character beyond the BMP in Message', 'VimisResult', { Message: 'принято 🩺 \u{10FFFD}' }],
    ['U+FFFF in an extra field and its name', 'MseResult', { 'Доп\uFFFF': 'значение\uFFFE' }],
  ] as const)('acks Success for %s only with the message on the queue, carrying the same text', async (_name, type, fields) => {
    const body = freshMessage(type as MessageType, fields);
    const { status, ack } = await site.post(type as MessageType, body);
    expect([status, ack.Status]).toEqual([200, 'Success']);
    const envelope = JSON.parse((await onQueue()).get(String(body.MessageId))?.Body ?? 'null') as Envelope | null;
    expect(envelope?.payload).toMatchObject(fields);
  });

  it('forwards all of three deferred messages in one reconciler run when the oldest holds U+FFFF', async () => {
    const sent = [
      ['SEMDStatus', freshMessage('SEMDStatus', { Message: 'ошибка\uFFFF' })],
      ['SEMDStatus', freshMessage('SEMDStatus')],
      ['REMDStatus', freshMessage('REMDStatus')],
    ] as const;
    for (const [type, body] of sent) expect((await site.post(type, body, { queueDown: true })).ack.Status).toBe('Success');
    const report = await site.reconcile();
    expect(report).toMatchObject({ forwarded: 3, failed: 0 });
    expect([...(await onQueue()).keys()].sort()).toEqual(sent.map(([, b]) => String(b.MessageId)).sort());
    expect(await pendingIds(site.dynamodb, site.resources.tableName)).toEqual([]);
  });
});

describe('ids that travel as message attributes', () => {
  it.each([
    ['a control character', 'lpu\u0001'],
    ['a line break', 'lpu\n1'],
    ['U+FFFF', 'lpu\uFFFF'],
    ['a lone surrogate', 'lpu\uD800'],
    ['more than 256 characters', 'l'.repeat(257)],
  ])('rejects an Lpu with %s: 400 naming Lpu, kept, nothing stored or forwarded', async (_name, lpu) => {
    const body = freshMessage('VimisResult', { Lpu: lpu });
    const before = await listKeys(site.s3, site.resources.bucket, 'rejected/');
    const { status, ack } = await site.post('VimisResult', body);
    expect([status, ack.Status]).toEqual([400, 'Failed']);
    expect(ack.Message).toMatch(/^Сообщение отклонено: Lpu — \S/);
    const added = (await listKeys(site.s3, site.resources.bucket, 'rejected/')).filter((key) => !before.includes(key));
    expect(added).toEqual([expect.stringMatching(/-400-invalid_fields-VimisResult-/)]);
    expect(await getRecord(site.dynamodb, site.resources.tableName, String(body.MessageId))).toBeUndefined();
    expect(await queueDepth(site.sqs, site.resources.queueUrl)).toBe(0);
  });
});

describe('text a strict JSON reader refuses (issue 24, finding 9)', () => {
  // JSON.stringify writes a lone surrogate as the escape a .NET sender would (`"\ud800"`): valid JSON, not Unicode text.
  it.each([
    ['Message', 'SEMDStatus', { Message: 'ошибка \uD800' }, 'Message'],
    ['an extra field, nested', 'REMDStatus', { Детали: [{ текст: '\uDFFF' }] }, 'поле вне таблицы №1'],
    ['the name of an extra field', 'MseResult', { 'Поле\uDC00': 'значение' }, 'поле вне таблицы №1'],
  ] as const)(
    'refuses a lone surrogate in %s: 400 naming the field, kept, nothing stored or forwarded',
    async (_name, type, fields, field) => {
      const body = freshMessage(type as MessageType, fields);
      const before = await listKeys(site.s3, site.resources.bucket, 'rejected/');
      const { status, ack } = await site.post(type as MessageType, body);
      expect([status, ack.Status]).toEqual([400, 'Failed']);
      expect(ack.Message).toMatch(new RegExp(`^Сообщение отклонено: ${field} — .*непарный суррогат`));
      const added = (await listKeys(site.s3, site.resources.bucket, 'rejected/')).filter((key) => !before.includes(key));
      expect(added).toEqual([expect.stringMatching(new RegExp(`-400-invalid_fields-${type}-`))]);
      expect(await getRecord(site.dynamodb, site.resources.tableName, String(body.MessageId))).toBeUndefined();
      expect(await queueDepth(site.sqs, site.resources.queueUrl)).toBe(0);
    },
  );

  it('takes a well-formed pair, written as two escapes, and queues the same character', async () => {
    const body = freshMessage('SEMDStatus', { Message: 'принято \uD83E\uDE7A' });
    expect((await site.post('SEMDStatus', body)).ack.Status).toBe('Success');
    const envelope = JSON.parse((await onQueue()).get(String(body.MessageId))?.Body ?? 'null') as Envelope | null;
    expect(envelope?.payload?.Message).toBe('принято 🩺');
  });
});

describe('a message the queue refuses for good', () => {
  it('answers Failed (not Success, not 5xx), keeps it under rejected/ and in the table as UNDELIVERABLE, and counts it', async () => {
    const addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
    await setMaximumMessageSize(1024);
    const body = freshMessage('SEMDStatus', { Message: 'т'.repeat(1000) });
    const id = String(body.MessageId);
    const before = await listKeys(site.s3, site.resources.bucket, 'rejected/');

    const first = await site.post('SEMDStatus', body);
    expect(first).toEqual({ status: 422, ack: { MessageId: id, Message: ACK_TEXT.undeliverable, Status: 'Failed' } });
    const item = await getRecord(site.dynamodb, site.resources.tableName, id);
    expect(item).toMatchObject({ state: 'UNDELIVERABLE', refusal: 'InvalidParameterValue' });
    expect(await pendingIds(site.dynamodb, site.resources.tableName)).not.toContain(id);
    expect(countsOf(addMetric, METRIC.undeliverable)).toBe(1);

    // The sender re-sends: the same answer, nothing tried again, nothing counted twice.
    expect(await site.post('SEMDStatus', body)).toEqual(first);
    expect(countsOf(addMetric, METRIC.undeliverable)).toBe(1);
    const added = (await listKeys(site.s3, site.resources.bucket, 'rejected/')).filter((key) => !before.includes(key));
    expect(added).toEqual([
      expect.stringMatching(/-422-undeliverable-SEMDStatus-/),
      expect.stringMatching(/-422-undeliverable-SEMDStatus-/),
    ]);
    expect(await queueDepth(site.sqs, site.resources.queueUrl)).toBe(0);
  });

  it('does not stop the reconciler: the refused record is marked and skipped, the rest forwarded in the same run', async () => {
    const addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
    const refused = freshMessage('SEMDStatus', { Message: 'т'.repeat(1000) });
    const others = [
      ['SEMDStatus', freshMessage('SEMDStatus')],
      ['VimisResult', freshMessage('VimisResult')],
    ] as const;
    // The refused one first: the oldest, where the reconciler used to stop.
    await site.post('SEMDStatus', refused, { queueDown: true });
    for (const [type, body] of others) await site.post(type, body, { queueDown: true });
    await setMaximumMessageSize(1024);

    const report = await site.reconcile();
    expect(report).toMatchObject({ due: 3, forwarded: 2, undeliverable: 1, failed: 0, pendingAfter: 0 });
    expect([...(await onQueue()).keys()].sort()).toEqual(others.map(([, b]) => String(b.MessageId)).sort());
    expect((await getRecord(site.dynamodb, site.resources.tableName, String(refused.MessageId)))?.state).toBe('UNDELIVERABLE');
    expect(countsOf(addMetric, METRIC.undeliverable)).toBe(1);
    expect(await site.reconcile()).toMatchObject({ due: 0, pendingAfter: 0 });
  });
});

describe('the queue adapter tells a refusal from an outage', () => {
  const emulators = inject('emulators');
  const message = (body: string) => ({ body, groupId: 'g', deduplicationId: crypto.randomUUID(), attributes: { Lpu: 'x' } });

  it('throws QueueRefusedError, naming the code, for content SQS will never take', async () => {
    const sqs = localSqs(emulators.sqs);
    try {
      const error = await new SqsMessageQueue(sqs, site.resources.queueUrl).send(message('raw \uFFFF')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueRefusedError);
      expect((error as QueueRefusedError).refusal).toBe('InvalidMessageContents');
    } finally {
      sqs.destroy();
    }
  });

  it('throws QueueUnavailableError when the queue does not answer or does not exist', async () => {
    const down = localSqs('http://127.0.0.1:9');
    const sqs = localSqs(emulators.sqs);
    try {
      await expect(new SqsMessageQueue(down, site.resources.queueUrl).send(message('{}'))).rejects.toBeInstanceOf(QueueUnavailableError);
      const missing = site.resources.queueUrl.replace(/\.fifo$/, '-missing.fifo');
      await expect(new SqsMessageQueue(sqs, missing).send(message('{}'))).rejects.toBeInstanceOf(QueueUnavailableError);
    } finally {
      down.destroy();
      sqs.destroy();
    }
  });
});
