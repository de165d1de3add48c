import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { freshMessage } from '../../testing/messages';

/*
 * Medical data never reaches a log. Every kind of request the endpoint handles (the document API's
 * and the projection of what arrived included; document ids are the MIS's, about patients) goes through the
 * whole local product (emulators, deployed entry, Powertools logs and EMF metrics on), with a
 * marker in every value that is not an id we chose to log (MessageId, Lpu, Status); then no
 * captured line may contain a marker.
 */

const MARK = 'ZZMEDICAL';
let n = 0;
const marked = (what: string) => `${MARK}-${what}-${++n}`;
const markedBase64 = () => Buffer.from(`${MARK}-file-${++n} `.repeat(40)).toString('base64');

describe('log safety', () => {
  let stack: LocalStack;
  const lines: string[] = [];

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    stack = await startLocalStack({ port: 0, siteId: 'logsafety', reconcileEverySeconds: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    vi.restoreAllMocks();
  });

  const post = (path: string, body: string) =>
    fetch(new URL(path, stack.info.baseUrl), { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body }).then(
      (r) => r.status,
    );

  it('logs ids, types, sizes and outcomes of every kind of request, and no payload value', async () => {
    const bodies = {
      CDAStatus: freshMessage('CDAStatus', { IdMedDocumentMis: marked('doc'), Message: marked('msg'), CDA: markedBase64() }),
      SEMDStatus: freshMessage('SEMDStatus', { IdMedDocumentMis: marked('doc'), Message: marked('msg') }),
      REMDStatus: freshMessage('REMDStatus', { IdSourceMis: marked('doc'), Message: marked('msg'), RemdRegNumber: marked('reg') }),
      MseResult: freshMessage('MseResult', { IdMSEMis: marked('ref'), IdResultMSE: marked('res'), Message: marked('msg') }),
      MseResultData: freshMessage('MseResultData', {
        IdMSEMis: marked('ref'),
        IdResultMSE: marked('res'),
        Message: marked('msg'),
        Data: markedBase64(),
      }),
      VimisResult: freshMessage('VimisResult', {
        IdSource: marked('src'),
        IdRecipientSystem: marked('sys'),
        IdCaseMis: marked('case'),
        IdDocumentMis: marked('doc'),
        Message: marked('msg'),
        Extra: marked('extra'),
      }),
    };
    const statuses: number[] = [];
    for (const [type, body] of Object.entries(bodies)) {
      statuses.push(await post(type, JSON.stringify(body))); // accepted
      statuses.push(await post(type, JSON.stringify(body))); // duplicate
      statuses.push(await post(type, JSON.stringify({ ...body, Message: marked('other') }))); // conflict
    }
    const large = freshMessage('CDAStatus', { Message: marked('msg'), CDA: Buffer.from(`${MARK} `.repeat(60_000)).toString('base64') });
    statuses.push(await post('CDAStatus', JSON.stringify(large))); // claim check
    statuses.push(
      await post('SEMDStatus', JSON.stringify({ ...freshMessage('SEMDStatus'), IdMedDocument: marked('int'), Message: marked('msg') })),
    ); // invalid field
    statuses.push(await post('SEMDStatus', `{"MessageId":"${marked('id')}","Message":"${marked('msg')}"`)); // not JSON
    statuses.push(await post('SEMDStatusX', JSON.stringify({ ...freshMessage('SEMDStatus'), Message: marked('msg') }))); // unknown type
    statuses.push(await post('CDAStatus', JSON.stringify(freshMessage('CDAStatus', { CDA: `${MARK}`.repeat(600_000) })))); // too large
    await stack.reconcile();
    // The documents of those messages: projected (its own log lines), then asked about through the document API.
    if (stack.info.documentProjection) await stack.projected(20_000);
    const documentId = String(bodies.REMDStatus.IdSourceMis);
    const api = (path: string, init?: RequestInit) => fetch(new URL(path, stack.info.baseUrl), init).then((r) => r.status);
    statuses.push(await api(`documents/${encodeURIComponent(documentId)}`));
    statuses.push(await api(`documents/${encodeURIComponent(marked('unknown-doc'))}`));
    statuses.push(
      await api(`documents/${encodeURIComponent(marked('doc'))}/expectations/remd`, { method: 'PUT', body: '{"within":"1d"}' }),
    );
    statuses.push(await api(`documents/${encodeURIComponent(marked('doc'))}/expectations/remd`, { method: 'PUT', body: '{}' }));
    statuses.push(await api(`documents/${encodeURIComponent(marked('doc'))}%E0%A4%A`));
    statuses.push(await api('documents?since=1970-01-01T00:00:00Z'));
    statuses.push(await api('documents?stage=remd&since=1h'));
    statuses.push(await api('documents?silent=true'));
    await stack.sweepSilence();

    expect(statuses.sort()).toEqual(expect.arrayContaining([200, 400, 404, 409, 413]));
    const log = lines.join('');
    expect(log).toContain(String(bodies.REMDStatus.MessageId)); // ids are logged…
    expect(log).toContain('"outcome":"conflict"');
    expect(log).toContain('"_aws"'); // …and EMF metrics were on
    expect(lines.filter((line) => line.includes(MARK)).map((l) => l.slice(0, 400))).toEqual([]); // …payload values never
    for (const body of [bodies.CDAStatus, bodies.MseResultData]) {
      expect(log).not.toContain(String(body.CDA ?? body.Data).slice(0, 40));
    }
  });
});
