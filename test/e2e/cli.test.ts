import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redrive } from '../../cli/redrive';
import { SCENARIOS, simulate } from '../../cli/simulate';
import { arrivalsSince, formatArrivals } from '../../cli/tail';
import { createCallbackConsumer, isSimulation, type CallbackMessage } from '../../consumer/index';
import type { Envelope } from '../../contract/envelope';
import { ACK_TEXT, type Ack } from '../../contract/ack';
import { MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { type MessageType, messageSpec } from '../../contract/catalog';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { dynamoClient, drain, queueDepth, s3Client, sqsClient } from '../support/aws';
import { inMemoryReceiveDeps, type InMemoryQueue } from '../../testing/fakes';
import { inMemoryGateway } from '../support/in-memory-gateway';
import { until } from '../support/wait';

/*
 * Both ends of the wire on the local product: the sender simulator against the endpoint,
 * `tail` reading what arrived, the consumer library taking each message once, and redrive.
 */

const exec = promisify(execFile);
const cli = (...args: string[]) => exec(process.execPath, ['cli/n3-callback.mjs', ...args], { env: { ...process.env, NO_COLOR: '1' } });

describe('CLI and consumer on `npm start`', () => {
  let stack: LocalStack;
  let sqs: SQSClient;

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'cli', reconcileEverySeconds: 0 });
    sqs = sqsClient(stack.info.sqsEndpoint);
  });
  afterAll(async () => {
    sqs?.destroy();
    await stack?.stop();
  });

  it('passes every simulator scenario, then tail shows the arrivals and the consumer takes each once', async () => {
    const started = new Date().toISOString();
    const runId = `cli-${randomUUID()}`;
    const results = await simulate(stack.info.baseUrl, { marking: { runId } });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(SCENARIOS.length);

    const arrivals = await arrivalsSince(dynamoClient(stack.info.dynamodbEndpoint), stack.info.tableName, started);
    // Accepted messages, one record each: 6 examples + duplicate + concurrent + retry + large + .NET + slash + aliases + the conflict's first.
    expect(arrivals).toHaveLength(14);
    expect(new Set(arrivals.map((a) => a.messageId)).size).toBe(14);
    expect(arrivals.every((a) => a.state === 'FORWARDED')).toBe(true);
    const printed = formatArrivals(arrivals, false);
    expect(printed).toContain('REMDStatus');
    expect(printed).not.toContain('Ошибка регистрации'); // tail shows facts, never Message text

    const seen: CallbackMessage[] = [];
    const consumer = createCallbackConsumer({
      queueUrl: stack.info.queueUrl,
      sqs: sqsClient(stack.info.sqsEndpoint),
      s3: s3Client(stack.info.s3Endpoint),
      waitTimeSeconds: 1,
      handlers: Object.fromEntries(
        ['CDAStatus', 'SEMDStatus', 'REMDStatus', 'MseResult', 'MseResultData', 'VimisResult'].map((t) => [
          t,
          async (m: CallbackMessage) => void seen.push(m),
        ]),
      ),
    });
    consumer.start();
    try {
      await until(
        async () => (seen.length >= 14 && (await queueDepth(sqs, stack.info.queueUrl)) === 0 ? true : undefined),
        'the consumer to empty the queue',
      );
    } finally {
      await consumer.stop();
    }
    expect(seen.map((m) => m.messageId).sort()).toEqual(arrivals.map((a) => a.messageId).sort());
    // Each marked as the simulator's, by its run: what a production MIS drops.
    expect(seen.filter((m) => !isSimulation(m) || m.simulation?.runId !== runId)).toEqual([]);
  });

  it('redrives dead letters back to the MIS queue, keeping group and attributes', async () => {
    await drain(sqs, stack.info.queueUrl);
    for (let i = 0; i < 3; i++) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.info.dlqUrl,
          MessageBody: JSON.stringify({ n: i }),
          MessageGroupId: 'doc-1',
          MessageDeduplicationId: randomUUID(),
          MessageAttributes: { MessageType: { DataType: 'String', StringValue: 'REMDStatus' } },
        }),
      );
    }
    expect(await redrive({ sqs, dlqUrl: stack.info.dlqUrl, queueUrl: stack.info.queueUrl })).toEqual({ moved: 3 });
    expect(await queueDepth(sqs, stack.info.dlqUrl)).toBe(0);
    const moved = await drain(sqs, stack.info.queueUrl);
    expect(moved.map((m) => JSON.parse(m.Body!).n)).toEqual([0, 1, 2]);
    expect(
      moved.every((m) => m.Attributes?.MessageGroupId === 'doc-1' && m.MessageAttributes?.MessageType?.StringValue === 'REMDStatus'),
    ).toBe(true);
  });

  it('runs as a command: send exits 0 on Success and 1 on Failed, simulate prints the table', async () => {
    const ok = await cli('send', 'SEMDStatus', 'examples/SEMDStatus.json', '--base', stack.info.baseUrl);
    expect(ok.stdout).toContain('"Status":"Success"');
    await expect(cli('send', 'REMDStatus', 'examples/SEMDStatus.json', '--base', stack.info.baseUrl)).rejects.toMatchObject({ code: 1 });

    const simulated = await cli('simulate', '--base', stack.info.baseUrl, '--only', 'spec example');
    expect(simulated.stdout).toMatch(/6 passed, 0 failed/);
    const tailed = await cli('tail', '--base', stack.info.baseUrl, '--once', '--json', '--since', '1h');
    expect(tailed.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(20);
    await expect(cli('frobnicate')).rejects.toMatchObject({ code: 2 });

    // The simulator's rejections are kept under rejected/, listed by time, status and reason, and openable.
    const rejected = await cli('rejected', '--base', stack.info.baseUrl, '--json');
    const entries = rejected.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; status: string; code: string; type: string });
    expect(entries.map((e) => `${e.status} ${e.code}`)).toEqual(
      expect.arrayContaining(['409 conflict', '400 invalid_fields', '404 unknown_type']),
    );
    // A declared body over 4 MiB is rejected by the oversize guard before any function: as with WAF, not kept.
    expect(entries.map((e) => e.code)).not.toContain('too_large');
    const missing = entries.find((e) => e.code === 'invalid_fields')!;
    const shown = await cli('rejected', '--base', stack.info.baseUrl, '--show', missing.key);
    expect(shown.stdout).toContain('IdFedRequest');
    expect(shown.stdout).not.toContain('--- body as sent ---');
    const withBody = await cli('rejected', '--base', stack.info.baseUrl, '--show', missing.key, '--body');
    expect(withBody.stdout).toContain('--- body as sent ---');
    expect(withBody.stdout).toContain('"IdSourceMis"');
    // Eight CLI processes, each a Node start with tsx: seconds apiece on a loaded 2-core machine, not 30 s in all.
  }, 120_000);

  it('show prints a claim-checked CDA by a unique MessageId prefix, from the table and the bucket, leaving the queue alone', async () => {
    const post = (message: object) =>
      fetch(new URL('CDAStatus', stack.info.baseUrl), { method: 'POST', body: JSON.stringify(message) }).then((r) => r.json());
    const example = JSON.parse(readFileSync('examples/CDAStatus.json', 'utf8')) as Record<string, unknown>;
    // A CDA well over the inline limit: the record keeps a claim check, the payload lives in the bucket.
    const cda = Buffer.from(`<ClinicalDocument>${'з'.repeat(4 * MAX_INLINE_PAYLOAD_BYTES)}</ClinicalDocument>`).toString('base64');
    const messageId = randomUUID();
    expect(await post({ ...example, MessageId: messageId, CDA: cda })).toMatchObject({ Status: 'Success' });
    await until(async () => ((await queueDepth(sqs, stack.info.queueUrl)) > 0 ? true : undefined), 'the message on the queue');
    const depth = await queueDepth(sqs, stack.info.queueUrl);

    const shown = await cli('show', messageId.slice(0, 13), '--base', stack.info.baseUrl);
    expect(shown.stdout).toContain(`"CDA": "${cda}"`);
    expect(shown.stdout).toMatch(/payload +\d+ bytes, claim check s3:\/\/\S+ \(sha256 matches\)/);
    expect(shown.stdout).toMatch(/state +FORWARDED at \d{4}-/);
    const json = JSON.parse((await cli('show', messageId.toUpperCase(), '--base', stack.info.baseUrl, '--json')).stdout);
    expect(json).toMatchObject({ record: { messageId, messageType: 'CDAStatus', state: 'FORWARDED' }, payload: { CDA: cda } });
    expect(json.payloadSource).toMatchObject({ sha256Matches: true, size: expect.any(Number) });
    // Read from the table and the bucket: the message is still on the queue for the MIS, not received by show.
    expect(await queueDepth(sqs, stack.info.queueUrl)).toBe(depth);

    // A small one is shown from the record itself.
    const small = randomUUID();
    await post({ ...example, MessageId: small });
    expect(JSON.parse((await cli('show', small, '--base', stack.info.baseUrl, '--json')).stdout).payloadSource).toEqual({ inline: true });
    // Several CLI processes, each a Node start: slow on a loaded machine, not a timing assertion.
  }, 90_000);

  it('show and rejected --show name an ambiguous or unknown prefix in one line, ambiguous with the candidates', async () => {
    const shared = randomUUID().slice(0, 8);
    const ids = [`${shared}-0000-4000-8000-000000000001`, `${shared}-0000-4000-8000-000000000002`];
    const example = JSON.parse(readFileSync('examples/SEMDStatus.json', 'utf8')) as Record<string, unknown>;
    for (const MessageId of ids)
      await fetch(new URL('SEMDStatus', stack.info.baseUrl), { method: 'POST', body: JSON.stringify({ ...example, MessageId }) });
    const failing = (...args: string[]) =>
      cli(...args, '--base', stack.info.baseUrl).then(
        () => {
          throw new Error(`n3-callback ${args.join(' ')} succeeded`);
        },
        (e: { code: number; stderr: string }) => ({ code: e.code, lines: e.stderr.trim().split('\n') }),
      );
    expect(await failing('show', shared)).toEqual({
      code: 2,
      lines: [`n3-callback: "${shared}" starts 2 MessageIds: ${ids.join(', ')}; give more of it`],
    });
    const unknown = await failing('show', 'ffffffff-no-such');
    expect(unknown.lines).toEqual([expect.stringMatching(/^n3-callback: no message "ffffffff-no-such", nor one starting so since \d{4}-/)]);

    // A rejected request by the start of its request id, as the list shows it (two kept here, whatever ran before).
    for (let n = 0; n < 2; n++) await fetch(new URL('REMDStatus', stack.info.baseUrl), { method: 'POST', body: '{"MessageId": "not-json' });
    const entries = (await cli('rejected', '--base', stack.info.baseUrl, '--json')).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; requestId: string });
    const one = entries.find((e) => !entries.some((other) => other !== e && other.requestId.startsWith(e.requestId.slice(0, 12))))!;
    const byRequestId = await cli('rejected', '--base', stack.info.baseUrl, '--show', one.requestId.slice(0, 12));
    expect(byRequestId.stdout).toContain(`"requestId"`);
    const byKeyPrefix = await cli('rejected', '--base', stack.info.baseUrl, '--show', one.key.slice(0, -10));
    expect(byKeyPrefix.stdout).toBe(byRequestId.stdout);
    expect((await failing('rejected', '--show', 'rejected/')).lines).toEqual([
      expect.stringMatching(/^n3-callback: "rejected\/" starts \d+ rejected keys: rejected\/.*; give more of it$/),
    ]);
    // Several CLI processes, each a Node start: slow on a loaded machine, not a timing assertion.
  }, 90_000);

  it('send --new-id sends the file under a fresh MessageId each time, so a second send is a new message, not a duplicate', async () => {
    const first = await cli('send', 'SEMDStatus', 'examples/SEMDStatus.json', '--base', stack.info.baseUrl, '--new-id');
    const second = await cli('send', 'SEMDStatus', 'examples/SEMDStatus.json', '--base', stack.info.baseUrl, '--new-id');
    const ackOf = (out: string) => JSON.parse(out.split('\n').slice(1).join('\n')) as Ack;
    const [a, b] = [ackOf(first.stdout), ackOf(second.stdout)];
    expect([a.Message, b.Message]).toEqual([ACK_TEXT.accepted, ACK_TEXT.accepted]);
    expect(a.MessageId).not.toBe(b.MessageId);
    expect(first.stderr).toContain(`MessageId ${a.MessageId}`);
    // Without it, the file's own MessageId: the same message again, a duplicate.
    await cli('send', 'SEMDStatus', 'examples/SEMDStatus.json', '--base', stack.info.baseUrl);
    const again = await cli('send', 'SEMDStatus', 'examples/SEMDStatus.json', '--base', stack.info.baseUrl);
    expect(ackOf(again.stdout).Message).toBe(ACK_TEXT.duplicate);
    // Several CLI processes, each a Node start: slow on a loaded machine, not a timing assertion.
  }, 90_000);
});

/*
 * Issue 24, finding 7: the simulator's messages look real (the spec's examples). Against a site that is
 * not `npm start` (here the same handlers behind a plain gateway, which does not describe itself at
 * /_local/info, as a deployed stack does not), it must be told a test Lpu and/or a document id prefix.
 */
describe('simulate against a site that is not npm start', () => {
  const TEST_LPU = 'test-lpu-0000';
  let site: Awaited<ReturnType<typeof inMemoryGateway>>;
  let queue: InMemoryQueue;
  beforeAll(async () => {
    // A site serving only its test organisation: a message under any other Lpu would be refused (400).
    site = await inMemoryGateway({}, inMemoryReceiveDeps({ lpuAllowlist: new Set([TEST_LPU]) }));
    queue = site.deps.ports.queue as InMemoryQueue;
  });
  afterAll(() => site?.close());

  it('refuses without a test Lpu or document id prefix, in one line saying which flags, and sends nothing', async () => {
    const error = (await cli('simulate', '--base', site.url, '--only', 'spec example').then(
      () => {
        throw new Error('simulate succeeded');
      },
      (e: { code: number; stderr: string }) => e,
    )) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr.trim().split('\n')).toEqual([expect.stringMatching(/is not npm start.*--test-lpu .*--doc-prefix /)]);
    expect(queue.sent).toHaveLength(0);
  });

  it('with --test-lpu and --doc-prefix, every message carries them and the run id as its simulation mark', async () => {
    const { stdout, stderr } = await cli(
      'simulate',
      '--base',
      site.url,
      '--only',
      'spec example',
      '--test-lpu',
      TEST_LPU,
      '--doc-prefix',
      'TEST-',
    );
    expect(stdout).toMatch(/6 passed, 0 failed/);
    const runId = /run (\S+) \(X-N3-Simulation\)/.exec(stderr)?.[1];
    expect(runId, stderr).toBeDefined();
    expect(queue.delivered).toHaveLength(6);
    for (const message of queue.delivered) {
      const envelope = JSON.parse(message.body) as Envelope;
      const documentId = String(envelope.payload?.[messageSpec(envelope.messageType as MessageType).documentKey]);
      expect([message.attributes.Lpu, envelope.payload?.Lpu, documentId.slice(0, 5), message.groupId.slice(0, 5)]).toEqual([
        TEST_LPU,
        TEST_LPU,
        'TEST-',
        'TEST-',
      ]);
      expect(envelope.simulation).toEqual({ runId });
    }
  });
});

describe('CLI errors: one line that says what to do, and an exit code', () => {
  let stack: LocalStack;
  let html: Server;
  let htmlUrl: string;
  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'cli-errors', reconcileEverySeconds: 0 });
    html = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>not an endpoint</html>'));
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    html?.close();
    await stack?.stop();
  });

  const failing = async (env: Record<string, string>, ...args: string[]) => {
    const error = (await exec(process.execPath, ['cli/n3-callback.mjs', ...args], { env: { ...process.env, NO_COLOR: '1', ...env } }).then(
      () => {
        throw new Error(`n3-callback ${args.join(' ')} succeeded`);
      },
      (e: { code: number; stderr: string }) => e,
    )) as { code: number; stderr: string };
    const lines = error.stderr.trim().split('\n');
    expect(lines, error.stderr).toHaveLength(1);
    return { code: error.code, line: lines[0]! };
  };

  it.each([
    [
      'nothing listening',
      { N3_CALLBACK_BASE: 'http://127.0.0.1:1025/' },
      ['send', 'SEMDStatus', 'examples/SEMDStatus.json'],
      2,
      'nothing answers at http://127.0.0.1:1025/ — is npm start running?',
    ],
    ['a missing file', {}, ['send', 'SEMDStatus', 'no-such.json'], 2, 'no such file: no-such.json'],
    [
      'an unknown MessageType',
      {},
      ['send', 'Foo', 'examples/SEMDStatus.json'],
      2,
      'unknown MessageType "Foo": one of CDAStatus, SEMDStatus',
    ],
    ['an unknown flag', {}, ['tail', '--frob'], 2, "Unknown option '--frob' (n3-callback --help lists the options)"],
    ['a misspelt command', {}, ['tial'], 2, 'unknown command "tial"; did you mean "tail"? (n3-callback --help lists them)'],
    ['a misspelt new command (replay)', {}, ['replya'], 2, 'unknown command "replya"; did you mean "replay"?'],
    ['a misspelt new command (audit)', {}, ['audti'], 2, 'unknown command "audti"; did you mean "audit"?'],
    ['a misspelt flag', {}, ['tail', '--jsn'], 2, `Unknown option '--jsn'; did you mean "--json"? (n3-callback --help lists the options)`],
    [
      'a base that is not a URL',
      { N3_CALLBACK_BASE: 'localhost:3000' },
      ['send', 'SEMDStatus', 'examples/SEMDStatus.json'],
      2,
      'N3_CALLBACK_BASE "localhost:3000" is not an http(s) URL',
    ],
    ['a bad PORT', { N3_CALLBACK_BASE: '', PORT: 'abc' }, ['simulate'], 2, 'PORT must be a number from 1 to 65535, got "abc"'],
    ['a scenario filter that matches nothing', {}, ['simulate', '--only', 'zzz'], 2, 'no scenario matches --only "zzz"'],
    ['a count that is not one', {}, ['redrive', '--max', 'abc'], 2, '--max takes a whole number above 0, got "abc"'],
    ['an unknown rejected key', {}, ['rejected', '--show', 'rejected/nope.json'], 2, 'no rejected request under "rejected/nope.json"'],
  ] as const)('%s', async (_name, env, args, code, line) => {
    const base: Record<string, string> = 'N3_CALLBACK_BASE' in env ? {} : { N3_CALLBACK_BASE: stack.info.baseUrl };
    const result = await failing({ ...base, ...(env as Record<string, string>) }, ...args);
    expect(result.code).toBe(code);
    expect(result.line).toContain(line);
  });

  it('says when --base is not the callback endpoint', async () => {
    const result = await failing({}, 'send', 'SEMDStatus', 'examples/SEMDStatus.json', '--base', htmlUrl);
    expect(result).toEqual({
      code: 2,
      line: `n3-callback: the answer from ${htmlUrl}SEMDStatus is not an ack (HTTP 200): is --base the callback endpoint?`,
    });
  });

  it('follows PORT when N3_CALLBACK_BASE is unset, and says so when tail finds nothing', async () => {
    const port = new URL(stack.info.baseUrl).port;
    const { stdout } = await exec(process.execPath, ['cli/n3-callback.mjs', 'tail', '--once', '--since', '1s'], {
      env: { ...process.env, NO_COLOR: '1', N3_CALLBACK_BASE: '', PORT: port },
    });
    expect(stdout.trim()).toMatch(/^No callbacks since \d{4}-/);
  });
});
