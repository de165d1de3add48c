import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { METRICS_NAMESPACE, SERVICE, UNKNOWN_TYPE } from '../../contract/observability';
import { GATEWAY_NAMESPACE } from '../../lib/refusals';
import { LAMBDA_MAX_EVENT_BYTES, MAX_BODY_BYTES, MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { BUCKET_PREFIXES } from '../../contract/names';
import type { Envelope } from '../../contract/envelope';
import { ACK_TEXT, type Ack } from '../../contract/ack';
import { MESSAGE_TYPES } from '../../contract/catalog';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { drain, dynamoClient, listKeys, queueDepth, s3Client, sqsClient } from '../support/aws';
import {
  alarms,
  alarmSeries,
  dashboardSeries,
  DEPLOYED_SITE,
  runtimeMajor,
  type Series,
  seriesKey,
  startDeployedSite,
  type DeployedSite,
} from '../support/deployed';
import { ALLOW_SHIM_ENV, NATIVE_USER_AGENT, SHIM_USER_AGENT } from '../support/lambda-runtime/client';
import { SimulatedInvokeLimitError, type Invocation, type LambdaProcess } from '../support/lambda-runtime/runtime-api';
import { freshMessage } from '../../testing/messages';
import { REQUIRED } from '../support/spec-fields';
import { restProxyEvent, snsTickEvent } from '../support/rest-event';
import { until } from '../support/wait';
import { startLocalStack, type LocalStack } from '../../local/stack';

/*
 * What deploys is what is tested: the stack synthesised as `cdk synth` does, each function run from the
 * code asset it wrote, started as Lambda starts it (AWS's runtime interface client with its native Runtime
 * API client, `_HANDLER`, the template's environment, the Node major of the template's runtime), invoked
 * with REST proxy events shaped like a captured one — then the EMF those processes really print is checked
 * against every metric the stack's alarms and dashboard show. Simulated: the Runtime API server and the
 * Invoke in front of it (with Lambda's 6 MB limit), the events, the emulators; see README, "Deployed-bundle tests".
 */

const emulators = inject('emulators');
const sqs = sqsClient(emulators.sqs);
const dynamo = dynamoClient(emulators.dynamodb);
// The bucket emulator is fauxqs, at the queue's endpoint (test/support/deployed.ts).
const s3 = s3Client(emulators.sqs);
const secret = DEPLOYED_SITE.secretPathSegment;
const RECEIVERS = [...MESSAGE_TYPES, 'Fallback'] as const;

let started: DeployedSite | Error | undefined;
/** The site, or the one-line reason it did not start, thrown in each test so that each fails (a failed hook would only skip them). */
function deployed(): DeployedSite {
  if (started === undefined) throw new Error('the deployed site did not start: its setup did not finish');
  if (started instanceof Error) throw started;
  return started;
}

beforeAll(async () => {
  started = await startDeployedSite(emulators).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  console.info(started instanceof Error ? `deployed-bundle tests: not started: ${started.message}` : started.summary);
}, 25 * 60_000); // the first run on a machine may fetch Node 24 and build the runtime client's addon
afterAll(async () => {
  if (started && !(started instanceof Error)) await started.stop();
  sqs.destroy();
  dynamo.destroy();
  s3.destroy();
});

/** A second process of a receiving function whose queue and bucket are gone: deferred forwarding, and rejections it cannot keep. */
const brokenProcesses = new Map<string, Promise<LambdaProcess>>();
function broken(name: (typeof RECEIVERS)[number]): Promise<LambdaProcess> {
  const site = deployed();
  if (!brokenProcesses.has(name)) {
    brokenProcesses.set(
      name,
      site.variant(name, {
        QUEUE_URL: missingQueueUrl(),
        BUCKET_NAME: `${site.resources.bucket}-missing`,
      }),
    );
  }
  return brokenProcesses.get(name)!;
}
/** The site's queue URL with the queue's name changed to one that does not exist: every send is refused as unavailable. */
const missingQueueUrl = () => `${deployed().resources.queueUrl.replace(/\.fifo$/, '')}-missing.fifo`;

let sweepNowProcess: Promise<LambdaProcess> | undefined;
/** A second process of the Sweep with no grace period: a stored message is due at once, standing in for "a minute later". */
function sweepNow(): Promise<LambdaProcess> {
  if (!sweepNowProcess) sweepNowProcess = deployed().variant('Sweep', { RECONCILE_GRACE_SECONDS: '0' });
  return sweepNowProcess;
}
/** The series every metric of the Sweep (and the site-wide counts) is emitted with, and the alarms read. */
const siteWide = (name: string): Series => ({
  namespace: METRICS_NAMESPACE,
  name,
  dimensions: { service: SERVICE, site: DEPLOYED_SITE.id },
});
/** What a Sweep run answers, whatever its counts: both jobs' reports. */
const sweepResult = (reconcile: Record<string, unknown>, silent = 0) => ({
  ok: true,
  result: { reconcile: expect.objectContaining(reconcile), silence: { silent } },
});

type Answer = { status: number; ack: Ack };
async function call(fn: LambdaProcess, event: unknown): Promise<Answer> {
  const invocation: Invocation = await fn.invoke(event);
  if (!invocation.ok) throw new Error(`${fn.spec.name} failed: ${invocation.error.errorType}: ${invocation.error.errorMessage}`);
  const result = invocation.result as { statusCode: number; body: string; headers: Record<string, string> };
  expect(result.headers['Content-Type']).toBe('application/json; charset=utf-8');
  return { status: result.statusCode, ack: JSON.parse(result.body) as Ack };
}
const post = (type: string, body: unknown, fn = deployed().functions[type]!) =>
  call(fn, restProxyEvent({ path: `/${type}`, secret, body: typeof body === 'string' ? body : JSON.stringify(body) }));
const accepted = (message: Record<string, unknown>): Answer => ({
  status: 200,
  ack: { MessageId: String(message.MessageId), Message: ACK_TEXT.accepted, Status: 'Success' },
});
const forwardedIds = async () =>
  (await drain(sqs, deployed().resources.queueUrl)).map((m) => JSON.parse(m.Body!) as { messageId: string; site: string });

describe(`the deployed bundle under AWS's runtime interface client`, () => {
  // Each test starts at an idle site: what a failed one left waiting is forwarded and taken off the queue, so
  // that its failure is its own and not the next test's.
  afterEach(async () => {
    if (!started || started instanceof Error) return;
    await (await sweepNow()).invoke(snsTickEvent());
    await drain(sqs, started.resources.queueUrl);
  });

  it('runs on Lambda’s Node major version (24): exactly the major of the template’s runtime', () => {
    const site = deployed();
    const runtimes = [...new Set(Object.values(site.functions).map((fn) => fn.spec.runtime))];
    expect(runtimes).toHaveLength(1);
    expect(site.node.version.split('.')[0]).toBe(`v${runtimeMajor(runtimes[0]!)}`);
    // And each function process is that binary, not this test's Node.
    const binary = realpathSync(site.node.binary);
    for (const fn of site.processes) expect(fn.executable, fn.spec.name).toBe(binary);
  });

  it('talks to the Runtime API through aws-lambda-ric’s native client (rapid-client.node); through the JS shim only where explicitly allowed', () => {
    const site = deployed();
    if (site.client.kind === 'native') {
      for (const fn of site.processes) expect([...fn.callers], fn.spec.name).toEqual([expect.stringMatching(NATIVE_USER_AGENT)]);
    } else {
      expect(process.env[ALLOW_SHIM_ENV], `the JS shim ran without ${ALLOW_SHIM_ENV}=1: ${site.client.reason}`).toBe('1');
      for (const fn of site.processes) expect([...fn.callers], fn.spec.name).toEqual([SHIM_USER_AGENT]);
    }
  });

  it('runs every function from the one code asset cdk synth wrote (cdk.out/asset.<hash>, uploaded as <hash>.zip), with the template’s handler', () => {
    const site = deployed();
    expect(Object.keys(site.functions).sort()).toEqual([...RECEIVERS, 'Sweep', 'Project', 'Documents'].sort());
    const lambdas = Object.entries(site.template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(lambdas).toHaveLength(Object.keys(site.functions).length);
    for (const [logicalId, { Properties: p, Metadata: metadata }] of lambdas) {
      const assetPath = String(metadata?.['aws:asset:path']);
      const hash = /^asset\.([0-9a-f]{64})$/.exec(assetPath)?.[1];
      expect(hash, `${logicalId} aws:asset:path`).toBeDefined();
      expect(p.Code, logicalId).toMatchObject({ S3Key: `${hash}.zip` });
      const fn = site.functions[String(p.Handler).replace(/^\w+\./, '')]!;
      expect(fn.spec.handler).toBe(p.Handler);
      expect(fn.spec.codeDir).toBe(join(site.assemblyDir, assetPath));
      // The four entries (lib/bundling.ts), their shared and lazily loaded chunks, each with its source map; nothing else.
      const files = readdirSync(fn.spec.codeDir);
      expect(files.filter((file) => !/^chunk-[A-Z0-9]+\.mjs(\.map)?$/.test(file)).sort()).toEqual(
        ['documents', 'project', 'receive', 'sweep'].flatMap((entry) => [`${entry}.mjs`, `${entry}.mjs.map`]).sort(),
      );
      expect(files.filter((file) => file.endsWith('.mjs')).every((file) => files.includes(`${file}.map`))).toBe(true);
    }
    // One asset for every function: staged once per site, and uploaded once for the whole fleet (its hash is its content's).
    expect(new Set(lambdas.map(([, r]) => r.Metadata?.['aws:asset:path'])).size).toBe(1);
  });

  it('starts a receiver without the S3 client or the document store: neither is in what receive.mjs imports at its cold start, both are in the asset', () => {
    const { codeDir } = deployed().functions.CDAStatus!.spec;
    const read = (file: string) => readFileSync(join(codeDir, file), 'utf8');
    // What Node loads before the first request: the entry and the chunks it imports statically, transitively.
    const loaded = new Set<string>();
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const [, chunk] of read(file).matchAll(/(?:import|export)\s*(?:[\w$*{}\s,]*?from\s*)?["']\.\/(chunk-[A-Z0-9]+\.mjs)["']/g))
        visit(chunk!);
    };
    visit('receive.mjs');
    const asset = readdirSync(codeDir).filter((file) => file.endsWith('.mjs'));
    // Markers: S3's PutObject operation; the document store's own error text (lambdas/adapters/dynamodb-documents.ts).
    const markers = { s3: '"PutObject"', documents: 'document get failed' };
    for (const [what, marker] of Object.entries(markers)) {
      expect(
        [...loaded].filter((file) => read(file).includes(marker)),
        `${what} loaded at a receiver's cold start`,
      ).toEqual([]);
      expect(asset.filter((file) => read(file).includes(marker)).length, `${what} in the asset`).toBeGreaterThan(0);
    }
  });

  it('loads the S3 client on the first request that needs it, in a fresh process: a large payload is claim-checked in the bucket, then a rejection is kept there', async () => {
    const site = deployed();
    // A process of its own: its first S3 call is this test's, whatever other tests sent before.
    const fresh = await site.variant('MseResultData', {});
    const message = freshMessage('MseResultData', { Data: Buffer.alloc(3 * MAX_INLINE_PAYLOAD_BYTES, 'large').toString('base64') });
    expect(await post('MseResultData', message, fresh)).toEqual(accepted(message));
    const id = String(message.MessageId);
    const [forwarded] = (await drain(sqs, site.resources.queueUrl)).map((m) => JSON.parse(m.Body!) as Envelope);
    expect(forwarded?.payload).toBeUndefined();
    const stored = (await listKeys(s3, site.resources.bucket, BUCKET_PREFIXES.payloads(DEPLOYED_SITE.id))).filter((key) =>
      key.includes(id),
    );
    expect(stored).toHaveLength(1);
    expect(forwarded?.payloadRef).toMatchObject({ bucket: site.resources.bucket, key: stored[0] });

    const before = new Set(await listKeys(s3, site.resources.bucket, BUCKET_PREFIXES.rejected));
    const refused = await post('MseResultData', `{"MessageId": "${randomUUID()}", `, fresh);
    expect(refused.status).toBe(400);
    const kept = (await listKeys(s3, site.resources.bucket, BUCKET_PREFIXES.rejected)).filter((key) => !before.has(key));
    expect(kept).toHaveLength(1);
    expect(metricValues([fresh], 'rejectedNotKept')).toEqual([]);
  });

  it.each(MESSAGE_TYPES)(
    'accepts a %s callback posted to its own function, forwards it once, and refuses other content under its id',
    async (type) => {
      const message = freshMessage(type);
      expect(await post(type, message)).toEqual(accepted(message));
      expect((await post(type, message)).ack.Message).toBe(ACK_TEXT.duplicate);
      const other = await post(type, { ...message, Message: 'другой текст' });
      expect(other.status).toBe(409);
      expect(other.ack.Status).toBe('Failed');
      const bodies = await forwardedIds();
      expect(bodies.filter((b) => b.messageId === message.MessageId)).toHaveLength(1);
      expect(bodies.every((b) => b.site === DEPLOYED_SITE.id)).toBe(true);
    },
  );

  it('accepts a callback whose own Status is Failed, for every type: the platform’s verdict is forwarded, not refused', async () => {
    const messages = MESSAGE_TYPES.map((type) => freshMessage(type, { Status: 'Failed' }));
    for (const [i, type] of MESSAGE_TYPES.entries()) expect(await post(type, messages[i])).toEqual(accepted(messages[i]!));
    expect((await forwardedIds()).map((b) => b.messageId).sort()).toEqual(messages.map((m) => m.MessageId).sort());
  });

  it('refuses a callback missing a required field with a 400 ack naming the field, for every type', async () => {
    for (const type of MESSAGE_TYPES) {
      const field = REQUIRED[type].filter((name) => !['MessageId', 'Message', 'Status', 'Lpu'].includes(name)).at(-1)!;
      const message = freshMessage(type);
      delete message[field];
      const answer = await post(type, message);
      expect(answer.status, type).toBe(400);
      expect(answer.ack.Message, type).toContain(field);
    }
  });

  it('answers an unknown type (404) and a wrong method on a typed path (405) from the catch-all', async () => {
    const { Fallback } = deployed().functions;
    const unknown = await call(Fallback!, restProxyEvent({ path: '/CDAStatusX', secret, body: JSON.stringify(freshMessage('CDAStatus')) }));
    expect(unknown.status).toBe(404);
    expect(unknown.ack.Status).toBe('Failed');
    // On the real gateway GET /CDAStatus has no method on the typed resource and falls through to {proxy+}.
    const get = restProxyEvent({ path: '/CDAStatus', secret, method: 'GET' });
    expect(get.resource).toBe(`/${secret}/{proxy+}`);
    expect((await call(Fallback!, get)).status).toBe(405);
  });

  it('reads the largest body it accepts (4 MiB, base64 in an event under 6 MB) and answers one byte more with its own 413', async () => {
    const fn = deployed().functions.CDAStatus!;
    // Valid JSON of exactly `bytes` bytes, with no callback fields: refused for its content when read whole.
    const sized = (bytes: number) => {
      const head = `{"MessageId":"${randomUUID()}","Pad":"`;
      return `${head}${'x'.repeat(bytes - head.length - 2)}"}`;
    };
    const largest = restProxyEvent({ path: '/CDAStatus', secret, body: sized(MAX_BODY_BYTES) });
    expect(Buffer.byteLength(JSON.stringify(largest))).toBeLessThanOrEqual(LAMBDA_MAX_EVENT_BYTES);
    expect((await call(fn, largest)).status).toBe(400);
    const tooLarge = await call(fn, restProxyEvent({ path: '/CDAStatus', secret, body: sized(MAX_BODY_BYTES + 1) }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.ack.Status).toBe('Failed');
  });

  it('never hands the function an event over Lambda’s 6 MB limit: refused at Invoke (this harness enforces the documented limit)', async () => {
    const fn = deployed().functions.CDAStatus!;
    const before = fn.delivered;
    const body = 'x'.repeat(Math.ceil((LAMBDA_MAX_EVENT_BYTES * 3) / 4));
    await expect(fn.invoke(restProxyEvent({ path: '/CDAStatus', secret, body }))).rejects.toThrow(SimulatedInvokeLimitError);
    expect(fn.delivered).toBe(before);
    // The function is untouched and answers the next event.
    const message = freshMessage('CDAStatus');
    expect(await post('CDAStatus', message)).toEqual(accepted(message));
    expect(fn.delivered).toBe(before + 1);
    await forwardedIds();
  });

  it('defers every type while its queue is missing, and the Sweep, on the fleet’s tick, forwards them', async () => {
    const site = deployed();
    const messages = MESSAGE_TYPES.map((type) => freshMessage(type));
    for (const [i, type] of MESSAGE_TYPES.entries())
      expect(await post(type, messages[i], await broken(type))).toEqual(accepted(messages[i]!));
    // The Sweep's grace period is a minute; a second process of it with none stands in for "a minute later".
    expect(await (await sweepNow()).invoke(snsTickEvent())).toEqual(sweepResult({ forwarded: messages.length, pendingAfter: 0 }));
    expect((await forwardedIds()).map((b) => b.messageId).sort()).toEqual(messages.map((m) => m.MessageId).sort());
    expect(await site.functions.Sweep!.invoke(snsTickEvent())).toEqual(sweepResult({ pendingBefore: 0, pendingAfter: 0 }));
  });

  it('prints nothing at all on a tick at an idle site (no metric written as a zero, no empty flush), and counts the first message that waits', async () => {
    const sweep = deployed().functions.Sweep!;
    const before = sweep.lines.length;
    expect(await sweep.invoke(snsTickEvent())).toEqual(sweepResult({ pendingBefore: 0, due: 0, pendingAfter: 0 }));
    // One message waits (stored while its queue is missing, within the grace period), and the same process's
    // next tick counts it. That tick's lines follow the idle one's in the same pipe: once they have been read,
    // whatever the idle tick printed has been read too.
    const message = freshMessage('VimisResult');
    expect(await post('VimisResult', message, await broken('VimisResult'))).toEqual(accepted(message));
    expect(await sweep.invoke(snsTickEvent())).toEqual(sweepResult({ pendingBefore: 1, due: 0, pendingAfter: 1 }));
    await expectEmitted([siteWide('PendingCount')], 'PendingCount of the tick with a message waiting', { from: [sweep], positive: true });
    const printed = sweep.lines.slice(before);
    expect(printed.filter(isEmf).map(valuesOfRecord), 'the EMF the two ticks printed: the second one’s only').toEqual([
      { PendingCount: [1] },
    ]);
    expect(
      printed.filter((line) => !isEmf(line) && logMessageOf(line) !== 'reconciled'),
      'lines the two ticks printed besides the second one’s EMF and its log',
    ).toEqual([]);
    // Leave the site idle: the message forwarded.
    expect(await (await sweepNow()).invoke(snsTickEvent())).toEqual(sweepResult({ forwarded: 1, pendingAfter: 0 }));
    expect((await forwardedIds()).map((b) => b.messageId)).toEqual([message.MessageId]);
  });

  it('keeps counting a message its Sweep still cannot send (PendingCount above zero: the Pending alarm), then forwards it', async () => {
    const site = deployed();
    const message = freshMessage('MseResult');
    expect(await post('MseResult', message, await broken('MseResult'))).toEqual(accepted(message));
    // Due at once, and the queue still missing when the Sweep tries it.
    const stuck = await site.variant('Sweep', { RECONCILE_GRACE_SECONDS: '0', QUEUE_URL: missingQueueUrl() });
    expect(await stuck.invoke(snsTickEvent())).toEqual(sweepResult({ due: 1, forwarded: 0, failed: 1, pendingAfter: 1 }));
    await expectEmitted([siteWide('PendingCount')], 'PendingCount of a Sweep that could not send', { from: [stuck], positive: true });
    expect(metricValues([stuck], 'PendingCount')).toEqual([1]);
    expect(await (await sweepNow()).invoke(snsTickEvent())).toEqual(sweepResult({ forwarded: 1, pendingAfter: 0 }));
    expect((await forwardedIds()).map((b) => b.messageId)).toEqual([message.MessageId]);
  });

  it('counts a message the queue refuses for good (undeliverable: its alarm), from the receiving function and from the Sweep', async () => {
    const site = deployed();
    // A queue that takes no message over 1 KiB (SQS's smallest MaximumMessageSize): a refusal of the message itself.
    const name = `${new URL(site.resources.queueUrl).pathname
      .split('/')
      .at(-1)!
      .replace(/\.fifo$/, '')}-small.fifo`;
    const { QueueUrl: smallQueue } = await sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', MaximumMessageSize: '1024' } }),
    );
    const large = () => freshMessage('SEMDStatus', { Message: 'т'.repeat(1000) });

    const receiver = await site.variant('SEMDStatus', { QUEUE_URL: smallQueue! });
    const refused = large();
    expect(await post('SEMDStatus', refused, receiver)).toEqual({
      status: 422,
      ack: { MessageId: String(refused.MessageId), Message: ACK_TEXT.undeliverable, Status: 'Failed' },
    });
    await expectEmitted([siteWide('undeliverable')], 'undeliverable from the receiving function', { from: [receiver], positive: true });

    // Stored while the queue was missing; the Sweep's send is then refused: marked, counted, no longer pending.
    const deferred = large();
    expect(await post('SEMDStatus', deferred, await broken('SEMDStatus'))).toEqual(accepted(deferred));
    const sweep = await site.variant('Sweep', { RECONCILE_GRACE_SECONDS: '0', QUEUE_URL: smallQueue! });
    expect(await sweep.invoke(snsTickEvent())).toEqual(
      sweepResult({ forwarded: 0, undeliverable: 1, undeliverableIds: [deferred.MessageId], pendingAfter: 0 }),
    );
    await expectEmitted([siteWide('undeliverable')], 'undeliverable from the Sweep', { from: [sweep], positive: true });
    expect(metricValues([receiver, sweep], 'undeliverable')).toEqual([1, 1]);
    expect(await queueDepth(sqs, smallQueue!)).toBe(0);
    expect(await forwardedIds()).toEqual([]);
  });

  it('still acks a rejection it could not keep (bucket missing), for every type and the catch-all, and counts it', async () => {
    for (const name of RECEIVERS) {
      const fn = await broken(name);
      const answer = await call(
        fn,
        restProxyEvent({ path: name === 'Fallback' ? '/NoSuchType' : `/${name}`, secret, body: '{"MessageId": 1' }),
      );
      expect(answer.status, name).toBe(name === 'Fallback' ? 404 : 400);
      await expectEmitted([siteWide('rejectedNotKept')], `rejectedNotKept from ${name}`, { from: [fn], positive: true });
      // Its one line, with what the site dashboard's tables group by (contract/observability.ts LOG_FIELDS).
      await until(
        () => (logLines([fn]).some((l) => l.message === 'rejected request not kept') ? true : undefined),
        `${name}'s log`,
        10_000,
      );
      const line = logLines([fn]).findLast((l) => l.message === 'rejected request not kept')!;
      expect(line, name).toMatchObject({
        messageType: name === 'Fallback' ? UNKNOWN_TYPE : name,
        httpStatus: answer.status,
        code: name === 'Fallback' ? 'unknown_type' : 'invalid_body',
        reason: expect.any(String),
        kept: false,
      });
    }
  });

  it('projects stored messages from a stream event into their documents (REMD awaiting, registered, failed), served by the document API', async () => {
    const site = deployed();
    const base = `deployed-${Date.now()}`;
    const without = (message: Record<string, unknown>, field: string) => {
      delete message[field];
      return message;
    };
    const cases = [
      { state: 'registered', message: freshMessage('REMDStatus', { IdSourceMis: `${base}-r` }) },
      { state: 'awaiting', message: without(freshMessage('REMDStatus', { IdSourceMis: `${base}-a` }), 'RemdRegNumber') },
      { state: 'failed', message: without(freshMessage('REMDStatus', { IdSourceMis: `${base}-f`, Status: 'Failed' }), 'RemdRegNumber') },
    ];
    for (const { message } of cases) expect(await post('REMDStatus', message)).toEqual(accepted(message));
    await forwardedIds();
    // Shaped like the stream records Lambda's event source mapping hands over (new image, attribute values).
    const Records = await Promise.all(
      cases.map(async ({ message }, i) => {
        const { Item } = await dynamo.send(
          new GetItemCommand({
            TableName: site.resources.tableName,
            Key: { MessageId: { S: String(message.MessageId) } },
            ConsistentRead: true,
          }),
        );
        return {
          eventID: String(i + 1),
          eventName: 'INSERT',
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: 'eu-central-1',
          dynamodb: { NewImage: Item, StreamViewType: 'NEW_IMAGE' },
        };
      }),
    );
    expect(await site.functions.Project!.invoke({ Records })).toMatchObject({ ok: true, result: { projected: cases.length } });
    for (const { state, message } of cases) {
      const documentId = String(message.IdSourceMis);
      const answer = await call(site.functions.Documents!, {
        ...restProxyEvent({ path: `/documents/${documentId}`, method: 'GET' }),
        path: `/documents/${documentId}`,
      });
      expect(answer.status).toBe(200);
      expect(answer.ack, state).toMatchObject({ documentId, remd: { state } });
    }
    // Nothing is expected of these documents: none is silent, and the tick says so without a metric.
    expect(await site.functions.Sweep!.invoke(snsTickEvent())).toEqual(sweepResult({ pendingAfter: 0 }, 0));
  });

  it("counts a call the site's KMS key refused (KeyUnusable: its alarm), from the receiving function and from the Sweep", async () => {
    const site = deployed();
    // No emulator implements KMS key states: a stand-in DynamoDB answers every call as DynamoDB does when the
    // table's key is disabled, and the bundle's own SDK parses it.
    const dynamo = await keyDisabledDynamoDb();
    try {
      const receiver = await site.variant('CDAStatus', { AWS_ENDPOINT_URL_DYNAMODB: dynamo.url });
      const message = freshMessage('CDAStatus');
      expect(await post('CDAStatus', message, receiver)).toEqual({
        status: 503,
        ack: { MessageId: String(message.MessageId), Message: ACK_TEXT.unavailable, Status: 'Failed' },
      });
      await expectEmitted([siteWide('KeyUnusable')], 'KeyUnusable from the receiving function', { from: [receiver], positive: true });
      expect(metricValues([receiver], 'KeyUnusable')).toEqual([1]);
      // A quiet site tells too: the Sweep's first table call, every minute, meets the key.
      const sweep = await site.variant('Sweep', { AWS_ENDPOINT_URL_DYNAMODB: dynamo.url });
      expect((await sweep.invoke(snsTickEvent())).ok).toBe(false);
      await expectEmitted([siteWide('KeyUnusable')], 'KeyUnusable from the Sweep', { from: [sweep], positive: true });
      expect(dynamo.calls()).toBeGreaterThan(0);
    } finally {
      await dynamo.close();
    }
  });

  it('counts a document whose expected answer is overdue (SilentDocuments: its alarm) on the tick, until it is no longer overdue', async () => {
    const site = deployed();
    const documentId = `deployed-silent-${randomUUID()}`;
    const expect_ = (body: Record<string, string>) =>
      call(site.functions.Documents!, {
        ...restProxyEvent({ path: `/documents/${documentId}/expectations/remd`, method: 'PUT', body: JSON.stringify(body) }),
        path: `/documents/${documentId}/expectations/remd`,
      });
    const expectedBy = new Date(Date.now() - 60_000).toISOString();
    const put = await expect_({ expectedBy });
    expect(put.status).toBe(200);
    expect(put.ack).toMatchObject({ documentId });
    const sweep = site.functions.Sweep!;
    const before = metricValues([sweep], 'SilentDocuments').length;
    expect(await sweep.invoke(snsTickEvent())).toEqual(sweepResult({ pendingAfter: 0 }, 1));
    await expectEmitted([siteWide('SilentDocuments')], 'SilentDocuments of a tick with an overdue document', {
      from: [sweep],
      positive: true,
    });
    expect(metricValues([sweep], 'SilentDocuments').slice(before)).toEqual([1]);
    // Given a day more, it is not overdue: the next tick counts none, and writes no zero.
    expect((await expect_({ within: '24h' })).status).toBe(200);
    expect(await sweep.invoke(snsTickEvent())).toEqual(sweepResult({ pendingAfter: 0 }, 0));
    expect(metricValues([sweep], 'SilentDocuments').slice(before)).toEqual([1]);
  });
});

const isEmf = (line: string) => line.startsWith('{') && line.includes('"_aws"');
type EmfRecord = Record<string, unknown> & {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit?: string }> }>;
  };
};
/** One EMF line's metrics and the values it gives each (a metric added twice in one flush carries a list). */
function valuesOfRecord(line: string): Record<string, number[]> {
  const record = JSON.parse(line) as EmfRecord;
  return Object.fromEntries(
    record._aws.CloudWatchMetrics.flatMap((directive) => directive.Metrics).map((metric) => [
      metric.Name,
      [record[metric.Name]].flat() as number[],
    ]),
  );
}
/** The Powertools log lines (JSON, not EMF) the processes printed. */
function logLines(from: readonly LambdaProcess[]): Array<Record<string, unknown>> {
  return from
    .flatMap((fn) => fn.lines)
    .filter((line) => line.startsWith('{') && !isEmf(line))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
/** The `message` of a Powertools log line (JSON), or the line itself. */
function logMessageOf(line: string): string {
  try {
    return String((JSON.parse(line) as { message?: unknown }).message);
  } catch {
    return line;
  }
}

interface Emission {
  readonly name: string;
  readonly unit: string | undefined;
  readonly dimensions: Record<string, string>;
  readonly values: number[];
}
/** Every metric data point the function processes (all of them, or those given) printed as EMF, with its dimension values. */
function emitted(from: readonly LambdaProcess[] = deployed().processes): Emission[] {
  return from
    .flatMap((fn) => fn.lines)
    .filter(isEmf)
    .flatMap((line) => {
      const record = JSON.parse(line) as EmfRecord;
      return record._aws.CloudWatchMetrics.flatMap((directive) => {
        expect(directive.Namespace).toBe(METRICS_NAMESPACE);
        return directive.Metrics.flatMap((metric) =>
          directive.Dimensions.map((set) => ({
            name: metric.Name,
            unit: metric.Unit,
            dimensions: Object.fromEntries(set.map((d) => [d, String(record[d])])),
            values: [record[metric.Name]].flat() as number[],
          })),
        );
      });
    });
}
/** Every value these processes printed for one metric, in order. */
const metricValues = (from: readonly LambdaProcess[], name: string) =>
  emitted(from)
    .filter((e) => e.name === name)
    .flatMap((e) => e.values);

/**
 * Expects each series among those emitted (by the processes given, or any), with a value above zero where
 * asked. A process prints its EMF before it posts its response, but its stdout and the Runtime API are two
 * pipes: wait (polling, bounded) for the lines to be read before judging.
 */
async function expectEmitted(
  series: readonly Series[],
  what: string,
  options: { from?: readonly LambdaProcess[]; positive?: boolean } = {},
): Promise<void> {
  const missing = () => {
    const seen = new Set(
      emitted(options.from)
        .filter((e) => !options.positive || e.values.some((v) => v > 0))
        .map((e) => seriesKey(e.name, e.dimensions)),
    );
    return series.map((s) => seriesKey(s.name, s.dimensions)).filter((key) => !seen.has(key));
  };
  await until(() => (missing().length === 0 ? true : undefined), what, 10_000).catch(() => undefined);
  expect(missing(), `${what}: never emitted${options.positive ? ' above zero' : ''}`).toEqual([]);
}

/**
 * A DynamoDB endpoint that answers every call as DynamoDB does when the table's KMS key is disabled:
 * AccessDeniedException, KMS's own exception named in the message (DynamoDB models no KMS error of its own).
 */
async function keyDisabledDynamoDb(): Promise<{ url: string; calls: () => number; close: () => Promise<void> }> {
  let calls = 0;
  const server = createServer((request, response) => {
    calls++;
    request.resume();
    request.on('end', () => {
      response.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0' });
      response.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
          message:
            'KMS key access denied error: com.amazonaws.services.kms.model.DisabledException: arn:aws:kms:eu-central-1:123456789012:key/' +
            '1234abcd-12ab-34cd-56ef-1234567890ab is disabled. (Service: AWSKMS; Status Code: 400; Error Code: DisabledException)',
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Metrics no function of ours emits, by namespace: the service named publishes them (the alarms' and the dashboard's). */
const AWS_PUBLISHED: Readonly<Record<string, string>> = {
  'AWS/ApiGateway': 'API Gateway publishes requests, 4xx, 5xx and latency of the REST API; no gateway runs here',
  'AWS/Lambda':
    'Lambda publishes errors, throttles and duration of each function (the SweepErrors and SweepNotRunning alarms read the Sweep’s errors and invocations); no Lambda service runs here',
  'AWS/SQS': 'SQS publishes queue depth and age; fauxqs publishes no metrics',
  [GATEWAY_NAMESPACE]:
    "CloudWatch Logs publishes the gateway's refusals from the access log's metric filters (lib/refusals.ts; patterns checked against sample lines in test/infra/refusals.test.ts); no gateway runs here",
  // No AWS/WAFV2: the oversize guard's ACL, its metrics and its alarm are the fleet stack's now (lib/fleet-stack.ts).
};
/** Series of our namespace on the dashboard that no code path can emit, each with the reason. None now. */
const NEVER_EMITTED: ReadonlyArray<{ name: string; dimensions: Record<string, string>; reason: string }> = [];
const matches = (series: Series, exception: (typeof NEVER_EMITTED)[number]) =>
  series.name === exception.name && Object.entries(exception.dimensions).every(([k, v]) => series.dimensions[k] === v);

describe('the observability contract: every metric the alarms and the dashboard show is emitted, with those dimensions', () => {
  it('emits every metric an alarm of ours reads, with exactly its dimensions and their values, above zero', async () => {
    const watched = alarmSeries(deployed().template).filter((s) => s.namespace === METRICS_NAMESPACE);
    // A new alarm metric of ours needs a test above that drives it: none is written as a zero any more.
    expect(watched.map((s) => s.name).sort()).toEqual(
      ['KeyUnusable', 'PendingCount', 'SilentDocuments', 'rejectedNotKept', 'rejected', 'undeliverable'].sort(),
    );
    await expectEmitted(watched, 'alarm metrics', { positive: true });
  });

  it('has each alarm read one metric (SenderRefused two); those not of ours are published by AWS (AWS/Lambda: the Sweep’s errors and invocations only)', () => {
    const { template } = deployed();
    const all = alarms(template);
    expect(all).toHaveLength(13);
    for (const alarm of all)
      expect(alarm.series, alarm.logicalId).toHaveLength(/^MonitoringSenderRefused[0-9A-F]{8}$/.test(alarm.logicalId) ? 2 : 1);
    const theirs = all.flatMap((alarm) => alarm.series).filter((s) => s.namespace !== METRICS_NAMESPACE);
    for (const s of theirs) expect(Object.keys(AWS_PUBLISHED), `${s.namespace} ${s.name}: who publishes it?`).toContain(s.namespace);
    const [sweepId] = Object.entries(template.Resources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'sweep.Sweep',
    )!;
    expect(theirs.filter((s) => s.namespace === 'AWS/Lambda').sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { namespace: 'AWS/Lambda', name: 'Errors', dimensions: { FunctionName: `(ref ${sweepId})` } },
      // A sweep that never runs writes nothing: its absence is told by its invocations (missing data breaching).
      { namespace: 'AWS/Lambda', name: 'Invocations', dimensions: { FunctionName: `(ref ${sweepId})` } },
    ]);
  });

  it('writes no count as a zero: every Count the functions printed is above zero', () => {
    const zeros = emitted()
      .filter((e) => e.unit === 'Count' && e.values.some((v) => v === 0))
      .map((e) => seriesKey(e.name, e.dimensions));
    expect(zeros).toEqual([]);
    // There were counts to judge.
    expect(emitted().filter((e) => e.unit === 'Count').length).toBeGreaterThan(0);
  });

  it('counts every rejection once, site-wide, in the one series the Rejected alarm reads; every metric it prints is site-wide', () => {
    const site = deployed();
    const readBy = (construct: string) =>
      alarms(site.template).find((alarm) => new RegExp(`^Monitoring${construct}[0-9A-F]{8}$`).test(alarm.logicalId))?.series;
    expect(readBy('Rejected')).toEqual([siteWide('rejected')]);
    expect(readBy('RejectedNotKept')).toEqual([siteWide('rejectedNotKept')]);
    const total = (from: readonly LambdaProcess[], name: string) => metricValues(from, name).reduce((sum, v) => sum + v, 0);
    // 409 and 400 for each type, 404 and 405 from the catch-all, 400 and 413 at the body limit, one not kept per receiver.
    expect(total(site.processes, 'rejected')).toBeGreaterThanOrEqual(2 * MESSAGE_TYPES.length + 2 + 2 + RECEIVERS.length);
    expect(total(site.processes, 'rejectedNotKept')).toBeGreaterThanOrEqual(RECEIVERS.length);
    // Process by process, each rejection is one rejected line of its log: one function counting twice cannot hide another counting never.
    for (const fn of site.processes) {
      const rejectedLines = logLines([fn]).filter((l) => 'kept' in l).length;
      expect(total([fn], 'rejected'), `${fn.spec.name}: rejected against its rejection lines`).toBe(rejectedLines);
    }
    // No dimension but the site's: a busy site sends one series per name (contract/observability.ts).
    for (const e of emitted()) expect(seriesKey(e.name, e.dimensions)).toBe(seriesKey(e.name, siteWide(e.name).dimensions));
    // Accepted and duplicate requests are their log lines, not metrics.
    expect(metricValues(site.processes, 'accepted')).toEqual([]);
    expect(metricValues(site.processes, 'duplicate')).toEqual([]);
  });

  it('logs one line per request with its outcome and type (a type or Unknown), and never a payload’s Message text', () => {
    const site = deployed();
    const receivers = site.processes.filter((fn) => (RECEIVERS as readonly string[]).includes(fn.spec.name));
    const lines = logLines(receivers).filter((l) => 'outcome' in l);
    expect(new Set(lines.map((l) => l.outcome))).toEqual(new Set(['accepted', 'deferred', 'duplicate', 'conflict', 'rejected', 'failed']));
    for (const line of lines) expect([...MESSAGE_TYPES, UNKNOWN_TYPE], JSON.stringify(line)).toContain(line.messageType);
    // The undeliverable test's Message ('т' × 1000) is a payload's text: in no log line.
    expect(receivers.flatMap((fn) => fn.lines).some((l) => l.includes('т'.repeat(50)))).toBe(false);
  });

  it('emits every metric the dashboard shows, with its dimensions and their values, but for the exceptions listed with a reason', async () => {
    const shown = dashboardSeries(deployed().template);
    const namespaces = new Set(shown.map((s) => s.namespace));
    // A new namespace on the dashboard needs a line above saying who publishes it.
    expect([...namespaces].sort()).toEqual([METRICS_NAMESPACE, ...Object.keys(AWS_PUBLISHED)].sort());
    const ours = shown.filter((s) => s.namespace === METRICS_NAMESPACE);
    // Site-wide, as emitted: the breakdowns by type are the dashboard's Logs Insights tables, not metrics.
    for (const s of ours) expect(s.dimensions, s.name).toEqual(siteWide(s.name).dimensions);
    // Each exception still names a dashboard series…
    for (const exception of NEVER_EMITTED)
      expect(
        ours.filter((s) => matches(s, exception)).length,
        `exception ${seriesKey(exception.name, exception.dimensions)} names no dashboard series: remove it`,
      ).toBeGreaterThan(0);
    const excepted = ours.filter((s) => NEVER_EMITTED.some((e) => matches(s, e)));
    await expectEmitted(
      ours.filter((s) => !excepted.includes(s)),
      'dashboard metrics',
    );
    // …and none that is in fact emitted.
    const seen = new Set(emitted().map((e) => seriesKey(e.name, e.dimensions)));
    for (const exception of NEVER_EMITTED) {
      const named = ours.filter((s) => matches(s, exception));
      for (const s of named)
        expect(seen.has(seriesKey(s.name, s.dimensions)), `${seriesKey(s.name, s.dimensions)} is emitted: remove its exception`).toBe(
          false,
        );
    }
  });
});

describe('parity: the local gateway of `npm start` answers as the deployed stack does', () => {
  let local: LocalStack;
  beforeAll(async () => {
    local = await startLocalStack({ port: 0, siteId: 'parity', reconcileEverySeconds: 0 });
  }, 60_000);
  afterAll(async () => local?.stop());

  const cases: Array<{ name: string; path: string; method?: string; body?: string }> = [];
  for (const type of MESSAGE_TYPES) cases.push({ name: `${type} example`, path: `/${type}`, body: JSON.stringify(freshMessage(type)) });
  const sent = JSON.stringify(freshMessage('REMDStatus'));
  cases.push(
    { name: 'a re-send', path: '/REMDStatus', body: sent },
    {
      name: 'the same id, other content',
      path: '/REMDStatus',
      body: sent.replace('"Status":"Success"', '"Status":"Failed"').replace('Документ', 'Другой документ'),
    },
  );
  const { IdFedRequest: _, ...missing } = freshMessage('REMDStatus');
  cases.push(
    { name: 'a missing required field', path: '/REMDStatus', body: JSON.stringify(missing) },
    { name: 'a wrong type of value', path: '/CDAStatus', body: JSON.stringify(freshMessage('CDAStatus', { IdMedDocument: 'x' })) },
    { name: 'not JSON', path: '/SEMDStatus', body: '{"MessageId": ' },
    { name: 'an empty body', path: '/SEMDStatus', body: '' },
    { name: 'an unknown type', path: '/SEMDStatusV2', body: JSON.stringify(freshMessage('SEMDStatus')) },
    { name: 'a wrong method', path: '/CDAStatus', method: 'PUT', body: JSON.stringify(freshMessage('CDAStatus')) },
    { name: 'a nested path', path: '/a/CDAStatus', body: JSON.stringify(freshMessage('CDAStatus')) },
  );

  it('gives the same status and ack for every kind of request', async () => {
    const site = deployed();
    for (const c of cases) {
      const method = c.method ?? 'POST';
      const event = restProxyEvent({ path: c.path, method, secret, body: c.body ?? null });
      const typed = event.resource !== `/${secret}/{proxy+}`;
      const answer = await call(typed ? site.functions[c.path.slice(1)]! : site.functions.Fallback!, event);
      const response = await fetch(new URL(c.path.slice(1), local.info.baseUrl), {
        method,
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: c.body,
      });
      expect({ status: response.status, ack: await response.json() }, c.name).toEqual(answer);
    }
  });
});
