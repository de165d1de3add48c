import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { DynamoDbDocumentStore } from '../../lambdas/adapters/dynamodb-documents';
import { documentClient } from '../../lambdas/adapters/dynamodb-store';
import { fromStreamImage } from '../../lambdas/adapters/record-item';
import { STAGES } from '../../contract/documents';
import { MAX_BODY_BYTES, MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { applyMessage, documentMessageOf, emptyDocument, expectAnswer } from '../../lambdas/documents/projection';
import { getDocument } from '../../lambdas/documents/service';
import { createProjectHandler } from '../../lambdas/handlers/project-handler';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import type { MessageType } from '../../contract/catalog';
import { reprojectDocuments } from '../../cli/documents';
import { localOverrides } from '../../local/clients';
import { provision, type Resources } from '../../local/provision';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import { dynamoClient } from '../support/aws';
import { proxyEvent } from '../../testing/events';
import { freshMessage } from '../../testing/messages';

/*
 * Documents on DynamoDB Local against what broke them: one document holding every message's text passed
 * the 400 KB item limit at ~100 long texts, and from then on every stream batch touching it failed; its
 * items never expired; and nothing rebuilt documents from the messages. Each test failed before the fix.
 */

const emulators = inject('emulators');
const silent = new Logger({ serviceName: 'hostile', logLevel: 'SILENT' });

/** An item's size as DynamoDB counts it (names and values in UTF-8, numbers about half their digits, 3 bytes per list/map entry). */
function itemBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(value).length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + itemBytes(v), 0);
  return 3 + Object.entries(value as object).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + 1 + itemBytes(v), 0);
}

describe.runIf(emulators.dynamodbKind === 'dynamodb-local')('documents on DynamoDB Local, attacked', () => {
  let resources: Resources;
  let poller: StreamPoller | undefined;
  const failures: Error[] = [];
  const client = () => dynamoClient(emulators.dynamodb);
  const store = () => new DynamoDbDocumentStore(client(), resources.documentsTableName);
  const rawItem = async (documentId: string) =>
    (await documentClient(client()).send(new GetCommand({ TableName: resources.documentsTableName, Key: { documentId } }))).Item;

  beforeAll(async () => {
    resources = await provision(
      { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs },
      { prefix: `hostile-docs-${Date.now()}` },
    );
  });
  afterAll(async () => poller?.stop());

  const receive = async (type: MessageType, body: Record<string, unknown>) => {
    const adapters = createAwsAdapters(
      { TABLE_NAME: resources.tableName, QUEUE_URL: resources.queueUrl, BUCKET_NAME: resources.bucket, S3_FORCE_PATH_STYLE: true },
      localOverrides({ dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs }),
    );
    const handler = createReceiveHandler(type, {
      ...adapters,
      settings: { site: 'hostile', retentionDays: 30, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES },
      maxBodyBytes: MAX_BODY_BYTES,
      logger: silent,
      metrics: new Metrics({ namespace: 'hostile' }),
    });
    const result = await handler(proxyEvent({ path: `/${type}`, body: JSON.stringify(body) }));
    expect(result.statusCode).toBe(200);
  };

  it('projects a document of 150 messages with long texts from the stream, its item a bounded size', async () => {
    poller = startStreamPoller({
      endpoint: emulators.dynamodb,
      streamArn: resources.streamArn!,
      handler: createProjectHandler({
        documents: store(),
        recordOf: fromStreamImage,
        clock: { now: () => new Date() },
        logger: silent,
        metrics: new Metrics({ namespace: 'hostile' }),
      }),
      onError: (error) => failures.push(error),
    });
    const documentId = `long-${randomUUID()}`;
    // 1,000 three-byte characters: kept inline (under 4 KiB) and in full in the record, 3 KB of text a message.
    const text = '€'.repeat(1000);
    await receive('REMDStatus', freshMessage('REMDStatus', { IdSourceMis: documentId, Message: text }));
    for (let n = 0; n < 149; n += 10) {
      const failed = () => freshMessage('REMDStatus', { IdSourceMis: documentId, Status: 'Failed', RemdRegNumber: null, Message: text });
      await Promise.all(Array.from({ length: Math.min(10, 149 - n) }, () => receive('REMDStatus', failed())));
    }
    await poller.caughtUp(60_000);
    expect(failures.map((e) => e.message)).toEqual([]);

    const view = await getDocument(store(), documentId);
    expect(view?.remd).toMatchObject({ state: 'registered', regNumber: '215573' });
    expect(view?.timeline).toHaveLength(100);
    expect(view?.timelineTruncated).toBe(true);
    expect(itemBytes(await rawItem(documentId))).toBeLessThan(64 * 1024);
  }, 180_000);

  it('stores the largest document the limits allow, far under the 400 KB item limit', async () => {
    const documentId = 'Ж'.repeat(512); // 1,024 bytes: the longest id projected
    const long = (n: number) => '€'.repeat(n); // 3 bytes each: the most UTF-8 a UTF-16 unit can take
    let state = emptyDocument(documentId);
    const types: MessageType[] = ['CDAStatus', 'SEMDStatus', 'REMDStatus', 'MseResult', 'MseResultData'];
    for (let n = 0; n < 400; n++) {
      state = applyMessage(
        state,
        documentMessageOf({
          messageId: randomUUID(),
          messageType: n < 40 ? 'VimisResult' : types[n % types.length]!,
          status: n % 2 ? 'Failed' : 'Success',
          receivedAt: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
          expiresAt: 2_000_000_000,
          payload: {
            Message: long(5000),
            RemdRegNumber: long(5000),
            IdFedRequest: long(5000),
            IdResultMSE: long(5000),
            IdRecipientSystem: `${n}${long(5000)}`,
            IdMedDocument: Number.MAX_SAFE_INTEGER,
            DocType: Number.MAX_SAFE_INTEGER,
            StatusCode: Number.MAX_SAFE_INTEGER,
          },
        }),
      );
    }
    for (const stage of STAGES) state = expectAnswer(state, stage, '2026-12-01T00:00:00.000Z', 3650);
    expect(await store().save(state, undefined, new Date().toISOString())).toBe(true);
    const bytes = itemBytes(await rawItem(documentId));
    expect(bytes).toBeLessThan(200 * 1024);
  });

  it('gives each document item a TTL: as long as its newest message is kept, on a table that expires by it', async () => {
    const documentId = `ttl-${randomUUID()}`;
    await receive('SEMDStatus', freshMessage('SEMDStatus', { IdMedDocumentMis: documentId }));
    await poller!.caughtUp(60_000);
    const item = await rawItem(documentId);
    const newest = Math.floor(Date.now() / 1000) + 30 * 86_400;
    expect(item?.expiresAt).toBeGreaterThan(newest - 120);
    expect(item?.expiresAt).toBeLessThanOrEqual(newest);
    const ttl = await client().send(new DescribeTimeToLiveCommand({ TableName: resources.documentsTableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });

  it('rebuilds documents the projector never saw, and old-shape ones, from the message table; a second run writes nothing', async () => {
    await poller?.stop(); // the projector "down": its failure queue is all that is left of these
    poller = undefined;
    const lost = `lost-${randomUUID()}`;
    await receive('CDAStatus', freshMessage('CDAStatus', { IdMedDocumentMis: lost }));
    await receive('REMDStatus', freshMessage('REMDStatus', { IdSourceMis: lost }));
    // A document as the first projection wrote it: every message inline, no version, no TTL.
    const old = `old-${randomUUID()}`;
    const oldMessage = freshMessage('SEMDStatus', { IdMedDocumentMis: old, Status: 'Failed' });
    await receive('SEMDStatus', oldMessage);
    await documentClient(client()).send(
      new PutCommand({
        TableName: resources.documentsTableName,
        Item: {
          documentId: old,
          version: 1,
          messages: [
            {
              messageId: oldMessage.MessageId,
              messageType: 'SEMDStatus',
              status: 'Failed',
              receivedAt: new Date().toISOString(),
              message: 'x',
            },
          ],
          expectations: { semd: { expectedBy: '2026-01-01T00:00:00.000Z' } },
          states: { semd: 'failed' },
          writtenAt: new Date().toISOString(),
        },
      }),
    );
    expect(await getDocument(store(), lost)).toBeUndefined();

    const progress: string[] = [];
    const run = () =>
      reprojectDocuments({
        dynamodb: client(),
        tableName: resources.tableName,
        documentsTableName: resources.documentsTableName,
        json: true,
        progress: { isTTY: false, write: (line: string) => progress.push(line) > 0 } as unknown as NodeJS.WriteStream,
      }).then((out) => JSON.parse(out) as { messages: number; written: number; unchanged: number });

    const first = await run();
    expect(first.written).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatch(/^reproject: \d+ messages read, \d+ document writes, \d+ already current\n$/);
    expect(await getDocument(store(), lost)).toMatchObject({ cda: { state: 'generated' }, remd: { state: 'registered' } });
    const rebuilt = await rawItem(old);
    expect(rebuilt).toMatchObject({
      projection: expect.any(Number),
      expiresAt: expect.any(Number),
      expectations: { semd: expect.any(Object) },
    });
    expect(rebuilt?.messages).toBeUndefined();

    const second = await run();
    expect(second).toMatchObject({ messages: first.messages, written: 0 });
  });
});
