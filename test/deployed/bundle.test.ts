import { randomUUID } from 'node:crypto';
import { readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { METRICS_NAMESPACE, SERVICE, UNKNOWN_TYPE } from '../../lambdas/contract/observability';
import { LAMBDA_MAX_EVENT_BYTES, MAX_BODY_BYTES } from '../../lambdas/contract/limits';
import { ACK_TEXT, type Ack } from '../../lambdas/protocol/ack';
import { MESSAGE_TYPES } from '../../lambdas/protocol/catalog';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { drain, dynamoClient, sqsClient } from '../support/aws';
import {
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
import { freshMessage, REQUIRED } from '../support/messages';
import { restProxyEvent, scheduledEvent } from '../support/rest-event';
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
});

/** A second process of a receiving function whose queue and bucket are gone: deferred forwarding, and rejections it cannot keep. */
const brokenProcesses = new Map<string, Promise<LambdaProcess>>();
function broken(name: (typeof RECEIVERS)[number]): Promise<LambdaProcess> {
  const site = deployed();
  if (!brokenProcesses.has(name)) {
    brokenProcesses.set(
      name,
      site.variant(name, {
        QUEUE_URL: `${site.resources.queueUrl.replace(/\.fifo$/, '')}-missing.fifo`,
        BUCKET_NAME: `${site.resources.bucket}-missing`,
      }),
    );
  }
  return brokenProcesses.get(name)!;
}

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

  it('runs each function from the code asset cdk synth wrote (cdk.out/asset.<hash>, uploaded as <hash>.zip), with the template’s handler', () => {
    const site = deployed();
    expect(Object.keys(site.functions).sort()).toEqual([...RECEIVERS, 'Reconcile', 'Project', 'Documents', 'Silence'].sort());
    const lambdas = Object.entries(site.template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(lambdas).toHaveLength(Object.keys(site.functions).length);
    for (const [logicalId, { Properties: p, Metadata: metadata }] of lambdas) {
      const assetPath = String(metadata?.['aws:asset:path']);
      const hash = /^asset\.([0-9a-f]{64})$/.exec(assetPath)?.[1];
      expect(hash, `${logicalId} aws:asset:path`).toBeDefined();
      expect(p.Code, logicalId).toMatchObject({ S3Key: `${hash}.zip` });
      const fn = site.functions[String(p.Handler).replace(/^index\./, '')]!;
      expect(fn.spec.handler).toBe(p.Handler);
      expect(fn.spec.codeDir).toBe(join(site.assemblyDir, assetPath));
      expect(readdirSync(fn.spec.codeDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    }
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

  it('defers every type while its queue is missing, and the scheduled reconciler forwards them', async () => {
    const site = deployed();
    const messages = MESSAGE_TYPES.map((type) => freshMessage(type));
    for (const [i, type] of MESSAGE_TYPES.entries())
      expect(await post(type, messages[i], await broken(type))).toEqual(accepted(messages[i]!));
    // The reconciler's grace period is a minute; a second process of it with none stands in for "a minute later".
    const reconciler = await site.variant('Reconcile', { RECONCILE_GRACE_SECONDS: '0' });
    expect(await reconciler.invoke(scheduledEvent())).toMatchObject({ ok: true, result: { forwarded: messages.length, pendingAfter: 0 } });
    expect((await forwardedIds()).map((b) => b.messageId).sort()).toEqual(messages.map((m) => m.MessageId).sort());
    expect(await site.functions.Reconcile!.invoke(scheduledEvent())).toMatchObject({ ok: true, result: { pendingAfter: 0 } });
  });

  it('still acks a rejection it could not keep (bucket missing), for every type and the catch-all, and counts it', async () => {
    for (const name of RECEIVERS) {
      const fn = await broken(name);
      const answer = await call(
        fn,
        restProxyEvent({ path: name === 'Fallback' ? '/NoSuchType' : `/${name}`, secret, body: '{"MessageId": 1' }),
      );
      expect(answer.status, name).toBe(name === 'Fallback' ? 404 : 400);
      const type = name === 'Fallback' ? UNKNOWN_TYPE : name;
      await expectEmitted(
        [
          {
            namespace: METRICS_NAMESPACE,
            name: 'rejectedNotKept',
            dimensions: { service: SERVICE, site: DEPLOYED_SITE.id, MessageType: type },
          },
        ],
        `rejectedNotKept from ${name}`,
      );
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
    expect(await site.functions.Silence!.invoke(scheduledEvent())).toMatchObject({ ok: true, result: { silent: 0 } });
  });
});

/** Every metric data point the function processes printed as EMF, with its dimension values. */
function emitted(): Array<{ name: string; dimensions: Record<string, string> }> {
  return deployed()
    .processes.flatMap((fn) => fn.lines)
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .flatMap((line) => {
      const record = JSON.parse(line) as Record<string, unknown> & {
        _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
      };
      return record._aws.CloudWatchMetrics.flatMap((directive) => {
        expect(directive.Namespace).toBe(METRICS_NAMESPACE);
        return directive.Metrics.flatMap((metric) =>
          directive.Dimensions.map((set) => ({
            name: metric.Name,
            dimensions: Object.fromEntries(set.map((d) => [d, String(record[d])])),
          })),
        );
      });
    });
}

/**
 * Expects each series among those emitted. A process prints its EMF before it posts its response, but its
 * stdout and the Runtime API are two pipes: wait (polling, bounded) for the lines to be read before judging.
 */
async function expectEmitted(series: readonly Series[], what: string): Promise<void> {
  const missing = () => {
    const seen = new Set(emitted().map((e) => seriesKey(e.name, e.dimensions)));
    return series.map((s) => seriesKey(s.name, s.dimensions)).filter((key) => !seen.has(key));
  };
  await until(() => (missing().length === 0 ? true : undefined), what, 10_000).catch(() => undefined);
  expect(missing(), `${what}: never emitted`).toEqual([]);
}

/** Dashboard metrics no function of ours emits, by namespace: the service named publishes them. */
const AWS_PUBLISHED: Readonly<Record<string, string>> = {
  'AWS/ApiGateway': 'API Gateway publishes requests, 4xx, 5xx and latency of the REST API; no gateway runs here',
  'AWS/Lambda': 'Lambda publishes errors, throttles and duration of each function; no Lambda service runs here',
  'AWS/SQS': 'SQS publishes queue depth and age; fauxqs publishes no metrics',
  'AWS/WAFV2': 'WAF publishes the requests its oversize-body rule blocked; no WAF runs here',
};
/** Series of our namespace on the dashboard that no code path can emit, each with the reason. */
const NEVER_EMITTED: ReadonlyArray<{ name: string; dimensions: Record<string, string>; reason: string }> = (
  ['accepted', 'duplicate', 'deferred', 'conflict', 'PayloadStatusFailed'] as const
).map((name) => ({
  name,
  dimensions: { MessageType: UNKNOWN_TYPE },
  reason:
    'the catch-all counts a request under MessageType=Unknown only when its type cannot be told, and such a request is always refused',
}));
const matches = (series: Series, exception: (typeof NEVER_EMITTED)[number]) =>
  series.name === exception.name && Object.entries(exception.dimensions).every(([k, v]) => series.dimensions[k] === v);

describe('the observability contract: every metric the alarms and the dashboard show is emitted, with those dimensions', () => {
  it('emits every metric an alarm watches, with exactly its dimensions and their values', async () => {
    const watched = alarmSeries(deployed().template).filter((s) => s.namespace === METRICS_NAMESPACE);
    expect(watched.map((s) => s.name)).toEqual(expect.arrayContaining(['rejected', 'rejectedNotKept', 'PendingCount', 'SilentDocuments']));
    await expectEmitted(watched, 'alarm metrics');
  });

  it('counts every rejection it emitted in one of the series the Rejected alarm sums', () => {
    const rejectedSeries = new Set(
      alarmSeries(deployed().template)
        .filter((s) => s.namespace === METRICS_NAMESPACE && s.name === 'rejected')
        .map((s) => seriesKey(s.name, s.dimensions)),
    );
    const rejections = emitted().filter((e) => e.name === 'rejected');
    // 409 and 400 for each type, 404 and 405 from the catch-all, 400 and 413 at the body limit, one not kept per receiver.
    expect(rejections.length).toBeGreaterThanOrEqual(2 * MESSAGE_TYPES.length + 2 + 2 + RECEIVERS.length);
    for (const rejection of rejections) expect(rejectedSeries).toContain(seriesKey(rejection.name, rejection.dimensions));
  });

  it('emits every metric the dashboard shows, with its dimensions and their values, but for the exceptions listed with a reason', async () => {
    const shown = dashboardSeries(deployed().template);
    const namespaces = new Set(shown.map((s) => s.namespace));
    // A new namespace on the dashboard needs a line above saying who publishes it.
    expect([...namespaces].sort()).toEqual([METRICS_NAMESPACE, ...Object.keys(AWS_PUBLISHED)].sort());
    const ours = shown.filter((s) => s.namespace === METRICS_NAMESPACE);
    const excepted = ours.filter((s) => NEVER_EMITTED.some((e) => matches(s, e)));
    await expectEmitted(
      ours.filter((s) => !excepted.includes(s)),
      'dashboard metrics',
    );
    // Each exception still names a dashboard series, and none that is in fact emitted.
    const seen = new Set(emitted().map((e) => seriesKey(e.name, e.dimensions)));
    for (const exception of NEVER_EMITTED) {
      const named = ours.filter((s) => matches(s, exception));
      expect(
        named.length,
        `exception ${seriesKey(exception.name, exception.dimensions)} names no dashboard series: remove it`,
      ).toBeGreaterThan(0);
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
