import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayCheckpoint } from '../../cli/replay';
import { type CallbackMessage, createCallbackConsumer } from '../../consumer/index';
import type { MessageType } from '../../contract/catalog';
import type { Envelope } from '../../contract/envelope';
import { MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import { localOverrides } from '../../local/clients';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { proxyEvent } from '../../testing/events';
import { freshMessage } from '../../testing/messages';
import { drain, queueDepth, s3Client, sqsClient } from '../support/aws';
import { until } from '../support/wait';

/*
 * Issue 27, the consumer that lost three days: messages that arrived over three days (the real receive handler over
 * the real adapters on `npm start`'s emulators, with its clock set back), taken off the queue and deleted by a
 * consumer that did nothing with them; then `n3-callback replay --since` brings each back once, marked as a
 * re-delivery, in each document's order; a dry run counts the same; and a replay killed part-way resumes from its
 * checkpoint without a message going twice.
 */

const exec = promisify(execFile);
const DAY = 86_400_000;

describe('n3-callback replay on `npm start`', () => {
  let stack: LocalStack;
  let sqs: SQSClient;
  let s3: S3Client;
  let state: string;
  const now = Date.now();
  const since = new Date(now - 3 * DAY - 3_600_000).toISOString();
  /** Seeded in the window, in arrival order: MessageId, type, group (document), arrival time. */
  const seeded: Array<{ id: string; type: MessageType; document: string; at: string }> = [];
  let gone: string;
  let outside: string;
  let originals: Map<string, Message>;

  const cli = async (args: string[]) => {
    try {
      const { stdout, stderr } = await exec(process.execPath, ['cli/n3-callback.mjs', ...args, '--base', stack.info.baseUrl], {
        env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: state },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'replay', reconcileEverySeconds: 0 });
    sqs = sqsClient(stack.info.sqsEndpoint);
    s3 = s3Client(stack.info.s3Endpoint);
    state = mkdtempSync(join(tmpdir(), 'replay-state-'));

    // The deployed receive handler over the site's own table, queue and bucket, with a clock we set.
    let clockAt = new Date(now);
    const adapters = createAwsAdapters(
      { TABLE_NAME: stack.info.tableName, QUEUE_URL: stack.info.queueUrl, BUCKET_NAME: stack.info.bucket, S3_FORCE_PATH_STYLE: true },
      localOverrides({ dynamodb: stack.info.dynamodbEndpoint, sqs: stack.info.sqsEndpoint, s3: stack.info.s3Endpoint }),
    );
    const deps = {
      ...adapters,
      ports: { ...adapters.ports, clock: { now: () => clockAt } },
      settings: { site: 'replay', retentionDays: 90, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES },
      maxBodyBytes: 4 * 1024 * 1024,
      logger: new Logger({ serviceName: 'replay-test', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'replay-test' }),
    };
    const receive = async (type: MessageType, at: number, body: Record<string, unknown>) => {
      clockAt = new Date(at);
      const response = await createReceiveHandler(type, deps)(proxyEvent({ path: `/${type}`, body: JSON.stringify(body) }));
      expect(response.statusCode).toBe(200);
      return String(body.MessageId).toLowerCase();
    };

    outside = await receive('SEMDStatus', now - 5 * DAY, freshMessage('SEMDStatus', { IdMedDocumentMis: 'DOC-1' }));
    // Three documents with news on each of three days, a registration, and two CDAs too large to travel inline.
    for (const daysAgo of [3, 2, 1]) {
      for (const [n, document] of ['DOC-1', 'DOC-2', 'DOC-3'].entries()) {
        const at = now - daysAgo * DAY + n * 60_000;
        const id = await receive('SEMDStatus', at, freshMessage('SEMDStatus', { IdMedDocumentMis: document }));
        seeded.push({ id, type: 'SEMDStatus', document, at: new Date(at).toISOString() });
      }
    }
    const remdAt = now - 2 * DAY + 600_000;
    const remd = await receive('REMDStatus', remdAt, freshMessage('REMDStatus', { IdSourceMis: 'DOC-4' }));
    seeded.push({ id: remd, type: 'REMDStatus', document: 'DOC-4', at: new Date(remdAt).toISOString() });
    const large = () => ({ CDA: Buffer.alloc(300_000, 'PDF-1.7 ').toString('base64') });
    const cdaAt = now - DAY + 600_000;
    const cda = await receive('CDAStatus', cdaAt, freshMessage('CDAStatus', { IdMedDocumentMis: 'DOC-5', ...large() }));
    seeded.push({ id: cda, type: 'CDAStatus', document: 'DOC-5', at: new Date(cdaAt).toISOString() });
    gone = await receive('CDAStatus', now - DAY + 700_000, freshMessage('CDAStatus', { IdMedDocumentMis: 'DOC-6', ...large() }));
    seeded.sort((a, b) => a.at.localeCompare(b.at));

    // The consumer with the bug: takes every message, deletes it, does nothing.
    const taken = await drain(sqs, stack.info.queueUrl);
    originals = new Map(taken.map((m) => [(JSON.parse(m.Body!) as Envelope).messageId, m]));
    expect(originals.size).toBe(seeded.length + 2);
    // Past the bucket's retention: the object is gone, the record still points at it.
    const ref = (JSON.parse(originals.get(gone)!.Body!) as Envelope).payloadRef!;
    await s3.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  }, 180_000);

  afterAll(async () => {
    sqs?.destroy();
    s3?.destroy();
    await stack?.stop();
  });

  /** Everything on the queue now, as a consumer library handler receives it (deleted after). */
  const consumeAll = async (expected: number): Promise<CallbackMessage[]> => {
    const seen: CallbackMessage[] = [];
    const push = async (m: CallbackMessage) => void seen.push(m);
    const consumer = createCallbackConsumer({
      queueUrl: stack.info.queueUrl,
      sqs,
      s3,
      waitTimeSeconds: 1,
      handlers: { SEMDStatus: push, REMDStatus: push, CDAStatus: push },
    });
    consumer.start();
    try {
      await until(
        async () => (seen.length >= expected && (await queueDepth(sqs, stack.info.queueUrl)) === 0 ? true : undefined),
        'the consumer to empty the queue',
        60_000,
      );
    } finally {
      await consumer.stop();
    }
    return seen;
  };
  /** Each document's MessageIds in the order given. */
  const byDocument = (ids: readonly string[]) => {
    const documents = new Map<string, string[]>();
    for (const id of ids) {
      const document = seeded.find((s) => s.id === id)!.document;
      documents.set(document, [...(documents.get(document) ?? []), id]);
    }
    return documents;
  };

  it('replay --since brings back every message of the window once, marked as a re-delivery, in each document’s order; the lost claim check is refused and counted', async () => {
    const replay = await cli(['replay', '--since', since, '--json']);
    expect(replay.code).toBe(1); // not everything could go: one payload is gone
    const result = JSON.parse(replay.stdout) as {
      replayId: string;
      selected: number;
      sent: number;
      payloadGone: string[];
      checkpoint: string;
    };
    expect(result).toMatchObject({ selected: seeded.length, sent: seeded.length, payloadGone: [gone], refused: 0, missing: 0 });
    expect(result.checkpoint).toBe(join(state, 'n3-callback', 'replays', `${result.replayId}.json`));

    // Raw from the queue, as any consumer sees it: the originals' bytes plus the field, their groups, new deduplication ids.
    const replayed = await drain(sqs, stack.info.queueUrl);
    const envelopes = replayed.map((m) => JSON.parse(m.Body!) as Envelope);
    expect(envelopes.map((e) => e.messageId).sort()).toEqual(seeded.map((s) => s.id).sort());
    expect(envelopes.map((e) => e.messageId)).not.toContain(outside);
    for (const [n, message] of replayed.entries()) {
      const { redelivery, ...rest } = envelopes[n]!;
      const original = originals.get(rest.messageId)!;
      expect(redelivery).toEqual({ replayId: result.replayId });
      expect(JSON.stringify(rest)).toBe(original.Body);
      expect(message.Attributes?.MessageGroupId).toBe(original.Attributes?.MessageGroupId);
      expect(message.Attributes?.MessageDeduplicationId).toBe(`${rest.messageId}:${result.replayId}`);
    }
    expect(byDocument(envelopes.map((e) => e.messageId))).toEqual(byDocument(seeded.map((s) => s.id)));

    // The same window again, dry: the same count by type, nothing sent.
    const dry = await cli(['replay', '--since', since, '--dry-run', '--json']);
    const counted = JSON.parse(dry.stdout) as { count: number; byType: Record<string, number>; first: { messageId: string } };
    expect([dry.code, counted.count, counted.first.messageId]).toEqual([0, seeded.length, seeded[0]!.id]);
    expect(counted.byType).toEqual({ SEMDStatus: 9, REMDStatus: 1, CDAStatus: 1 });
    expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(0);
    const human = await cli(['replay', '--since', since, '--dry-run']);
    expect(human.stdout).toMatch(/11 message\(s\) would be sent; nothing was sent/);
    expect(human.stdout).toMatch(/1 refused: the payload object is gone/);
  }, 180_000);

  it('a replay killed part-way resumes from its checkpoint and sends nothing twice; the consumer library sees the flag', async () => {
    const checkpointPath = join(state, 'killed.json');
    const child = spawn(
      process.execPath,
      ['cli/n3-callback.mjs', 'replay', '--since', since, '--rate', '4/s', '--checkpoint', checkpointPath, '--base', stack.info.baseUrl],
      { env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: state }, stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const read = () => JSON.parse(readFileSync(checkpointPath, 'utf8')) as ReplayCheckpoint;
    await until(() => (existsSync(checkpointPath) && read().counts.sent >= 3 ? true : undefined), 'three messages sent', 120_000);
    child.kill('SIGKILL');
    await exited;
    const stopped = read();
    expect(stopped.finished).toBe(false);
    expect(stopped.counts.sent).toBeLessThan(seeded.length);

    const resumed = await cli(['replay', '--resume', stopped.replayId, '--checkpoint', checkpointPath, '--json']);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ replayId: stopped.replayId, sent: seeded.length, payloadGone: [gone] });
    expect(read().finished).toBe(true);

    const seen = await consumeAll(seeded.length);
    expect(seen.map((m) => m.messageId).sort()).toEqual(seeded.map((s) => s.id).sort());
    expect(seen.every((m) => m.redelivery?.replayId === stopped.replayId)).toBe(true);
    expect(byDocument(seen.map((m) => m.messageId))).toEqual(byDocument(seeded.map((s) => s.id)));
    // The claim-checked CDA came by reference and was fetched and checked by the library.
    expect(String((seen.find((m) => m.messageType === 'CDAStatus')!.payload as { CDA: string }).CDA).length).toBeGreaterThan(300_000);

    // Resuming a finished replay sends nothing.
    const again = await cli(['replay', '--resume', stopped.replayId, '--checkpoint', checkpointPath]);
    expect([again.code, again.stderr]).toEqual([0, expect.stringContaining('already finished')]);
    expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(0);
  }, 240_000);
});
