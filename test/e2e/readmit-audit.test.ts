import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited, type AuditedActionView } from '../../cli/audit';
import { resolveTarget } from '../../cli/target';
import { BUCKET_PREFIXES } from '../../contract/names';
import type { ReadmitResult } from '../../lambdas/handlers/wiring';
import { DynamoDbMessageStore } from '../../lambdas/adapters/dynamodb-store';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { freshMessage } from '../../testing/messages';
import { drain, dynamoClient, listKeys, queueDepth, s3Client, sqsClient } from '../support/aws';

/*
 * Issue 27, points 3 and 4 on `npm start`: a request rejected for an `Lpu` the site does not serve is kept; once the
 * allowlist has it, `rejected readmit` lets it in through the receiving handler and it reaches the MIS queue once;
 * readmitting again forwards nothing; a dry run writes nothing. Every action that changes the site's data or queue
 * shows in `audit`, with who ran it (npm start: `local`), what it selected, and its counts.
 */

const exec = promisify(execFile);
// Each test runs the CLI as a process several times (seconds each on a loaded machine): a bound, not a measure.
const CLI_RUNS_TIMEOUT = 300_000;

describe('rejected readmit and the audit trail on `npm start`', () => {
  let stack: LocalStack;
  let sqs: SQSClient;
  let s3: S3Client;
  const served = randomUUID();
  const notYetServed = randomUUID();
  const message = freshMessage('REMDStatus', { Lpu: notYetServed });
  const messageId = String(message.MessageId).toLowerCase();
  const cli = (...args: string[]) =>
    exec(process.execPath, ['cli/n3-callback.mjs', ...args, '--base', stack.info.baseUrl], { env: { ...process.env, NO_COLOR: '1' } });
  const readmitJson = async (...args: string[]) =>
    (await cli('rejected', 'readmit', ...args, '--json')).stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ReadmitResult);
  const rejectedKeys = () => listKeys(s3, stack.info.bucket, BUCKET_PREFIXES.rejected);

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'readmit', reconcileEverySeconds: 0, lpuAllowlist: [served] });
    sqs = sqsClient(stack.info.sqsEndpoint);
    s3 = s3Client(stack.info.s3Endpoint);
  });
  afterAll(async () => {
    sqs?.destroy();
    s3?.destroy();
    await stack?.stop();
  });

  it(
    'readmits a request rejected for its Lpu once the allowlist has it: on the queue once, and a second readmit forwards nothing',
    async () => {
      const response = await fetch(new URL('REMDStatus', stack.info.baseUrl), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(message),
      });
      expect(response.status).toBe(400);
      const [original, ...others] = await rejectedKeys();
      expect(others).toEqual([]);
      expect(original).toMatch(/-400-invalid_fields-REMDStatus-/);

      // Still outside the allowlist: a dry run says so and writes nothing; a real run keeps it again, with its reason.
      expect(await readmitJson('--since', '1h', '--reason', 'invalid_fields', '--dry-run')).toEqual([
        expect.objectContaining({ key: original, outcome: 'rejected', code: 'invalid_fields', messageId: message.MessageId }),
      ]);
      expect(await rejectedKeys()).toEqual([original]);
      const [stillRejected] = await readmitJson(original!);
      expect(stillRejected).toMatchObject({ outcome: 'rejected', code: 'invalid_fields', keptAs: expect.stringMatching(/-readmit-/) });
      expect((await rejectedKeys()).sort()).toEqual([original, stillRejected!.keptAs].sort());
      expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(0);

      // The site serves it now (a redeploy with the new allowlist).
      stack.setLpuAllowlist([served, notYetServed]);
      // The window holds the original and its copy: one request, run once.
      const dry = await readmitJson('--since', '1h', '--reason', 'invalid_fields', '--dry-run');
      expect(dry.map((r) => r.outcome)).toEqual(['admitted']);
      expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(0);
      const store = new DynamoDbMessageStore(dynamoClient(stack.info.dynamodbEndpoint), stack.info.tableName);
      expect(await store.find(messageId)).toBeUndefined();

      const human = await cli('rejected', 'readmit', '--since', '1h', '--reason', 'invalid_fields');
      expect(human.stdout).toMatch(/1 admitted and forwarded, 0 stored for the reconciler, 0 already stored/);
      const onQueue = await drain(sqs, stack.info.queueUrl);
      expect(onQueue.map((m) => (JSON.parse(m.Body!) as { messageId: string }).messageId)).toEqual([message.MessageId]);
      const record = await store.find(messageId);
      expect(record).toMatchObject({ state: 'FORWARDED', lpu: notYetServed, readmitted: { from: original } });
      // Both times recorded: the first arrival (the kept request's) and the readmission (the record's arrival).
      expect(record!.readmitted!.arrivedAt < record!.receivedAt).toBe(true);

      const again = await readmitJson(original!);
      expect(again).toEqual([expect.objectContaining({ outcome: 'duplicate', messageId: message.MessageId })]);
      expect(await drain(sqs, stack.info.queueUrl)).toEqual([]);
    },
    CLI_RUNS_TIMEOUT,
  );

  it(
    'lists in `audit` every action that changed the site, with who, the selection, the counts and the outcome',
    async () => {
      await cli('redrive', '--max', '5');
      await cli('reproject');
      await cli('expect', `doc-${randomUUID()}`, '--stage', 'remd', '--within', '1d');
      // `replay` records through the same `audited` (cli/replay.ts); here as any command would.
      const target = await resolveTarget({ base: stack.info.baseUrl });
      await audited(target, { command: 'replay', selection: { since: '2026-01-01T00:00:00Z' } }, async () => ({ counts: { sent: 0 } }));
      const failure = audited(target, { command: 'replay', selection: { since: 'x' } }, async () => {
        throw new Error('the queue is gone');
      });
      await expect(failure).rejects.toThrow('the queue is gone');

      const actions = (await cli('audit', '--since', '1h', '--json')).stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as AuditedActionView);
      const summary = actions.map((a) => [a.command, a.dryRun, a.outcome, a.counts ?? a.error]);
      expect(summary).toEqual([
        ['rejected readmit', true, 'finished', { admitted: 0, deferred: 0, duplicate: 0, rejected: 1, skipped: 0 }],
        ['rejected readmit', false, 'finished', { admitted: 0, deferred: 0, duplicate: 0, rejected: 1, skipped: 0 }],
        ['rejected readmit', true, 'finished', { admitted: 1, deferred: 0, duplicate: 0, rejected: 0, skipped: 0 }],
        ['rejected readmit', false, 'finished', { admitted: 1, deferred: 0, duplicate: 0, rejected: 0, skipped: 0 }],
        ['rejected readmit', false, 'finished', { admitted: 0, deferred: 0, duplicate: 1, rejected: 0, skipped: 0 }],
        ['redrive', false, 'finished', { moved: 0 }],
        ['reproject', false, 'finished', expect.objectContaining({ messages: expect.any(Number), written: expect.any(Number) })],
        ['expect', false, 'finished', { expectations: 1 }],
        ['replay', false, 'finished', { sent: 0 }],
        ['replay', false, 'failed', 'Error: the queue is gone'],
      ]);
      expect(actions.every((a) => a.who.arn === 'local' && a.site === 'readmit' && a.endedAt! >= a.startedAt)).toBe(true);
      expect(actions[4]!.selection).toMatchObject({ keys: [expect.stringMatching(/^rejected\//)], selected: 1 });
      expect(actions[2]!.selection).toMatchObject({ since: expect.any(String), reason: 'invalid_fields', selected: 1 });

      // One object per step, under audit/ by day: a started and an end for each of the ten actions.
      expect(await listKeys(s3, stack.info.bucket, BUCKET_PREFIXES.audit)).toHaveLength(20);
      const table = (await cli('audit', '--since', '1h')).stdout;
      expect(table).toMatch(/local\s+redrive\s+max=5\s+finished\s+moved=0/);
    },
    CLI_RUNS_TIMEOUT,
  );
});
