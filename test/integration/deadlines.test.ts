import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import {
  ANSWER_WITHIN_MS,
  EMULATOR_DEADLINE,
  RECONCILE_RESERVE_MS,
  RECEIVER_TIMEOUT_MS,
  SDK_DEADLINES,
  SWEEP,
} from '../../contract/deadlines';
import { MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { METRIC } from '../../contract/observability';
import { asLambda } from '../../lambdas/handlers/middleware';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import { createSilenceHandler } from '../../lambdas/handlers/silence-handler';
import { createSweepHandler } from '../../lambdas/handlers/sweep-handler';
import { ACK_TEXT, type Ack } from '../../contract/ack';
import { localClientConfig } from '../../local/clients';
import { provision, type Resources } from '../../local/provision';
import { dynamoClient, getRecord } from '../support/aws';
import { proxyEvent } from '../../testing/events';
import { blackHole, type FaultServer, slowServer, stallingServer } from '../support/fault-servers';
import { freshMessage } from '../../testing/messages';

/*
 * Every AWS call the functions make ends by its deadline (lambdas/contract/deadlines.ts), and what a receiver
 * or the Sweep answers while one service hangs is the designed answer, given within the stated time. The real
 * receive handler and Sweep over the real adapters, with their production deadlines and retries: the healthy
 * services are the run's emulators (DynamoDB Local, fauxqs for SQS and S3), the faulty one is a local server
 * that accepts and never answers, answers only after every deadline, or sends its headers and then nothing.
 * The elapsed times asserted are correctness bounds (the stated deadlines), not speed: a hung call used to
 * wait until the function's own timeout.
 */

const emulators = inject('emulators');
const healthy = { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs };
type Service = keyof typeof healthy;

/** Longer than any overall deadline: a server this slow answers a call that has already been given up. */
const SLOW_MS = Math.max(...Object.values(SDK_DEADLINES).map((d) => d.overallMs)) + 5_000;

const FAULTS = {
  'a black hole (accepts, never answers)': blackHole,
  [`a slow server (answers after ${SLOW_MS} ms)`]: () => slowServer(SLOW_MS),
  'a server that sends its headers and then stalls': stallingServer,
} as const;

let dynamodb: DynamoDBClient;
const servers: FaultServer[] = [];
const silent = new Logger({ serviceName: 'deadlines', logLevel: 'SILENT' });

beforeAll(async () => {
  dynamodb = dynamoClient(emulators.dynamodb);
  // The SDK's first use in this worker loads and compiles its modules: not a thing any deadline is about.
  const warm = await site();
  expect((await warm.post({}, freshMessage('CDAStatus'))).status).toBe(200);
});

afterAll(async () => {
  dynamodb?.destroy();
  await Promise.all(servers.map((server) => server.close()));
});

async function fault(make: () => Promise<FaultServer>): Promise<FaultServer> {
  const server = await make();
  servers.push(server);
  return server;
}

/**
 * A site of its own (table, queue, bucket) for each test: the tests run at once, and one's reconciler must
 * not forward another's pending messages.
 */
async function site() {
  const resources: Resources = await provision(healthy, { prefix: `deadlines-${randomUUID().slice(0, 8)}` });

  /**
   * The deployed adapters with one service, or more, at a faulty endpoint: those keep the deployed deadlines and
   * attempts, and every call made through them is timed; the healthy emulators get theirs (EMULATOR_DEADLINE).
   */
  const adaptersWith = (endpoints: Partial<Record<Service, string>>) => {
    const at = { ...healthy, ...endpoints };
    const emulated = (Object.keys(healthy) as Service[]).filter((service) => !(service in endpoints));
    const adapters = createAwsAdapters(
      {
        TABLE_NAME: resources.tableName,
        DOCUMENTS_TABLE_NAME: resources.documentsTableName,
        QUEUE_URL: resources.queueUrl,
        BUCKET_NAME: resources.bucket,
        S3_FORCE_PATH_STYLE: true,
      },
      {
        dynamodb: localClientConfig(at.dynamodb),
        sqs: localClientConfig(at.sqs),
        s3: localClientConfig(at.s3),
        deadlines: Object.fromEntries(emulated.map((service) => [service, EMULATOR_DEADLINE])),
      },
    );
    const calls: number[] = [];
    if ('dynamodb' in endpoints) timeCalls(adapters.ports.store, calls);
    if ('sqs' in endpoints) timeCalls(adapters.ports.queue, calls);
    if ('s3' in endpoints) for (const port of [adapters.ports.payloads, adapters.rejectedStore]) timeCalls(port, calls);
    return { ...adapters, calls };
  };

  /**
   * One POST of `body` to the real CDAStatus receiver over `adaptersWith(endpoints)`: its answer, how long it took,
   * and how long each call to the faulty service took.
   */
  const post = async (endpoints: Partial<Record<Service, string>>, body: unknown, metrics = new Metrics({ namespace: 'deadlines' })) => {
    const adapters = adaptersWith(endpoints);
    const handler = createReceiveHandler('CDAStatus', {
      ...adapters,
      settings: { site: 'deadlines', retentionDays: 7, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES },
      maxBodyBytes: 4 * 1024 * 1024,
      logger: silent,
      metrics,
    });
    const started = performance.now();
    const result = await handler(proxyEvent({ path: '/CDAStatus', body: JSON.stringify(body) }));
    const elapsedMs = performance.now() - started;
    return { status: result.statusCode, ack: JSON.parse(result.body) as Ack, elapsedMs, faultyCalls: adapters.calls };
  };

  const stateOf = async (messageId: unknown) => (await getRecord(dynamodb, resources.tableName, String(messageId)))?.state;

  return { adaptersWith, post, stateOf };
}

/** Records how long each asynchronous call of the port's methods takes, settled either way, in `calls` (ms). */
function timeCalls(port: object, calls: number[]): void {
  // A class's methods, or a plain object's own functions (the bucket's stores load their code on first use).
  const names = new Set([...Object.getOwnPropertyNames(Object.getPrototypeOf(port)), ...Object.getOwnPropertyNames(port)]);
  const methods = [...names].filter((name) => name !== 'constructor' && typeof (port as Record<string, unknown>)[name] === 'function');
  for (const name of methods) {
    const method = (port as Record<string, (...args: unknown[]) => unknown>)[name]!.bind(port);
    Object.defineProperty(port, name, {
      value: (...args: unknown[]) => {
        const started = performance.now();
        const result = method(...args);
        if (!(result instanceof Promise)) return result;
        return result.finally(() => calls.push(performance.now() - started));
      },
    });
  }
}

/** A Lambda context whose remaining time runs down from `ms`, as the runtime's does. */
function contextWith(ms: number): Context {
  const deadline = Date.now() + ms;
  return { functionName: 'Sweep', awsRequestId: randomUUID(), getRemainingTimeInMillis: () => deadline - Date.now() } as Context;
}

/**
 * How late a timer may fire on a loaded 2-core machine: the bound on one call to a faulty service is its overall
 * deadline plus this.
 */
const TIMER_SLACK_MS = 1_000;
/**
 * What the healthy emulator calls of one request may take on a loaded 2-core machine (AWS: milliseconds), on top of
 * a stated answer deadline (which allows HEALTHY_CALLS_MS for them). The bound stays far below the 15 s timeout
 * that, without deadlines, ended every such request.
 */
const LOADED_MACHINE_SLACK_MS = 3_000;

it('states answers that come well before the receivers’ timeout, and API Gateway’s 29 s', () => {
  for (const within of Object.values(ANSWER_WITHIN_MS)) {
    expect(within).toBeLessThanOrEqual(RECEIVER_TIMEOUT_MS / 2);
    expect(within + LOADED_MACHINE_SLACK_MS).toBeLessThan(RECEIVER_TIMEOUT_MS);
  }
  expect(RECEIVER_TIMEOUT_MS).toBeLessThan(29_000);
});

/** Each call to the faulty service was given up by its overall deadline, and at least one was made. */
function expectCutOff(calls: readonly number[], server: FaultServer, service: Service) {
  expect(calls.length).toBeGreaterThan(0);
  expect(server.connections()).toBeGreaterThan(0);
  for (const ms of calls) expect(ms).toBeLessThan(SDK_DEADLINES[service].overallMs + TIMER_SLACK_MS);
}

describe.concurrent.each(Object.entries(FAULTS))('with %s', (_name, make) => {
  it(`the queue: the record is stored and the ack is the deferred Success within ${ANSWER_WITHIN_MS.queueHangs} ms; the Sweep forwards it later`, async () => {
    const [server, { post, adaptersWith, stateOf }] = await Promise.all([fault(make), site()]);
    const body = freshMessage('CDAStatus');
    const answer = await post({ sqs: server.endpoint }, body);

    expect(answer).toMatchObject({ status: 200, ack: { MessageId: body.MessageId, Message: ACK_TEXT.accepted, Status: 'Success' } });
    expectCutOff(answer.faultyCalls, server, 'sqs');
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS.queueHangs + LOADED_MACHINE_SLACK_MS);
    expect(await stateOf(body.MessageId)).toBe('RECEIVED');

    const reconciler = createReconcileHandler({
      ports: adaptersWith({}).ports,
      settings: { graceSeconds: 0, batch: 100 },
      logger: silent,
      metrics: new Metrics({ namespace: 'deadlines' }),
    });
    expect(await reconciler()).toMatchObject({ forwarded: 1 });
    expect(await stateOf(body.MessageId)).toBe('FORWARDED');
  });

  it(`the table: 503, nothing stored, within ${ANSWER_WITHIN_MS.tableHangs} ms (the sender retries)`, async () => {
    const [server, { post, stateOf }] = await Promise.all([fault(make), site()]);
    const body = freshMessage('CDAStatus');
    const answer = await post({ dynamodb: server.endpoint }, body);

    expect(answer).toMatchObject({ status: 503, ack: { MessageId: body.MessageId, Message: ACK_TEXT.unavailable, Status: 'Failed' } });
    expectCutOff(answer.faultyCalls, server, 'dynamodb');
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS.tableHangs + LOADED_MACHINE_SLACK_MS);
    expect(await stateOf(body.MessageId)).toBeUndefined();
  });

  it(`the bucket, for a large payload: 503, nothing stored, within ${ANSWER_WITHIN_MS.bucketHangs} ms (the sender retries)`, async () => {
    const [server, { post, stateOf }] = await Promise.all([fault(make), site()]);
    const body = freshMessage('CDAStatus', { CDA: 'A'.repeat(256 * 1024) });
    const answer = await post({ s3: server.endpoint }, body);

    expect(answer).toMatchObject({ status: 503, ack: { MessageId: body.MessageId, Message: ACK_TEXT.unavailable, Status: 'Failed' } });
    expectCutOff(answer.faultyCalls, server, 's3');
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS.bucketHangs + LOADED_MACHINE_SLACK_MS);
    expect(await stateOf(body.MessageId)).toBeUndefined();
  });

  it(`the bucket, for a rejected request: its own 400 ack within ${ANSWER_WITHIN_MS.bucketHangs} ms, counted as not kept`, async () => {
    const [server, { post }] = await Promise.all([fault(make), site()]);
    const metrics = new Metrics({ namespace: 'deadlines' });
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const body = freshMessage('CDAStatus', { Status: 'Maybe' });
    const answer = await post({ s3: server.endpoint }, body, metrics);

    expect(answer).toMatchObject({ status: 400, ack: { MessageId: body.MessageId, Status: 'Failed' } });
    expectCutOff(answer.faultyCalls, server, 's3');
    expect(answer.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS.bucketHangs + LOADED_MACHINE_SLACK_MS);
    expect(addMetric.mock.calls.map(([name]) => name).sort()).toEqual([METRIC.rejected, METRIC.rejectedNotKept].sort());
  });
});

describe.concurrent('the Sweep', () => {
  const sweepOf = ({ adaptersWith }: Awaited<ReturnType<typeof site>>, endpoints: Partial<Record<Service, string>>) => {
    const { ports, documents } = adaptersWith(endpoints);
    const metrics = new Metrics({ namespace: 'deadlines' });
    const reconcile = createReconcileHandler({ ports, settings: { graceSeconds: 0, batch: 100 }, logger: silent, metrics });
    const silence = createSilenceHandler({ documents: documents!, clock: ports.clock, logger: silent, metrics });
    return asLambda(createSweepHandler({ reconcile, silence }), { logger: silent, metrics });
  };

  it(`fails (SweepErrors) within ${SDK_DEADLINES.dynamodb.overallMs} ms when every call hangs, far inside its ${SWEEP.timeoutSeconds} s`, async () => {
    const [server, here] = await Promise.all([fault(blackHole), site()]);
    const sweep = sweepOf(here, { dynamodb: server.endpoint, sqs: server.endpoint, s3: server.endpoint });
    const started = performance.now();
    await expect(sweep({}, contextWith(SWEEP.timeoutSeconds * 1000))).rejects.toThrow('both sweep jobs failed');
    expect(performance.now() - started).toBeLessThan(SDK_DEADLINES.dynamodb.overallMs + TIMER_SLACK_MS);
  });

  it('returns its report before its time runs out when the queue hangs: it starts no message it could not finish', async () => {
    const [server, here] = await Promise.all([fault(blackHole), site()]);
    // Pending messages of three documents, stored while their queue was down (nothing listens on port 9).
    const ids: string[] = [];
    for (const document of ['doc-a', 'doc-b', 'doc-c']) {
      const body = freshMessage('CDAStatus', { IdMedDocumentMis: `${document}-${randomUUID()}` });
      expect((await here.post({ sqs: 'http://127.0.0.1:9' }, body)).status).toBe(200);
      ids.push(String(body.MessageId));
    }
    // Time for one send that hangs to its deadline, not for a second (QUEUE_DOWN_AFTER, 3, would take longer).
    const budgetMs = RECONCILE_RESERVE_MS + 3_000;
    const started = performance.now();
    const report = await sweepOf(here, { sqs: server.endpoint })({}, contextWith(budgetMs));
    const elapsedMs = performance.now() - started;

    expect(report.reconcile).toMatchObject({ due: 3, forwarded: 0, failed: 3, stopped: 'out-of-time', pendingAfter: 3 });
    expect(elapsedMs).toBeLessThan(budgetMs);
    expect(server.connections()).toBeGreaterThan(0);
    for (const id of ids) expect(await here.stateOf(id)).toBe('RECEIVED');
  });
});
