import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleSite, type RunningConsole, startConsoleServer } from '../../console/server';

/*
 * The server of `n3-callback console`: loopback only, read-only, loopback host names only (DNS rebinding), each
 * site by its own path. Its sites here are in-memory stand-ins of the port it is given (the CLI's real ones are
 * exercised in test/e2e/console-site.test.ts).
 */

const site = (siteId: string): ConsoleSite => ({
  label: { siteId, kind: 'deployed', region: 'eu-central-1', account: '123456789012' },
  endpoints: { site: () => ({ siteId }) },
  documents: { get: async (id) => (id === 'known' ? { documentId: id } : undefined), ladder: async () => ({ total: 7 }) },
});

const get = (url: string, options: { host?: string; method?: string } = {}) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const target = new URL(url);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: options.method ?? 'GET',
        headers: options.host ? { host: options.host } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });

describe('the console server of n3-callback console', () => {
  let running: RunningConsole;
  const asked: string[] = [];
  beforeAll(async () => {
    running = await startConsoleServer({
      siteId: 'north',
      siteOf: async (id) => {
        asked.push(id);
        if (id === 'gone') throw new Error('no stack N3Callback-gone');
        return site(id);
      },
      fleet: () => ({ total: 2, done: 1, rows: [] }),
    });
  });
  afterAll(() => running.close());

  it('listens on 127.0.0.1 only', () => {
    expect(new URL(running.url).hostname).toBe('127.0.0.1');
    expect(running.server.address()).toMatchObject({ address: '127.0.0.1' });
  });

  it('answers the --site site at the root paths, any other under /sites/<id>/, resolving each once', async () => {
    expect(JSON.parse((await get(`${running.url}_local/site`)).body)).toEqual({ siteId: 'north' });
    expect(JSON.parse((await get(`${running.url}sites/south/_local/site`)).body)).toEqual({ siteId: 'south' });
    await get(`${running.url}sites/south/_local/site`);
    expect(asked.filter((id) => id === 'south')).toHaveLength(1);
    expect(JSON.parse((await get(`${running.url}documents?ladder=true`)).body)).toEqual({ total: 7 });
    expect((await get(`${running.url}documents/known`)).status).toBe(200);
    expect((await get(`${running.url}documents/unknown`)).status).toBe(404);
    expect(JSON.parse((await get(`${running.url}_local/fleet`)).body)).toMatchObject({ total: 2, done: 1 });
  });

  it('serves the page and its words for rungs and causes', async () => {
    expect((await get(`${running.url}_local/`)).body).toContain('<script type="module" src="see.js"></script>');
    const vocabulary = JSON.parse((await get(`${running.url}_local/vocabulary`)).body);
    expect(vocabulary.rungs.map((r: { id: string }) => r.id)).toEqual(['5m', '1h', '1d', '7d', '15d', 'none']);
  });

  it('says in one line why a site cannot be read, and asks again next time', async () => {
    const first = await get(`${running.url}sites/gone/_local/site`);
    expect(first.status).toBe(502);
    expect(JSON.parse(first.body)).toEqual({ error: 'Error: no stack N3Callback-gone' });
    await get(`${running.url}sites/gone/_local/site`);
    expect(asked.filter((id) => id === 'gone')).toHaveLength(2);
  });

  it('refuses a rebound host name (421) and anything but GET (405)', async () => {
    expect((await get(`${running.url}_local/site`, { host: 'evil.example' })).status).toBe(421);
    expect((await get(`${running.url}_local/site`, { host: 'localhost:1234' })).status).toBe(200);
    expect((await get(`${running.url}_local/site`, { method: 'POST' })).status).toBe(405);
  });
});
