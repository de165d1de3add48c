import { inspect } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DocumentStore } from '../../lambdas/documents/ports';
import { documentMessageOf } from '../../lambdas/documents/projection';
import { project } from '../../lambdas/documents/service';
import { createDocumentsHandler } from '../../lambdas/handlers/documents-handler';
import { createProjectHandler } from '../../lambdas/handlers/project-handler';
import type { MessageRecord } from '../../lambdas/ingest/ports';
import { proxyEvent } from '../../testing/events';
import { InMemoryDocumentStore } from '../../testing/fakes';

/*
 * The document API and the projector, attacked through their inputs (each of these failed before the
 * fix: a URIError thrown out of the handler, a `since` walking from 1970, a document id in an error
 * message, a key DynamoDB refuses failing every batch).
 */

const NOW = new Date('2026-11-26T09:00:00.000Z');
const silent = () => new Logger({ serviceName: 'hostile', logLevel: 'SILENT' });
const api = (documents: DocumentStore = new InMemoryDocumentStore(), logger = silent()) =>
  createDocumentsHandler({ documents, clock: { now: () => NOW }, logger, retentionDays: 30 });
const get = (path: string, query: Record<string, string> | null = null) => ({
  ...proxyEvent({ path, method: 'GET', body: null }),
  queryStringParameters: query,
});

afterEach(() => vi.restoreAllMocks());

describe('document API under hostile requests', () => {
  it('answers a path that is not valid percent-encoded UTF-8 with 400 and says how to encode it', async () => {
    const answer = await api()(get('/documents/%E0%A4%A'));
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({
      error: 'the path is not valid percent-encoding of UTF-8: encode the document id with encodeURIComponent',
    });
  });

  it('refuses a `since` beyond the site retention with 400 naming the earliest allowed time, without reading the table', async () => {
    const store = new InMemoryDocumentStore();
    const list = vi.spyOn(store, 'list');
    const answer = await api(store)(get('/documents', { since: '1970-01-01T00:00:00Z' }));
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({
      error: "since reaches past the site's retention of 30 days: the earliest allowed is 2026-10-27T09:00:00.000Z",
    });
    expect((await api(store)(get('/documents', { since: '999999d' }))).statusCode).toBe(400);
    expect(list).not.toHaveBeenCalled();
    expect((await api(store)(get('/documents', { since: '30d' }))).statusCode).toBe(200);
  });

  it('answers 404 for a document id no key can hold, and 400 to an expectation about one, without asking the table', async () => {
    const store = new InMemoryDocumentStore();
    const read = vi.spyOn(store, 'get');
    const id = 'д'.repeat(1024); // 2,048 bytes of UTF-8: over the 1,024 a document id may have
    expect((await api(store)(get(`/documents/${encodeURIComponent(id)}`))).statusCode).toBe(404);
    const put = await api(store)({
      ...proxyEvent({ path: `/documents/${encodeURIComponent(id)}/expectations/remd`, method: 'PUT', body: '{"within":"1d"}' }),
    });
    expect([put.statusCode, JSON.parse(put.body)]).toEqual([400, { error: 'a document id is at most 1024 bytes of UTF-8' }]);
    expect(read).not.toHaveBeenCalled();
  });

  it('keeps the document id out of the contention error and out of every log line when writes keep losing', async () => {
    const documentId = 'ZZPATIENT-doc-42';
    // Every save loses to "another writer": the optimistic lock gives up.
    const losing = new InMemoryDocumentStore();
    vi.spyOn(losing, 'save').mockResolvedValue(false);

    const failure = await project(
      losing,
      [
        {
          documentId,
          message: documentMessageOf({
            messageId: '00000000-0000-4000-8000-000000000001',
            messageType: 'REMDStatus',
            status: 'Success',
            receivedAt: NOW.toISOString(),
            payload: { Message: 'x' },
          }),
        },
      ],
      NOW.toISOString(),
    ).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    // What the Lambda runtime prints of an uncaught error: its message and stack; and what a logger may serialise.
    for (const text of [(failure as Error).message, String((failure as Error).stack), inspect(failure), JSON.stringify(failure)]) {
      expect(text).not.toContain(documentId);
    }

    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    const logger = new Logger({ serviceName: 'hostile', logLevel: 'DEBUG' });
    const answer = await api(
      losing,
      logger,
    )({
      ...proxyEvent({ path: `/documents/${documentId}/expectations/remd`, method: 'PUT', body: '{"within":"1d"}' }),
    });
    expect(answer.statusCode).toBe(503);
    expect(lines.join('')).toContain('DocumentContentionError'); // the failure is logged…
    expect(lines.join('')).not.toContain(documentId); // …without the document
  });
});

describe('projector under hostile messages', () => {
  it('projects a batch holding a document id longer than any key, skipping only that message, and names no document', async () => {
    const store = new InMemoryDocumentStore();
    // DynamoDB refuses keys over 2,048 bytes: the fake does too, as the real table did on every retry.
    const save = store.save.bind(store);
    vi.spyOn(store, 'save').mockImplementation(async (state, version, now) => {
      if (Buffer.byteLength(state.documentId) > 2048) throw new Error('ValidationException: Size of hashkey has exceeded the maximum');
      return save(state, version, now);
    });
    const record = (documentKey: string, n: number): MessageRecord => ({
      messageId: `00000000-0000-4000-8000-00000000000${n}`,
      state: 'RECEIVED',
      messageType: 'SEMDStatus',
      site: 'hostile',
      lpu: 'lpu',
      status: 'Success',
      documentKey,
      payloadHash: 'h',
      payload: JSON.stringify({ Message: 'ok' }),
      payloadBytes: 10,
      receivedAt: NOW.toISOString(),
      expiresAt: 1,
    });
    const records = [record('x'.repeat(3000), 1), record('doc-ok', 2)];
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    const handler = createProjectHandler({
      documents: store,
      recordOf: (image) => image as unknown as MessageRecord,
      clock: { now: () => NOW },
      logger: new Logger({ serviceName: 'hostile', logLevel: 'DEBUG' }),
      metrics: new Metrics({ namespace: 'hostile' }),
    });
    const event = { Records: records.map((r) => ({ eventName: 'INSERT' as const, dynamodb: { NewImage: r as never } })) };
    await expect(handler(event)).resolves.toEqual({ projected: 2 });
    expect(store.documents.has('doc-ok')).toBe(true);
    expect(lines.join('')).toContain('"skipped":1');
    expect(lines.join('')).not.toContain('xxxxxxxx');
  });
});
