import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentsClient } from '../../consumer/documents';
import type { DocumentView } from '../../contract/documents';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/clients';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { freshMessage } from '../../testing/messages';

/*
 * The document API from any language, signed with SigV4 by the tools' own signers: curl --aws-sigv4
 * (examples/documents-curl.sh) and botocore's SigV4Auth (examples/python/documents.py), against the local
 * stack with `documentsAuth: 'required'`. What the local API checks: the signature itself, recomputed
 * with the AWS SDK's signer over the local dummy credentials (local/local, eu-central-1, execute-api),
 * the 15-minute clock window and the body hash. What it does not check: IAM policies (deployed, the
 * consumer policy and the account-only resource policy decide who may call). `npm start` by default
 * also lets unsigned loopback calls through (its console and CLI make them); this stack refuses them.
 */

const run = (file: string, args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });

// Each test starts curl or Python several times.
describe('the document API with SigV4 from the shell and Python, against the local API checking signatures', { timeout: 90_000 }, () => {
  let stack: LocalStack;
  const documentId = `doc-${randomUUID()}`;
  const cyrillicId = `документ-${randomUUID()}`;
  // Ambient AWS credentials must not leak in: the examples use the local dummy ones unless told otherwise.
  const clean = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_REGION: '' };
  const curl = (...args: string[]) =>
    run('sh', ['examples/documents-curl.sh', ...args], { ...clean, N3_DOCUMENTS_API: stack.info.baseUrl });
  const python = (...args: string[]) => run('python3', ['examples/python/documents.py', '--api', stack.info.baseUrl, ...args], clean);
  type SignInit = {
    method?: string;
    body?: string;
    sendBody?: string;
    secret?: string;
    region?: string;
    at?: Date;
    bodyHashHeader?: boolean;
  };
  /** The headers the AWS SDK's signer adds for a request (fetch sets Host itself, to the same value). */
  const sign = async (path: string, init: SignInit = {}) => {
    const url = new URL(path, stack.info.baseUrl);
    const signer = new SignatureV4({
      service: 'execute-api',
      region: init.region ?? LOCAL_REGION,
      credentials: { ...LOCAL_CREDENTIALS, secretAccessKey: init.secret ?? LOCAL_CREDENTIALS.secretAccessKey },
      sha256: Hash.bind(null, 'sha256'),
      // The SDK sends x-amz-content-sha256; curl and botocore (for execute-api) sign the body without it.
      applyChecksum: init.bodyHashHeader ?? true,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: init.method ?? 'GET',
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { host: url.host, ...(init.body ? { 'content-type': 'application/json' } : {}) },
        body: init.body,
      }),
      { signingDate: init.at },
    );
    const { host: _, ...headers } = signed.headers as Record<string, string>;
    return { url, headers };
  };
  /** A request signed by the AWS SDK's signer, then sent as given (tampered or not). */
  const signedFetch = async (path: string, init: SignInit = {}) => {
    const { url, headers } = await sign(path, init);
    return fetch(url, { method: init.method ?? 'GET', headers, body: init.sendBody ?? init.body });
  };

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'sigv4', reconcileEverySeconds: 0, documentsAuth: 'required' });
    for (const id of [documentId, cyrillicId]) {
      const response = await fetch(new URL('REMDStatus', stack.info.baseUrl), {
        method: 'POST',
        body: JSON.stringify(freshMessage('REMDStatus', { IdSourceMis: id })),
      });
      expect(response.status).toBe(200);
    }
    await stack.projected(10_000);
  });
  afterAll(async () => stack?.stop());

  it('curl --aws-sigv4: a document, a filtered list (query signed), an expectation (body signed), the silent list', async () => {
    const doc = await curl('doc', documentId);
    expect(doc.code, doc.stdout).toBe(0);
    expect(JSON.parse(doc.stdout)).toMatchObject({ documentId, remd: { state: 'registered', regNumber: '215573' } });

    const list = await curl('list', 'remd', 'registered', '1h');
    expect(list.code, list.stdout).toBe(0);
    expect((JSON.parse(list.stdout) as DocumentView[]).map((d) => d.documentId)).toContain(documentId);

    const expectation = await curl('expect', documentId, 'semd', '24h');
    expect(expectation.code, expectation.stdout).toBe(0);
    expect((JSON.parse(expectation.stdout) as DocumentView).expectations).toEqual([expect.objectContaining({ stage: 'semd' })]);

    const silent = await curl('silent');
    expect([silent.code, JSON.parse(silent.stdout)]).toEqual([0, []]);
  });

  it("botocore's SigV4Auth: a document (also by a Cyrillic id, percent-encoded), a list, an expectation; a 404 is one line", async () => {
    const doc = await python('doc', documentId);
    expect(doc.code, doc.stderr).toBe(0);
    expect(JSON.parse(doc.stdout)).toMatchObject({ documentId, remd: { state: 'registered' } });
    const cyrillic = await python('doc', cyrillicId);
    expect(cyrillic.code, cyrillic.stderr).toBe(0);
    expect(JSON.parse(cyrillic.stdout)).toMatchObject({ documentId: cyrillicId });

    const list = await python('list', '--stage', 'remd', '--state', 'registered', '--since', '1h');
    expect((JSON.parse(list.stdout) as DocumentView[]).map((d) => d.documentId)).toEqual(expect.arrayContaining([documentId, cyrillicId]));
    const expectation = await python('expect', cyrillicId, 'remd', '2d');
    expect(expectation.code, expectation.stderr).toBe(0);
    expect((JSON.parse(expectation.stdout) as DocumentView).expectations).toEqual([expect.objectContaining({ stage: 'remd' })]);

    const missing = await python('doc', `doc-${randomUUID()}`);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^HTTP 404: /)]);
  });

  it('the TypeScript client signs too (sign: true) and passes the same check', async () => {
    const client = createDocumentsClient({ baseUrl: stack.info.baseUrl, sign: true, region: LOCAL_REGION });
    expect(await client.getDocument(documentId)).toMatchObject({ documentId });
  });

  describe('refuses with a 403 ack naming the problem', () => {
    const refusal = async (response: Response) => ({
      status: response.status,
      message: ((await response.json()) as { Message: string; Status: string }).Message,
    });

    it('an unsigned request (deployed, API Gateway refuses it before any function)', async () => {
      expect(await refusal(await fetch(new URL(`documents/${documentId}`, stack.info.baseUrl)))).toEqual({
        status: 403,
        message: 'Сообщение отклонено: доступ запрещён — запрос не подписан (SigV4)',
      });
    });

    it('a wrong secret key, from curl as from the SDK signer', async () => {
      const fromCurl = await run('sh', ['examples/documents-curl.sh', 'doc', documentId], {
        ...clean,
        N3_DOCUMENTS_API: stack.info.baseUrl,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'not-the-secret',
      });
      expect(fromCurl.code).toBe(22);
      expect(fromCurl.stdout).toContain('подпись не совпадает');
      expect(await refusal(await signedFetch(`documents/${documentId}`, { secret: 'not-the-secret' }))).toMatchObject({
        status: 403,
        message: expect.stringContaining('подпись не совпадает'),
      });
    });

    it('another body than the one signed, another path, another region, a signature older than 15 minutes', async () => {
      const path = `documents/${documentId}/expectations/remd`;
      const swapped = { method: 'PUT', body: '{"within":"24h"}', sendBody: '{"within":"1s"}' };
      expect(await refusal(await signedFetch(path, swapped))).toMatchObject({
        status: 403,
        message: expect.stringContaining('x-amz-content-sha256 не совпадает с телом'),
      });
      expect(await refusal(await signedFetch(path, { ...swapped, bodyHashHeader: false }))).toMatchObject({
        status: 403,
        message: expect.stringContaining('подпись не совпадает'),
      });
      // A valid signature of one document, replayed for another.
      const { headers } = await sign(`documents/${documentId}`);
      const replayed = await fetch(new URL(`documents/${cyrillicId}`, stack.info.baseUrl), { headers });
      expect(await refusal(replayed)).toMatchObject({ status: 403, message: expect.stringContaining('подпись не совпадает') });
      expect(await refusal(await signedFetch(`documents/${documentId}`, { region: 'us-east-1' }))).toMatchObject({
        status: 403,
        message: expect.stringContaining(`${LOCAL_REGION}/execute-api`),
      });
      const old = await signedFetch(`documents/${documentId}`, { at: new Date(Date.now() - 16 * 60_000) });
      expect(await refusal(old)).toMatchObject({ status: 403, message: expect.stringContaining('15 минут') });
    });
  });
});
