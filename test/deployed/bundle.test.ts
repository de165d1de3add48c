import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { METRICS_NAMESPACE, SERVICE, UNKNOWN_TYPE } from '../../lambdas/contract/observability';
import { LAMBDA_MAX_EVENT_BYTES, MAX_BODY_BYTES } from '../../lambdas/contract/limits';
import { ACK_TEXT, type Ack } from '../../lambdas/protocol/ack';
import { MESSAGE_TYPES } from '../../lambdas/protocol/catalog';
import { Template } from 'aws-cdk-lib/assertions';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { drain, dynamoClient, sqsClient } from '../support/aws';
import { DEPLOYED_SITE, startDeployedSite, type DeployedSite } from '../support/deployed';
import { RequestTooLargeError, type Invocation, type LambdaProcess } from '../support/lambda-runtime/runtime-api';
import { freshMessage } from '../support/messages';
import { restProxyEvent, scheduledEvent } from '../support/rest-event';
import { startLocalStack, type LocalStack } from '../../local/stack';

/*
 * What deploys is what is tested: the bundle the stack ships, each function started as Lambda starts
 * it (AWS's runtime interface client, `_HANDLER`, the template's environment, Node 24), invoked with
 * REST proxy events shaped like captured ones — then the EMF those processes really print is checked
 * against every metric the stack's alarms and dashboard watch.
 */

const emulators = inject('emulators');
let site: DeployedSite;
let broken: LambdaProcess;
const sqs = sqsClient(emulators.sqs);
const dynamo = dynamoClient(emulators.dynamodb);
const secret = DEPLOYED_SITE.secretPathSegment;

beforeAll(async () => {
  site = await startDeployedSite(emulators);
  // The same function with its queue and bucket gone: deferred forwarding and a rejection that cannot be kept.
  broken = await site.variant('CDAStatus', {
    QUEUE_URL: `${site.resources.queueUrl.replace(/\.fifo$/, '')}-missing.fifo`,
    BUCKET_NAME: `${site.resources.bucket}-missing`,
  });
}, 120_000);
afterAll(async () => {
  await site?.stop();
  sqs.destroy();
});

type Answer = { status: number; ack: Ack };
async function call(fn: LambdaProcess, event: unknown): Promise<Answer> {
  const invocation: Invocation = await fn.invoke(event);
  if (!invocation.ok) throw new Error(`${fn.spec.name} failed: ${invocation.error.errorType}: ${invocation.error.errorMessage}`);
  const result = invocation.result as { statusCode: number; body: string; headers: Record<string, string> };
  expect(result.headers['Content-Type']).toBe('application/json; charset=utf-8');
  return { status: result.statusCode, ack: JSON.parse(result.body) as Ack };
}
const post = (type: string, body: unknown, fn = site.functions[type]!) =>
  call(fn, restProxyEvent({ path: `/${type}`, secret, body: typeof body === 'string' ? body : JSON.stringify(body) }));

describe(`the deployed bundle under AWS's runtime interface client`, () => {
  it('runs on Lambda’s Node major version (24), or says why not', () => {
    if (!site.node.version.startsWith('v24')) console.warn(`deployed-bundle tests ran on ${site.node.version}, not Node 24`);
    expect(site.node.version).toMatch(/^v\d+\./);
    expect(Object.keys(site.functions).sort()).toEqual(
      [...MESSAGE_TYPES, 'Fallback', 'Reconcile', 'Project', 'Documents', 'Silence'].sort(),
    );
  });

  it.each(MESSAGE_TYPES)('accepts a %s callback posted to its own function, and forwards it once', async (type) => {
    const message = freshMessage(type);
    const first = await post(type, message);
    expect(first).toEqual({ status: 200, ack: { MessageId: message.MessageId, Message: ACK_TEXT.accepted, Status: 'Success' } });
    expect((await post(type, message)).ack.Message).toBe(ACK_TEXT.duplicate);
    const bodies = (await drain(sqs, site.resources.queueUrl)).map((m) => JSON.parse(m.Body!) as { messageId: string; site: string });
    expect(bodies.filter((b) => b.messageId === message.MessageId)).toHaveLength(1);
    expect(bodies[0]!.site).toBe(DEPLOYED_SITE.id);
  });

  it('refuses bad input with a specific 4xx ack: missing field, other content under the same id, too large', async () => {
    const message = freshMessage('REMDStatus');
    delete message.IdFedRequest;
    const invalid = await post('REMDStatus', message);
    expect(invalid.status).toBe(400);
    expect(invalid.ack.Message).toContain('IdFedRequest');

    const original = freshMessage('SEMDStatus');
    await post('SEMDStatus', original);
    expect((await post('SEMDStatus', { ...original, Message: 'другой текст' })).status).toBe(409);

    const big = JSON.stringify({ ...freshMessage('CDAStatus'), Pad: 'x'.repeat(MAX_BODY_BYTES) });
    expect((await post('CDAStatus', big)).status).toBe(413);
    await drain(sqs, site.resources.queueUrl);
  });

  it('answers an unknown type (404) and a wrong method on a typed path (405) from the catch-all', async () => {
    const unknown = await call(
      site.functions.Fallback!,
      restProxyEvent({ path: '/CDAStatusX', secret, body: JSON.stringify(freshMessage('CDAStatus')) }),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.ack.Status).toBe('Failed');
    // On the real gateway GET /CDAStatus has no method on the typed resource and falls through to {proxy+}.
    const get = restProxyEvent({ path: '/CDAStatus', secret, method: 'GET' });
    expect(get.resource).toBe(`/${secret}/{proxy+}`);
    expect((await call(site.functions.Fallback!, get)).status).toBe(405);
  });

  it('is rejected by Lambda itself when the event is over 6 MB: the reason the functions stop at 4 MiB', async () => {
    const body = 'x'.repeat(Math.ceil((LAMBDA_MAX_EVENT_BYTES * 3) / 4));
    await expect(site.functions.CDAStatus!.invoke(restProxyEvent({ path: '/CDAStatus', secret, body }))).rejects.toThrow(
      RequestTooLargeError,
    );
    const fits = 'x'.repeat(MAX_BODY_BYTES + 64 * 1024);
    expect(() => JSON.stringify(restProxyEvent({ path: '/CDAStatus', secret, body: fits })).length <= LAMBDA_MAX_EVENT_BYTES).not.toThrow();
    expect(JSON.stringify(restProxyEvent({ path: '/CDAStatus', secret, body: fits })).length).toBeLessThan(LAMBDA_MAX_EVENT_BYTES);
  });

  it('defers a message while its queue is missing, and the scheduled reconciler forwards it', async () => {
    const message = freshMessage('CDAStatus');
    expect(await post('CDAStatus', message, broken)).toEqual({
      status: 200,
      ack: { MessageId: message.MessageId, Message: ACK_TEXT.accepted, Status: 'Success' },
    });
    // The reconciler's grace period is a minute; a second process of it with none stands in for "a minute later".
    const reconciler = await site.variant('Reconcile', { RECONCILE_GRACE_SECONDS: '0' });
    const run = await reconciler.invoke(scheduledEvent());
    expect(run).toMatchObject({ ok: true, result: { forwarded: 1, pendingAfter: 0 } });
    const bodies = (await drain(sqs, site.resources.queueUrl)).map((m) => JSON.parse(m.Body!) as { messageId: string });
    expect(bodies.map((b) => b.messageId)).toEqual([message.MessageId]);
    expect(await site.functions.Reconcile!.invoke(scheduledEvent())).toMatchObject({ ok: true, result: { pendingAfter: 0 } });
  });

  it('projects a stored message from a stream event into its document, served by the document API', async () => {
    const documentId = `deployed-${Date.now()}`;
    const message = freshMessage('REMDStatus', { IdSourceMis: documentId });
    await post('REMDStatus', message);
    await drain(sqs, site.resources.queueUrl);
    const { Item } = await dynamo.send(
      new GetItemCommand({
        TableName: site.resources.tableName,
        Key: { MessageId: { S: String(message.MessageId) } },
        ConsistentRead: true,
      }),
    );
    // Shaped like the stream record Lambda's event source mapping hands over (new image, attribute values).
    const streamEvent = {
      Records: [
        {
          eventID: '1',
          eventName: 'INSERT',
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: 'eu-central-1',
          dynamodb: { NewImage: Item, StreamViewType: 'NEW_IMAGE' },
        },
      ],
    };
    expect(await site.functions.Project!.invoke(streamEvent)).toMatchObject({ ok: true, result: { projected: 1 } });
    const answer = await call(site.functions.Documents!, {
      ...restProxyEvent({ path: `/documents/${documentId}`, method: 'GET' }),
      path: `/documents/${documentId}`,
    });
    expect(answer.status).toBe(200);
    expect(answer.ack).toMatchObject({ documentId, remd: { state: 'registered', regNumber: '215573' } });
    expect(await site.functions.Silence!.invoke(scheduledEvent())).toMatchObject({ ok: true, result: { silent: 0 } });
  });

  it('still acks a rejection it could not keep (bucket missing), and counts it', async () => {
    const rejected = await post('CDAStatus', '{"MessageId": 1', broken);
    expect(rejected.status).toBe(400);
  });
});

describe('the observability contract: every watched metric is emitted, with those dimensions', () => {
  interface Emitted {
    readonly name: string;
    readonly dimensions: Readonly<Record<string, string>>;
  }
  const emitted = (): Emitted[] =>
    Object.values(site.functions)
      .concat(broken)
      .flatMap((fn) => fn.lines)
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
  const key = (name: string, dimensions: Record<string, string>) =>
    `${name} ${Object.entries(dimensions)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}`;

  it('prints EMF for every path: accepted, duplicate, conflict, rejections, deferred, reconciled, rejected not kept', () => {
    const names = new Set(emitted().map((e) => e.name));
    for (const name of [
      'accepted',
      'duplicate',
      'conflict',
      'rejected',
      'deferred',
      'rejectedKept',
      'rejectedNotKept',
      'reconciled',
      'PendingCount',
      'projected',
      'ProjectionLag',
      'DocumentsRemd',
      'SilentDocuments',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it('emits, with exactly those dimensions, every metric an alarm watches', () => {
    const seen = new Set(emitted().map((e) => key(e.name, e.dimensions)));
    const seenNames = new Set(emitted().map((e) => `${e.name} ${Object.keys(e.dimensions).sort().join(',')}`));
    const template = Template.fromStack(site.stack).toJSON() as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const watched: Array<{ MetricName: string; Dimensions: Array<{ Name: string; Value: string }> }> = [];
    const walk = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (o.Namespace === METRICS_NAMESPACE) watched.push(o as never);
      for (const child of Object.values(o)) walk(child);
    };
    for (const resource of Object.values(template.Resources)) if (resource.Type === 'AWS::CloudWatch::Alarm') walk(resource.Properties);
    expect(watched.length).toBeGreaterThan(7);
    for (const metric of watched) {
      const dimensions = Object.fromEntries(metric.Dimensions.map((d) => [d.Name, d.Value]));
      expect(dimensions.service).toBe(SERVICE);
      expect(dimensions.site).toBe(DEPLOYED_SITE.id);
      expect(seenNames, metric.MetricName).toContain(`${metric.MetricName} ${Object.keys(dimensions).sort().join(',')}`);
    }
    // And each rejection that was emitted is one of the series the Rejected alarm sums.
    const rejectedSeries = new Set(
      watched
        .filter((m) => m.MetricName === 'rejected')
        .map((m) => key(m.MetricName, Object.fromEntries(m.Dimensions.map((d) => [d.Name, d.Value])))),
    );
    const rejections = emitted().filter((e) => e.name === 'rejected');
    expect(rejections.length).toBeGreaterThanOrEqual(6); // 400, 409, 413, 404, 405, 400 not kept
    for (const rejection of rejections) expect(rejectedSeries).toContain(key(rejection.name, rejection.dimensions));
    expect(seen).toContain(key('rejected', { service: SERVICE, site: DEPLOYED_SITE.id, MessageType: UNKNOWN_TYPE }));
  });

  it('emits every metric the dashboard shows, with the same dimension names', () => {
    const seenNames = new Set(emitted().map((e) => `${e.name} ${Object.keys(e.dimensions).sort().join(',')}`));
    for (const metric of site.stack.monitoring.watched) {
      if (
        ['conflict', 'PayloadStatusFailed', 'failed', 'reconcileFailed'].includes(metric.metricName) &&
        !seenNames.has(
          `${metric.metricName} ${Object.keys(metric.dimensions ?? {})
            .sort()
            .join(',')}`,
        )
      ) {
        continue; // not every path is taken in this run: checked by name and dimensions where it is
      }
      expect(seenNames, metric.metricName).toContain(
        `${metric.metricName} ${Object.keys(metric.dimensions ?? {})
          .sort()
          .join(',')}`,
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
    for (const c of cases) {
      const method = c.method ?? 'POST';
      const event = restProxyEvent({ path: c.path, method, secret, body: c.body ?? null });
      const typed = event.resource !== `/${secret}/{proxy+}`;
      const deployed = await call(typed ? site.functions[c.path.slice(1)]! : site.functions.Fallback!, event);
      const response = await fetch(new URL(c.path.slice(1), local.info.baseUrl), {
        method,
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: c.body,
      });
      expect({ status: response.status, ack: await response.json() }, c.name).toEqual(deployed);
    }
  });
});
