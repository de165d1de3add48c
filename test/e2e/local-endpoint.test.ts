import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sha256 } from '../../lambdas/ingest/envelope';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { Envelope } from '../../contract/envelope';
import { ACK_TEXT, OVERSIZE_ACK, type Ack } from '../../contract/ack';
import { MESSAGE_TYPES } from '../../contract/catalog';
import { startLocalStack, type LocalInfo, type LocalStack } from '../../local/stack';
import { drain, listKeys, queueDepth, s3Client, sqsClient } from '../support/aws';
import { EXAMPLES, freshMessage } from '../../testing/messages';
import { until } from '../support/wait';

/*
 * The product as `npm start` runs it: emulators, the deployed handler module, the local
 * gateway, exercised with real HTTP clients the way the N3 sender talks to it.
 */

describe('local endpoint over HTTP', () => {
  let stack: LocalStack;
  let info: LocalInfo;
  let sqs: SQSClient;
  let s3: S3Client;

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'e2e', reconcileEverySeconds: 0 });
    info = stack.info;
    sqs = sqsClient(info.sqsEndpoint);
    s3 = s3Client(info.s3Endpoint);
  });
  afterAll(async () => {
    sqs?.destroy();
    s3?.destroy();
    await stack?.stop();
  });
  beforeEach(async () => {
    await drain(sqs, info.queueUrl);
  });

  const post = async (path: string, body: string | Buffer, headers: Record<string, string> = {}) => {
    const response = await fetch(new URL(path, info.baseUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
      body,
    });
    return { status: response.status, ack: (await response.json()) as Ack, contentType: response.headers.get('content-type') };
  };

  it('describes itself at /_local/info', async () => {
    const response = await fetch(new URL('_local/info', info.baseUrl));
    const body = (await response.json()) as LocalInfo;
    expect(Object.keys(body)).toEqual(
      expect.arrayContaining([
        'baseUrl',
        'region',
        'sqsEndpoint',
        'queueUrl',
        'dlqUrl',
        'dynamodbEndpoint',
        'tableName',
        's3Endpoint',
        'bucket',
      ]),
    );
    expect(body.baseUrl).toBe(info.baseUrl);
    expect(body.queueUrl).toMatch(/\.fifo$/);
  });

  it('serves its OpenAPI contract at /_local/openapi.json, pointing at itself', async () => {
    const doc = (await (await fetch(new URL('_local/openapi.json', info.baseUrl))).json()) as {
      openapi: string;
      servers: Array<{ url: string }>;
      paths: object;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0]!.url).toBe(info.baseUrl.replace(/\/$/, ''));
    expect(Object.keys(doc.paths)).toHaveLength(6 + 3); // six callback types, three document routes
  });

  it('accepts every spec example and hands each to the MIS queue once', async () => {
    for (const type of MESSAGE_TYPES) {
      const { status, ack, contentType } = await post(type, JSON.stringify(EXAMPLES[type]));
      expect(status).toBe(200);
      expect(contentType).toBe('application/json; charset=utf-8');
      expect(ack).toEqual({
        MessageId: EXAMPLES[type].MessageId,
        Message: expect.stringContaining('Сообщение принято успешно'),
        Status: 'Success',
      });
    }
    // And again, as the sender does when it missed our acks.
    for (const type of MESSAGE_TYPES) expect((await post(type, JSON.stringify(EXAMPLES[type]))).ack.Status).toBe('Success');

    const messages = await drain(sqs, info.queueUrl);
    const envelopes = messages.map((m) => JSON.parse(m.Body!) as Envelope);
    expect(envelopes.map((e) => e.messageType).sort()).toEqual([...MESSAGE_TYPES].sort());
    expect(envelopes.every((e) => e.site === 'e2e' && e.version === 1)).toBe(true);
  });

  it('accepts `[base]//Type`, as a base URL with a trailing slash produces', async () => {
    const { status, ack } = await post(`${info.baseUrl}/MseResult`, JSON.stringify(freshMessage('MseResult')));
    expect([status, ack.Status]).toEqual([200, 'Success']);
  });

  it('takes a chunked body after Expect: 100-continue, with a BOM, as .NET HttpClient may send it', async () => {
    const body = freshMessage('VimisResult');
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(body))]);
    const url = new URL('VimisResult', info.baseUrl);
    const { status, text, sawContinue } = await new Promise<{ status: number; text: string; sawContinue: boolean }>((resolve, reject) => {
      let sawContinue = false;
      const req = request(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', Expect: '100-continue', 'Transfer-Encoding': 'chunked' },
      });
      req.on('continue', () => {
        sawContinue = true;
        const half = Math.floor(bytes.length / 2);
        req.write(bytes.subarray(0, half));
        req.end(bytes.subarray(half));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8'), sawContinue }));
      });
      req.on('error', reject);
    });
    expect(sawContinue).toBe(true);
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ MessageId: body.MessageId, Message: ACK_TEXT.accepted, Status: 'Success' });
    expect(await queueDepth(sqs, info.queueUrl)).toBe(1);
  });

  it('answers every failure in the ack shape', async () => {
    const body = freshMessage('REMDStatus');
    const unknown = await post('REMDStatusV2', JSON.stringify(body));
    expect(unknown.status).toBe(404);
    expect(unknown.ack).toMatchObject({ MessageId: body.MessageId, Status: 'Failed' });

    const invalid = await post('REMDStatus', JSON.stringify({ ...body, MedDocumentType: 'тридцать три' }));
    expect(invalid.status).toBe(400);
    expect(invalid.ack.Message).toContain('MedDocumentType');

    const get = await fetch(new URL('REMDStatus', info.baseUrl));
    expect(get.status).toBe(405);
    expect(((await get.json()) as Ack).Status).toBe('Failed');

    expect(await queueDepth(sqs, info.queueUrl)).toBe(0);
  });

  it('carries a 3 MB CDA through the bucket: the queue gets a reference whose object matches it', async () => {
    const body = freshMessage('CDAStatus', { CDA: Buffer.alloc(2_300_000, 'PDF').toString('base64') });
    const { status, ack } = await post('CDAStatus', JSON.stringify(body));
    expect([status, ack.Status]).toEqual([200, 'Success']);

    const [message] = await drain(sqs, info.queueUrl);
    const { payloadRef } = JSON.parse(message!.Body!) as Envelope;
    expect(payloadRef).toBeDefined();
    const object = await s3.send(new GetObjectCommand({ Bucket: payloadRef!.bucket, Key: payloadRef!.key }));
    const text = await object.Body!.transformToString('utf-8');
    expect(Buffer.byteLength(text)).toBe(payloadRef!.size);
    expect(sha256(text)).toBe(payloadRef!.sha256);
    expect((JSON.parse(text) as { CDA: string }).CDA).toBe(body.CDA);
  });

  it('keeps each rejected request under rejected/ in the bucket', async () => {
    const before = await listKeys(s3, info.bucket, 'rejected/');
    await post('SEMDStatus', '{"MessageId": "b097fea5-e6f6-4417-9829-53ab6a562719", "Status": 1}');
    const added = (await listKeys(s3, info.bucket, 'rejected/')).filter((k) => !before.includes(k));
    expect(added).toHaveLength(1);
    expect(added[0]).toContain('-400-invalid_fields-SEMDStatus-');
  });

  /** A body sent chunked: no Content-Length for a guard to read, as a streaming sender would send it. */
  const postChunked = (path: string, body: Buffer) =>
    new Promise<{ status: number; ack: Ack }>((resolve, reject) => {
      const req = request(new URL(path, info.baseUrl), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ack: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Ack }));
      });
      req.on('error', reject);
      for (let i = 0; i < body.length; i += 256 * 1024) req.write(body.subarray(i, i + 256 * 1024));
      req.end();
    });

  it('answers bodies over the limit as the deployed stack does: WAF 413, function 413, Lambda 5xx, gateway 413', async () => {
    const fiveMb = Buffer.from(JSON.stringify(freshMessage('CDAStatus', { CDA: 'A'.repeat(5 * 1024 * 1024) })));
    // Declared length over 4 MiB: the oversize guard (WAF, deployed) answers before any function runs.
    const guarded = await post('CDAStatus', fiveMb);
    expect(guarded).toMatchObject({ status: 413, ack: OVERSIZE_ACK });
    // Chunked, over 4 MiB, but its base64 event still fits Lambda's 6 MB: the function's own 413, naming the id.
    const message = freshMessage('CDAStatus', { CDA: 'A'.repeat(4 * 1024 * 1024 + 100_000) });
    const overFunction = await postChunked('CDAStatus', Buffer.from(JSON.stringify(message)));
    expect(overFunction.status).toBe(413);
    expect(overFunction.ack.MessageId).toBe(message.MessageId);
    // Chunked and too large for Lambda's event: the gateway's own 5xx (the documented remaining limit).
    const overLambda = await postChunked('CDAStatus', fiveMb);
    expect(overLambda).toEqual({ status: 500, ack: { MessageId: '', Message: ACK_TEXT.unavailable, Status: 'Failed' } });
    // Over API Gateway's 10 MB.
    const overGateway = await post('CDAStatus', Buffer.alloc(11 * 1024 * 1024, 0x20));
    expect(overGateway.status).toBe(413);
    expect(overGateway.ack.Status).toBe('Failed');
  });
});

describe('npm start', () => {
  const startFails = (env: Record<string, string>) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: run.status, lines: run.stderr.trim().split('\n') };
  };

  it('says in one line, at once, when PORT is not a port or is taken', async () => {
    expect(startFails({ PORT: 'abc' })).toEqual({ status: 1, lines: ['npm start: PORT must be a number from 1 to 65535, got "abc"'] });
    const taken = createNetServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      expect(startFails({ PORT: String(port) })).toEqual({
        status: 1,
        lines: [`npm start: port ${port} is in use: PORT=${port + 1} npm start`],
      });
    } finally {
      taken.close();
    }
  });

  it('prints the base URL and the queue URL, serves, and stops everything on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--disable-warning=NodeVersionSupportWarning', 'local/start.ts'], {
      env: { ...process.env, PORT: '0', SITE_ID: `start-${randomUUID().slice(0, 6)}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A failing check must not leave npm start (and its JVM) running.
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGTERM')));
    let output = '';
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        output += c.toString();
        const match = /Callback base URL\s+(\S+)/.exec(output);
        if (match && /MIS queue \(FIFO\)\s+\S+\.fifo/.test(output)) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
    });

    const info = (await (await fetch(new URL('_local/info', baseUrl))).json()) as LocalInfo;
    const response = await fetch(new URL('SEMDStatus', baseUrl), { method: 'POST', body: JSON.stringify(freshMessage('SEMDStatus')) });
    expect(((await response.json()) as Ack).Status).toBe('Success');
    // The ack echoes a sender's MessageId as sent, and the request log shows its start: escaped, never raw.
    const hostile = await fetch(new URL('SEMDStatus', baseUrl), { method: 'POST', body: JSON.stringify({ MessageId: '\x1b]0;x\x07' }) });
    expect(hostile.status).toBe(400);
    const line = await until(() => output.split('\n').find((l) => / 400 Failed +POST \/SEMDStatus /.test(l)), 'the request log line');
    expect(line).toContain(String.raw`\x1b]0;x\x07…`);
    expect(output).not.toContain('\x1b');

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Nothing it started still listens: the JVM of DynamoDB Local is gone with it.
    for (const endpoint of [info.dynamodbEndpoint, info.sqsEndpoint, baseUrl]) {
      expect(await listens(new URL(endpoint))).toBe(false);
    }
  });
});

function listens(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
