import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { DynamoDbDocumentStore } from '../../lambdas/adapters/dynamodb-documents';
import { fromStreamImage } from '../../lambdas/adapters/record-item';
import type { DocumentStore } from '../../lambdas/documents/ports';
import { getDocument } from '../../lambdas/documents/service';
import { createProjectHandler } from '../../lambdas/handlers/project-handler';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import { MAX_BODY_BYTES, MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { localOverrides } from '../../local/clients';
import { provision, type Resources } from '../../local/provision';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import { dynamoClient } from '../support/aws';
import { proxyEvent } from '../../testing/events';
import { freshMessage } from '../../testing/messages';

/*
 * The projector as deployed, on DynamoDB Local's real stream: messages stored by the receive handler
 * reach their documents; a failing batch is handed again until it succeeds, and nothing is lost or doubled.
 */

const emulators = inject('emulators');

describe('projector on the DynamoDB Local stream', () => {
  let resources: Resources;
  let poller: StreamPoller;
  const failures: Error[] = [];
  let failNextSaves = 0;

  beforeAll(async () => {
    resources = await provision({ dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs }, { prefix: `proj-${Date.now()}` });
    const real = new DynamoDbDocumentStore(dynamoClient(emulators.dynamodb), resources.documentsTableName);
    // The documents table "down" for as many writes as a test says: the batch must come back.
    const flaky: DocumentStore = {
      get: (id) => real.get(id),
      save: async (...args) => {
        if (failNextSaves > 0) {
          failNextSaves--;
          throw new Error('documents table unavailable');
        }
        return real.save(...args);
      },
      list: (q) => real.list(q),
      due: (now, limit) => real.due(now, limit),
      waiting: (since) => real.waiting(since),
    };
    const handler = createProjectHandler({
      documents: flaky,
      recordOf: fromStreamImage,
      clock: { now: () => new Date() },
      logger: new Logger({ serviceName: 'it', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'it' }),
    });
    poller = startStreamPoller({
      endpoint: emulators.dynamodb,
      streamArn: resources.streamArn!,
      handler,
      onError: (e) => failures.push(e),
    });
  });
  afterAll(async () => poller?.stop());

  const receive = async (type: Parameters<typeof freshMessage>[0], body: Record<string, unknown>) => {
    const adapters = createAwsAdapters(
      { TABLE_NAME: resources.tableName, QUEUE_URL: resources.queueUrl, BUCKET_NAME: resources.bucket, S3_FORCE_PATH_STYLE: true },
      localOverrides({ dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs }),
    );
    const handler = createReceiveHandler(type, {
      ...adapters,
      settings: { site: 'it', retentionDays: 1, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES },
      maxBodyBytes: MAX_BODY_BYTES,
      logger: new Logger({ serviceName: 'it', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'it' }),
    });
    const result = await handler(proxyEvent({ path: `/${type}`, body: JSON.stringify(body) }));
    expect(result.statusCode).toBe(200);
  };

  it('projects stored messages, a claim-checked CDA included, from the stream', async () => {
    const documentId = `it-${Date.now()}`;
    await receive('CDAStatus', freshMessage('CDAStatus', { IdMedDocumentMis: documentId, CDA: 'QUJD'.repeat(4096) }));
    await receive('SEMDStatus', freshMessage('SEMDStatus', { IdMedDocumentMis: documentId, Status: 'Failed' }));
    await poller.caughtUp();
    const view = await getDocument(new DynamoDbDocumentStore(dynamoClient(emulators.dynamodb), resources.documentsTableName), documentId);
    expect(view).toMatchObject({ cda: { state: 'generated', idMedDocument: 1053 }, semd: { state: 'failed' } });
    expect(view?.timeline).toHaveLength(2);
  });

  it('hands a failed batch again until it is projected, once', async () => {
    const documentId = `it-retry-${Date.now()}`;
    const before = failures.length;
    failNextSaves = 2;
    await receive('REMDStatus', freshMessage('REMDStatus', { IdSourceMis: documentId }));
    await receive('REMDStatus', freshMessage('REMDStatus', { IdSourceMis: documentId, Status: 'Failed', RemdRegNumber: null }));
    await poller.caughtUp();
    expect(failures.length - before).toBeGreaterThanOrEqual(2);
    const view = await getDocument(new DynamoDbDocumentStore(dynamoClient(emulators.dynamodb), resources.documentsTableName), documentId);
    expect(view?.remd).toMatchObject({ state: 'registered', regNumber: '215573' });
    expect(view?.timeline).toHaveLength(2);
  });
});
