import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_TYPES, type MessageType } from '../../contract/catalog';
import { exportLines } from '../../local/exports';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { drain, queueDepth, s3Client, sqsClient } from '../support/aws';
import { freshMessage } from '../../testing/messages';

/*
 * The second-language consumer (examples/python/consumer.py: Python 3.11 and boto3, nothing else) against
 * the product as `npm start` runs it: every type, a claim-checked CDA, a redelivery after a crash between
 * the work and the delete, an unknown envelope version, fields it does not know, a tampered claim check,
 * and a run without the optional JSON Schema validator.
 */

interface Event {
  readonly event: string;
  readonly messageId?: string;
  readonly messageType?: string;
  readonly receiveCount?: number;
  readonly claimCheck?: boolean;
  readonly schemaValidation?: boolean;
  readonly reason?: string;
  readonly simulation?: string;
  readonly redelivery?: string;
  readonly db?: string;
  readonly waitSeconds?: number;
}

const CONSUMER = new URL('../../examples/python/consumer.py', import.meta.url).pathname;

// Each test starts Python (and boto3) a few times: slower than a request, on a loaded machine much slower.
describe('the Python consumer example against the local stack', { timeout: 90_000 }, () => {
  let stack: LocalStack;
  let sqs: SQSClient;
  let s3: S3Client;
  let dir: string;
  let noJsonschema: string;

  /**
   * One `--once` run: until a receive brings nothing new. Exit code, the JSON events it printed, its stderr.
   * `local: false`: no --base nor --db, as a person runs it (the environment says where the queue and the state are).
   */
  const consume = (extra: string[] = [], env: NodeJS.ProcessEnv = {}, { local = true, cwd = dir } = {}) =>
    new Promise<{ code: number; events: Event[]; stderr: string }>((resolve, reject) => {
      execFile(
        'python3',
        [CONSUMER, ...(local ? ['--base', stack.info.baseUrl, '--db', join(dir, 'processed.sqlite3')] : []), '--once', ...extra],
        { env: { ...process.env, ...env }, timeout: 60_000, cwd },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') return reject(error);
          const events = stdout
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Event);
          resolve({ code: typeof error?.code === 'number' ? error.code : 0, events, stderr });
        },
      );
    });
  const post = async (type: MessageType, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await fetch(new URL(type, stack.info.baseUrl), { method: 'POST', body: JSON.stringify(body), headers });
    expect(response.status).toBe(200);
    return String(body.MessageId).toLowerCase();
  };
  /** A message put on the queue by hand, as a newer endpoint (or a re-send outside the dedup window) would. */
  const send = (body: unknown, group = randomUUID()) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.info.queueUrl,
        MessageBody: JSON.stringify(body),
        MessageGroupId: group,
        MessageDeduplicationId: randomUUID(),
        MessageAttributes: { MessageType: { DataType: 'String', StringValue: 'REMDStatus' } },
      }),
    );
  const envelopeOf = (type: MessageType, payload: Record<string, unknown>) => ({
    version: 1,
    site: 'py',
    messageType: type,
    messageId: String(payload.MessageId),
    receivedAt: new Date().toISOString(),
    payload,
  });
  const ofType = (events: Event[], kind: string) => events.filter((e) => e.event === kind);

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'py', reconcileEverySeconds: 0 });
    sqs = sqsClient(stack.info.sqsEndpoint);
    s3 = s3Client(stack.info.s3Endpoint);
    dir = mkdtempSync(join(tmpdir(), 'n3-python-consumer-'));
    // A module named jsonschema that cannot be imported: the consumer's "no validator at hand" path.
    noJsonschema = join(dir, 'no-jsonschema');
    mkdirSync(noJsonschema);
    writeFileSync(join(noJsonschema, 'jsonschema.py'), 'raise ImportError("hidden for this test")\n');
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('processes every type once, the claim-checked CDA after checking size and sha256, validating with jsonschema, and deletes them', async () => {
    const ids = new Map<string, MessageType>();
    for (const type of MESSAGE_TYPES) ids.set(await post(type, freshMessage(type)), type);
    const cda = freshMessage('CDAStatus', { CDA: Buffer.alloc(150_000, 'ClinicalDocument').toString('base64') });
    const cdaId = await post('CDAStatus', cda);

    const { code, events, stderr } = await consume();
    expect([code, stderr]).toEqual([0, '']);
    // jsonschema comes with cfn-lint, which CI requires: validation is on here.
    expect(events[0]).toMatchObject({ event: 'started', schemaValidation: true });
    const processed = ofType(events, 'processed');
    expect(processed.map((e) => [e.messageId, e.messageType]).sort()).toEqual(
      [...[...ids].map(([id, type]) => [id, type]), [cdaId, 'CDAStatus']].sort(),
    );
    expect(processed.find((e) => e.messageId === cdaId)).toMatchObject({ claimCheck: true, receiveCount: 1 });
    expect(processed.filter((e) => e.claimCheck)).toHaveLength(1);
    expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(0);
  });

  it('does the work once when a message comes back: after a crash before the delete, and as a second copy on the queue', async () => {
    const body = freshMessage('REMDStatus');
    const id = await post('REMDStatus', body);

    // Visibility 0: the message is visible again at once, as after a crash once the timeout has run out.
    const crashed = await consume(['--visibility-timeout', '0', '--stop-before-delete']);
    expect(ofType(crashed.events, 'processed').map((e) => e.messageId)).toEqual([id]);
    expect(ofType(crashed.events, 'stopped-before-delete')).toHaveLength(1);
    expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(1);

    const again = await consume();
    expect(again.code).toBe(0);
    expect(ofType(again.events, 'processed')).toEqual([]);
    expect(ofType(again.events, 'duplicate')).toEqual([expect.objectContaining({ messageId: id, receiveCount: 2 })]);
    expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(0);

    // The same envelope again under another deduplication id (at-least-once: e.g. a re-send after SQS's 5-minute window).
    const { payload } = envelopeOf('REMDStatus', { ...body, MessageId: id });
    await send(envelopeOf('REMDStatus', payload));
    const copy = await consume();
    expect(ofType(copy.events, 'duplicate').map((e) => [e.messageId, e.receiveCount])).toEqual([[id, 1]]);
    expect(ofType(copy.events, 'processed')).toEqual([]);
    expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(0);
  });

  it("reports a simulated message's run, and with --drop-simulations deletes it without the work", async () => {
    const simulated = await post('SEMDStatus', freshMessage('SEMDStatus'), { 'X-N3-Simulation': 'py-run-1' });
    const seen = await consume();
    expect(ofType(seen.events, 'processed')).toEqual([expect.objectContaining({ messageId: simulated, simulation: 'py-run-1' })]);

    const dropped = await post('SEMDStatus', freshMessage('SEMDStatus'), { 'X-N3-Simulation': 'py-run-2' });
    const real = await post('SEMDStatus', freshMessage('SEMDStatus'));
    const production = await consume(['--drop-simulations']);
    expect(production.code).toBe(0);
    expect(ofType(production.events, 'dropped-simulation')).toEqual([
      { event: 'dropped-simulation', messageId: dropped, simulation: 'py-run-2' },
    ]);
    expect(ofType(production.events, 'processed').map((e) => [e.messageId, e.simulation])).toEqual([[real, undefined]]);
    expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(0);
  });

  it('handles a re-delivery (`n3-callback replay`) once per messageId: the one it did is a duplicate, the one it lost is done; both report the replay id', async () => {
    const done = await post('SEMDStatus', freshMessage('SEMDStatus'));
    expect(ofType((await consume()).events, 'processed').map((e) => e.messageId)).toEqual([done]);
    const lost = await post('SEMDStatus', freshMessage('SEMDStatus'));
    await drain(sqs, stack.info.queueUrl); // a consumer with a bug took it and did nothing

    const cli = promisify(execFile)(
      process.execPath,
      ['cli/n3-callback.mjs', 'replay', '--message-id', done, '--message-id', lost, '--json', '--base', stack.info.baseUrl],
      { env: { ...process.env, XDG_STATE_HOME: dir } },
    );
    const { replayId, sent } = JSON.parse((await cli).stdout) as { replayId: string; sent: number };
    expect(sent).toBe(2);
    const replayed = await consume();
    expect(replayed.code).toBe(0);
    // Two documents: their order between them is the queue's to choose.
    const events = replayed.events.filter((e) => e.messageId).map((e) => [e.event, e.messageId, e.redelivery]);
    expect(events.sort()).toEqual([
      ['duplicate', done, replayId],
      ['processed', lost, replayId],
    ]);
    expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(0);
  });

  it('leaves an envelope of an unknown version on the queue and reports it; ignores fields it does not know', async () => {
    const future = { ...envelopeOf('REMDStatus', freshMessage('REMDStatus')), version: 2 };
    await send(future);
    const known = freshMessage('SEMDStatus');
    await send({ ...envelopeOf('SEMDStatus', known), traceId: 'added later', payload: { ...known, IdAddedLater: { any: ['shape'] } } });

    // Visibility 0 so that the left message is back at once for the check below.
    const { code, events, stderr } = await consume(['--visibility-timeout', '0']);
    expect(code).toBe(1);
    expect(ofType(events, 'processed').map((e) => e.messageId)).toEqual([known.MessageId]);
    const left = ofType(events, 'left-on-queue');
    expect(left).toHaveLength(1);
    expect(left[0]!.reason).toMatch(/envelope version 2 is unknown to this consumer/);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^left on the queue .*envelope version 2/)]);
    const remaining = await drain(sqs, stack.info.queueUrl);
    expect(remaining.map((m) => JSON.parse(m.Body!).version)).toEqual([2]);
  });

  it('refuses a claim-checked payload whose sha256 does not match, and a payload that breaks its schema', async () => {
    const payload = freshMessage('CDAStatus');
    const bytes = Buffer.from(JSON.stringify(payload));
    await s3.send(new PutObjectCommand({ Bucket: stack.info.bucket, Key: 'py/tampered.json', Body: bytes }));
    const { payload: _, ...head } = envelopeOf('CDAStatus', payload);
    const sha256 = createHash('sha256').update('other content').digest('hex');
    await send({ ...head, payloadRef: { bucket: stack.info.bucket, key: 'py/tampered.json', size: bytes.length, sha256 } });
    const { IdFedRequest: __, ...withoutRequired } = freshMessage('REMDStatus');
    await send(envelopeOf('REMDStatus', withoutRequired));

    const { code, events } = await consume(['--visibility-timeout', '0']);
    expect(code).toBe(1);
    expect(ofType(events, 'processed')).toEqual([]);
    const reasons = ofType(events, 'left-on-queue').map((e) => e.reason);
    expect(reasons).toHaveLength(2);
    expect(reasons).toContain('claim-checked payload does not match its sha256');
    expect(reasons).toContainEqual(expect.stringMatching(/envelope\.v1 schema at payload: 'IdFedRequest' is a required property/));
    expect(await drain(sqs, stack.info.queueUrl)).toHaveLength(2);
  });

  it("runs from npm start's export lines alone, as against AWS, keeping its state in the XDG state folder, not the working folder", async () => {
    const id = await post('MseResult', freshMessage('MseResult'));
    const exported = Object.fromEntries(
      exportLines(stack.info).flatMap((line) => [...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
    );
    const state = join(dir, 'xdg-state');
    const work = mkdtempSync(join(dir, 'cwd-'));
    const { code, events } = await consume([], { ...exported, XDG_STATE_HOME: state }, { local: false, cwd: work });
    expect(code).toBe(0);
    // --once waits 1 s for more, not a 20 s long poll, after the last message.
    expect(events[0]).toMatchObject({ event: 'started', db: join(state, 'n3-callback', 'processed.sqlite3'), waitSeconds: 1 });
    expect(ofType(events, 'processed').map((e) => e.messageId)).toEqual([id]);
    expect(existsSync(join(state, 'n3-callback', 'processed.sqlite3'))).toBe(true);
    expect(readdirSync(work)).toEqual([]);

    // Where the user says: N3_CONSUMER_DB (or --db).
    const chosen = join(dir, 'chosen', 'ids.sqlite3');
    const again = await consume([], { ...exported, XDG_STATE_HOME: state, N3_CONSUMER_DB: chosen }, { local: false, cwd: work });
    expect(again.events[0]).toMatchObject({ db: chosen });
    expect(existsSync(chosen)).toBe(true);
  });

  it('runs without a JSON Schema validator at hand (boto3 only), and says so', async () => {
    const id = await post('VimisResult', freshMessage('VimisResult'));
    const { code, events } = await consume([], { PYTHONPATH: noJsonschema });
    expect(code).toBe(0);
    expect(events[0]).toMatchObject({ event: 'started', schemaValidation: false });
    expect(ofType(events, 'processed').map((e) => e.messageId)).toEqual([id]);
  });
});
