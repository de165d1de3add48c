import { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { HttpResponse } from '@smithy/protocol-http';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { keyStateError } from '../../lambdas/adapters/key-state';
import { METRIC } from '../../contract/observability';
import { QueueUnavailableError, StoreUnavailableError } from '../../contract/errors';
import { createProjectHandler } from '../../lambdas/handlers/project-handler';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import { proxyEvent } from '../../testing/events';
import { InMemoryDocumentStore, inMemoryPorts, inMemoryReceiveDeps } from '../../testing/fakes';
import { freshMessage } from '../../testing/messages';

/*
 * Finding (issue 24, 6): a site's KMS key disabled or pending deletion raised no alarm while every callback was
 * answered 503. The functions now tell a key-state failure from an outage by the service's error code and count
 * it (KeyUnusable, site-wide). The errors here are what the SDK itself makes of each service's answer: the real
 * clients and our adapters, with a request handler that answers as the service does when the key is disabled
 * (no emulator can: none implements KMS key states).
 */

const KEY_ARN = 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** A request handler answering every call with this HTTP error, as the service does. */
const answering = (status: number, headers: Record<string, string>, body: string) => ({
  handle: async () => ({ response: new HttpResponse({ statusCode: status, headers, body: Readable.from([Buffer.from(body)]) }) }),
});

/** Each service's answer when the site's key is disabled (the shapes its API reference and SDK models give). */
const DISABLED = {
  // DynamoDB models no KMS error: it answers AccessDeniedException and names KMS's own exception in the message.
  dynamodb: answering(
    400,
    { 'content-type': 'application/x-amz-json-1.0' },
    JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
      message: `KMS key access denied error: com.amazonaws.services.kms.model.DisabledException: ${KEY_ARN} is disabled. (Service: AWSKMS; Status Code: 400; Error Code: DisabledException)`,
    }),
  ),
  // SQS, JSON protocol with its query-compatible code header (@aws-sdk/client-sqs: KmsDisabled).
  sqs: answering(
    400,
    { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'KMS.DisabledException;Sender' },
    JSON.stringify({ __type: 'com.amazonaws.sqs#KmsDisabled', message: `${KEY_ARN} is disabled.` }),
  ),
  // S3's XML error with KMS's code.
  s3: answering(
    400,
    { 'content-type': 'application/xml' },
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>KMS.DisabledException</Code><Message>${KEY_ARN} is disabled.</Message><RequestId>R</RequestId></Error>`,
  ),
};

const adapters = (handlers: Partial<typeof DISABLED>) =>
  createAwsAdapters(
    {
      TABLE_NAME: 'messages',
      DOCUMENTS_TABLE_NAME: 'documents',
      QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/q.fifo',
      BUCKET_NAME: 'payloads',
      S3_FORCE_PATH_STYLE: true,
    },
    {
      dynamodb: { maxAttempts: 1, ...(handlers.dynamodb && { requestHandler: handlers.dynamodb }) },
      sqs: { maxAttempts: 1, ...(handlers.sqs && { requestHandler: handlers.sqs }) },
      s3: { maxAttempts: 1, ...(handlers.s3 && { requestHandler: handlers.s3 }) },
    },
  );

const record = {
  messageId: '7b0b5e3c-3a4f-4a39-9a43-6c1c0c3f3f01',
  state: 'RECEIVED',
  messageType: 'SEMDStatus',
  site: 'mo-1',
  lpu: 'lpu',
  status: 'Success',
  documentKey: 'doc',
  payloadHash: 'h',
  payload: '{}',
  payloadBytes: 2,
  receivedAt: '2026-01-01T00:00:00.000Z',
  expiresAt: 1,
} as const;

/** What the adapter threw, as the handlers see it. */
const thrown = async (call: () => Promise<unknown>) => {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
};

describe('keyStateError: a key-state failure told from an outage, as each service words it', () => {
  it('recognises a disabled key behind the table store’s error (DynamoDB: AccessDeniedException naming KMS)', async () => {
    const error = await thrown(() => adapters({ dynamodb: DISABLED.dynamodb }).ports.store.putIfAbsent(record));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(keyStateError(error)).toBe('AccessDeniedException (KMS)');
  });

  it('recognises it behind the queue’s error (SQS: KmsDisabled, KMS.DisabledException)', async () => {
    const error = await thrown(() =>
      adapters({ sqs: DISABLED.sqs }).ports.queue.send({ body: '{}', groupId: 'g', deduplicationId: 'd', attributes: {} }),
    );
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect(keyStateError(error)).toBe('KmsDisabled');
  });

  it('recognises it behind the payload store’s error (S3: KMS.DisabledException)', async () => {
    const error = await thrown(() => adapters({ s3: DISABLED.s3 }).ports.payloads.put('mo-1/k', 'x'.repeat(10), 'h'));
    expect(keyStateError(error)).toBe('KMS.DisabledException');
  });

  it('recognises the other key states by their codes: pending deletion, not found, access denied on the key', () => {
    const named = (name: string, message = 'm') => Object.assign(new Error(message), { name });
    for (const name of ['KmsInvalidState', 'KmsNotFound', 'KmsAccessDenied', 'KMS.KMSInvalidStateException', 'KMS.NotFoundException'])
      expect(keyStateError(new StoreUnavailableError('x', { cause: named(name) })), name).toBe(name);
    expect(keyStateError(named('KMSInvalidStateException'))).toBe('KMSInvalidStateException');
    expect(keyStateError(named('AccessDenied', `User is not authorized to perform: kms:GenerateDataKey on ${KEY_ARN}`))).toBe(
      'AccessDenied (KMS)',
    );
  });

  it('takes an outage, a throttle and a plain IAM denial for what they are: no key state', () => {
    const named = (name: string, message = 'm') => Object.assign(new Error(message), { name });
    expect(keyStateError(new StoreUnavailableError('x', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8000') }))).toBeUndefined();
    expect(keyStateError(named('KmsThrottled'))).toBeUndefined();
    expect(keyStateError(named('KMS.ThrottlingException'))).toBeUndefined();
    expect(keyStateError(named('ProvisionedThroughputExceededException'))).toBeUndefined();
    expect(
      keyStateError(named('AccessDeniedException', 'User: arn:aws:sts::1:assumed-role/r is not authorized to perform: dynamodb:PutItem')),
    ).toBeUndefined();
    expect(keyStateError('KmsDisabled')).toBeUndefined();
  });
});

describe('KeyUnusable: counted site-wide by the functions when the key fails them, never otherwise', () => {
  let addMetric: MockInstance<Metrics['addMetric']>;
  beforeEach(() => {
    addMetric = vi.spyOn(Metrics.prototype, 'addMetric');
  });
  afterEach(() => vi.restoreAllMocks());
  const counted = () => addMetric.mock.calls.filter(([name]) => name === METRIC.keyUnusable).map(([, , value]) => value);
  const silent = () => new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const kmsDisabled = () =>
    new StoreUnavailableError('put failed', { cause: Object.assign(new Error(`${KEY_ARN} is disabled.`), { name: 'KmsDisabled' }) });

  it('answers a callback 503 (the sender retries) and counts KeyUnusable once when the table’s key is disabled', async () => {
    const ports = inMemoryPorts();
    const deps = inMemoryReceiveDeps({ ports, logger: silent() });
    ports.store.failNextPut = kmsDisabled();
    const result = await createReceiveHandler(
      'SEMDStatus',
      deps,
    )(proxyEvent({ path: '/SEMDStatus', body: JSON.stringify(freshMessage('SEMDStatus')) }));
    expect(result.statusCode).toBe(503);
    expect(counted()).toEqual([1]);
  });

  it('counts nothing of the kind when the table is merely down', async () => {
    const ports = inMemoryPorts();
    const deps = inMemoryReceiveDeps({ ports, logger: silent() });
    ports.store.failNextPut = new StoreUnavailableError('put failed', { cause: new Error('connect ECONNREFUSED') });
    const result = await createReceiveHandler(
      'SEMDStatus',
      deps,
    )(proxyEvent({ path: '/SEMDStatus', body: JSON.stringify(freshMessage('SEMDStatus')) }));
    expect(result.statusCode).toBe(503);
    expect(counted()).toEqual([]);
  });

  it('counts it from the Sweep’s reconcile run on a quiet site (no callback needed), and still fails the run', async () => {
    const ports = inMemoryPorts();
    ports.store.countPending = () => Promise.reject(kmsDisabled());
    const reconcile = createReconcileHandler({ ports, settings: { graceSeconds: 0, batch: 10 }, logger: silent(), metrics: new Metrics() });
    await expect(reconcile()).rejects.toThrow('put failed');
    expect(counted()).toEqual([1]);
  });

  it('counts it from the projector when the documents table’s key fails it, and still fails the batch', async () => {
    const documents = new InMemoryDocumentStore();
    documents.save = () => Promise.reject(kmsDisabled());
    const receivedAt = new Date().toISOString();
    const project = createProjectHandler({
      documents,
      recordOf: () => ({ ...record, receivedAt }),
      clock: { now: () => new Date() },
      logger: silent(),
      metrics: new Metrics(),
    });
    const event = { Records: [{ eventName: 'INSERT', dynamodb: { NewImage: {} } }] } as never;
    await expect(project(event)).rejects.toThrow('put failed');
    expect(counted()).toEqual([1]);
  });
});
