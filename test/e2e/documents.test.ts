import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentsClient } from '../../consumer/documents';
import type { DocumentView, SilentDocument } from '../../contract/documents';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { dynamoClient } from '../support/aws';
import { type EXAMPLES, freshMessage } from '../../testing/messages';

/*
 * Document status on `npm start`: callbacks in over HTTP, the projector on DynamoDB Local's stream,
 * then the CLI contract (`doc`, `docs`, `expect`, `silent`), the consumer library and the HTTP API.
 */

const exec = promisify(execFile);

describe('document status on `npm start`', () => {
  let stack: LocalStack;
  const cli = (...args: string[]) =>
    exec(process.execPath, ['cli/n3-callback.mjs', ...args, '--base', stack.info.baseUrl], { env: { ...process.env, NO_COLOR: '1' } });
  const post = (type: keyof typeof EXAMPLES, body: Record<string, unknown>) =>
    fetch(new URL(type, stack.info.baseUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, siteId: 'docs', reconcileEverySeconds: 0 });
  });
  afterAll(async () => stack?.stop());

  it('answers `doc` with each stage, the REMD number and the timeline, a couple of seconds after the acks', async () => {
    const documentId = `doc-${randomUUID()}`;
    const cda = freshMessage('CDAStatus', { IdMedDocumentMis: documentId });
    const remd = freshMessage('REMDStatus', { IdSourceMis: documentId });
    expect((await post('CDAStatus', cda)).status).toBe(200);
    expect((await post('REMDStatus', remd)).status).toBe(200);
    await stack.projected(5_000);

    const { stdout } = await cli('doc', documentId, '--json');
    const view = JSON.parse(stdout) as DocumentView;
    expect(view).toMatchObject({ documentId, cda: { state: 'generated' }, remd: { state: 'registered', regNumber: '215573' } });
    expect(view.timeline.map((t) => [t.messageId, t.messageType, t.status])).toEqual([
      [cda.MessageId, 'CDAStatus', 'Success'],
      [remd.MessageId, 'REMDStatus', 'Success'],
    ]);
    expect(stdout).not.toContain(String(cda.CDA));
    const human = await cli('doc', documentId);
    expect(human.stdout).toMatch(/remd\s+registered\s+№ 215573/);
  });

  it('lists documents by stage state, and exits 1 with one line for an unknown document', async () => {
    const failed = `doc-${randomUUID()}`;
    await post('REMDStatus', freshMessage('REMDStatus', { IdSourceMis: failed, Status: 'Failed', RemdRegNumber: null }));
    await stack.projected(5_000);
    const { stdout } = await cli('docs', '--stage', 'remd', '--state', 'failed', '--since', '1h', '--json');
    expect((JSON.parse(stdout) as DocumentView[]).map((d) => d.documentId)).toContain(failed);
    const registered = JSON.parse((await cli('docs', '--stage', 'remd', '--state', 'registered', '--json')).stdout) as DocumentView[];
    expect(registered.map((d) => d.documentId)).not.toContain(failed);

    const unknown = await cli('doc', 'no-such-document').catch((error: { code: number; stderr: string }) => error);
    expect(unknown).toMatchObject({ code: 1 });
    expect((unknown as { stderr: string }).stderr.trim().split('\n')).toEqual([
      'n3-callback: no document "no-such-document": nothing received about it, and no expectation',
    ]);
  });

  it('lists a document as silent when its expected answer is overdue, and takes it off when the answer arrives', async () => {
    const documentId = `doc-${randomUUID()}`;
    const client = createDocumentsClient({ baseUrl: stack.info.baseUrl });
    const expected = await cli('expect', documentId, '--stage', 'remd', '--within', '2d');
    expect(expected.stdout).toMatch(new RegExp(`expecting remd for ${documentId} by \\d{4}-`));
    // An expectation already due (the API also takes a time): the sweep and `silent` see it at once.
    const past = new Date(Date.now() - 60_000).toISOString();
    const response = await fetch(new URL(`documents/${documentId}/expectations/remd`, stack.info.baseUrl), {
      method: 'PUT',
      body: JSON.stringify({ expectedBy: past }),
    });
    expect(response.status).toBe(200);
    expect(await stack.sweepSilence()).toMatchObject({ silent: 1 });
    const silent = JSON.parse((await cli('silent', '--json')).stdout) as SilentDocument[];
    expect(silent).toContainEqual({ documentId, stage: 'remd', expectedBy: past });

    await post('REMDStatus', freshMessage('REMDStatus', { IdSourceMis: documentId }));
    await stack.projected(5_000);
    expect((await client.listSilent()).map((s) => s.documentId)).not.toContain(documentId);
    expect((await client.getDocument(documentId))?.expectations).toEqual([{ stage: 'remd', expectedBy: past, metAt: expect.any(String) }]);
  });

  it('rebuilds a lost document with `reproject` from the message table, and a second run writes nothing', async () => {
    const documentId = `doc-${randomUUID()}`;
    await post('REMDStatus', freshMessage('REMDStatus', { IdSourceMis: documentId }));
    await stack.projected(5_000);
    // The document lost (a batch the projector gave up on, a table restored from an old backup).
    const dynamodb = dynamoClient(stack.info.dynamodbEndpoint);
    await dynamodb.send(new DeleteItemCommand({ TableName: stack.info.documentsTableName, Key: { documentId: { S: documentId } } }));
    expect(await createDocumentsClient({ baseUrl: stack.info.baseUrl }).getDocument(documentId)).toBeUndefined();

    const first = await cli('reproject');
    expect(first.stdout).toMatch(/^Reprojected \d+ messages from \S+ into \S+: [1-9]\d* document writes, \d+ already current\.\n$/);
    expect(first.stderr).toMatch(/^reproject: \d+ messages read, \d+ document writes, \d+ already current\n$/m);
    expect((JSON.parse((await cli('doc', documentId, '--json')).stdout) as DocumentView).remd).toMatchObject({ state: 'registered' });
    expect((await cli('reproject')).stdout).toMatch(/: 0 document writes, /);
  });

  it('refuses a bad stage or duration in one line, with exit 2', async () => {
    const bad = await cli('expect', 'x', '--stage', 'rmed', '--within', '1d').catch((error: { code: number; stderr: string }) => error);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain('--stage, one of cda, semd, remd, mse, vimis');
    const api = await fetch(new URL('documents?stage=remd&state=lost', stack.info.baseUrl));
    expect([api.status, await api.json()]).toEqual([400, { error: 'state of remd must be one of awaiting, registered, failed' }]);
  });
});
