import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackName } from '../../contract/names';
import { DynamoDbDocumentStore } from '../../lambdas/adapters';
import { documentMessageOf } from '../../lambdas/documents/projection';
import { project } from '../../lambdas/documents/service';
import { localDynamoDb } from '../../local/clients';
import { type DynamoEmulator, type FauxqsEmulator, startDynamo, startFauxqs } from '../../local/emulators';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { deployedSiteEnv, type FakeCloudFormation, fakeCloudFormation, outputsOf } from '../support/fake-cloudformation';
import { chromiumPath, launchChromium } from '../support/browser';

/*
 * `n3-callback console --site <id>` and `--fleet` in a real headless browser. Three `npm start` sites share one
 * DynamoDB Local and one fauxqs (as sites share an account: each has its own tables, queues and bucket) and pose
 * as deployed sites: a wire-level fake of CloudFormation answers their stack outputs, and the SDK's own
 * AWS_ENDPOINT_URL_<SERVICE> variables send the CLI's clients to the emulators, as an operator's go to AWS. The
 * CLI then serves the console on 127.0.0.1 from what those outputs name, documents through each site's
 * SigV4-checking document API. A fourth site id has no stack: its row says so.
 */

const exec = promisify(execFile);
const SITES = ['north', 'south', 'east'] as const;
const ACCOUNT = '123456789012'; // the fake's StackId account
const HOUR = 3_600_000;
const DAY = 86_400_000;
const REMD = JSON.parse(readFileSync('examples/REMDStatus.json', 'utf8')) as Record<string, unknown>;

describe('n3-callback console against deployed sites (npm start posing as them)', () => {
  let dynamo: DynamoEmulator;
  let fauxqs: FauxqsEmulator;
  const stacks = new Map<string, LocalStack>();
  let cloudFormation: FakeCloudFormation;
  let env: NodeJS.ProcessEnv;
  let browser: Browser;
  let page: Page;
  const consoles: ChildProcessWithoutNullStreams[] = [];

  /** Starts `n3-callback console …` and resolves with the page URL it prints. */
  const serve = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['cli/n3-callback.mjs', 'console', ...args], { env });
      consoles.push(child);
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const url = /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out)?.[1];
        if (url) resolve(url);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString('utf8');
      });
      child.once('exit', (code) => reject(new Error(`n3-callback console exited ${code}: ${err.trim()}`)));
    });

  const send = async (site: string, message: Record<string, unknown>) => {
    const response = await fetch(new URL('REMDStatus', stacks.get(site)!.info.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ ...REMD, MessageId: randomUUID(), ...message }),
    });
    expect(response.status).toBe(200);
  };

  beforeAll(async () => {
    const chromium = chromiumPath();
    [dynamo, fauxqs] = await Promise.all([startDynamo(), startFauxqs()]);
    for (const siteId of SITES)
      stacks.set(siteId, await startLocalStack({ port: 0, siteId, reconcileEverySeconds: 0, emulators: { dynamo, fauxqs } }));
    cloudFormation = await fakeCloudFormation(
      Object.fromEntries(SITES.map((id) => [stackName(id), { outputs: outputsOf(stacks.get(id)!.info) }])),
    );
    const info = stacks.get('north')!.info;
    env = deployedSiteEnv(info, cloudFormation.url);

    // north: one REMD accepted but not registered (waiting), three Failed answers of known causes, one rejected request.
    await send('north', { IdSourceMis: 'north-waiting', RemdRegNumber: undefined });
    await send('north', { IdSourceMis: 'north-f1', Status: 'Failed', Message: 'Не указан СНИЛС пациента', RemdRegNumber: undefined });
    await send('north', { IdSourceMis: 'north-f2', Status: 'Failed', Message: 'Не указан СНИЛС пациента', RemdRegNumber: undefined });
    await send('north', { IdSourceMis: 'north-f3', Status: 'Failed', Message: 'Что-то пошло не так', RemdRegNumber: undefined });
    await fetch(new URL('REMDStatus', info.baseUrl), { method: 'POST', body: '{"MessageId": "not-json' });
    // south: one registered (final), and documents that have waited for days (projected as they were then).
    await send('south', { IdSourceMis: 'south-done' });
    const southStore = new DynamoDbDocumentStore(localDynamoDb(dynamo.endpoint), stacks.get('south')!.info.documentsTableName);
    const past = (id: string, documentId: string, agoMs: number) => ({
      documentId,
      message: documentMessageOf({
        messageId: id,
        messageType: 'REMDStatus',
        status: 'Success',
        receivedAt: new Date(Date.now() - agoMs).toISOString(),
        payload: { Message: 'accepted' },
      }),
    });
    await project(
      southStore,
      [past(randomUUID(), 'south-3h', 3 * HOUR), past(randomUUID(), 'south-2d', 2 * DAY), past(randomUUID(), 'south-20d', 20 * DAY)],
      new Date().toISOString(),
    );
    for (const stack of stacks.values()) await stack.projected(60_000);

    browser = await launchChromium(chromium);
    page = await browser.newPage({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  }, 300_000);

  afterAll(async () => {
    for (const child of consoles) child.kill('SIGINT');
    await browser?.close();
    await cloudFormation?.close();
    for (const stack of stacks.values()) await stack.stop();
    await Promise.all([dynamo?.stop(), fauxqs?.stop()]);
  });

  it('docs --ladder and errors read the site through --site, as numbers a program can use', async () => {
    const ladder = JSON.parse(
      (await exec(process.execPath, ['cli/n3-callback.mjs', 'docs', '--ladder', '--json', '--site', 'south'], { env })).stdout,
    );
    expect(ladder).toMatchObject({ total: 3, rungs: { '5m': 0, '1h': 0, '1d': 1, '7d': 1, '15d': 0, none: 1 } });
    const errors = JSON.parse(
      (await exec(process.execPath, ['cli/n3-callback.mjs', 'errors', '--json', '--site', 'north'], { env })).stdout,
    );
    expect(errors.total).toBe(3);
    expect(errors.causes.map((c: { cause: string; count: number }) => [c.cause, c.count])).toEqual([
      ['patient', 2],
      ['unclassified', 1],
    ]);
  }, 60_000);

  it('serves the console of one site on 127.0.0.1, saying which site, account and region it reads', async () => {
    const url = await serve('--site', 'north', '--port', '0');
    expect(new URL(url).hostname).toBe('127.0.0.1');
    await page.goto(url);
    await expect.poll(() => page.locator('#site-banner').textContent(), { timeout: 15_000 }).toContain('Site north');
    const banner = await page.locator('#site-banner').textContent();
    expect(banner).toContain(`AWS account ${ACCOUNT}`);
    expect(banner).toContain(`region ${stacks.get('north')!.info.region}`);
    // The console's own panels read the site through the CLI: arrivals, rejected, and a document through the signed API.
    await expect.poll(() => page.locator('#arrivals tbody tr').count(), { timeout: 15_000 }).toBe(4);
    await expect.poll(() => page.locator('#rejected tbody tr', { hasText: 'invalid_body' }).count()).toBe(1);
    await page
      .locator('#arrivals tbody tr', { hasText: 'north-waiting' })
      .getByRole('button', { name: /north-waiting/ })
      .click(); // the document's (the MessageId has one too)
    await expect.poll(() => page.locator('#document').textContent()).toContain('awaiting');
    // No example to send: a deployed site's console sends nothing.
    expect(await page.locator('#send-buttons button').count()).toBe(0);
  }, 60_000);

  it('shows the ladder, the errors by cause and the arrivals per minute as charts, in English and Russian', async () => {
    await expect.poll(() => page.locator('#ladder tr.total').textContent(), { timeout: 15_000 }).toBe('documents100000');
    expect(await page.locator('#ladder-panel svg rect.bar').count()).toBe(1);
    const patient = page.locator('#causes tr[data-cause="patient"]');
    expect(await patient.locator('td').first().textContent()).toBe('2');
    expect(await patient.textContent()).toContain('Не указан СНИЛС пациента');
    expect(await page.locator('#causes tr[data-cause="unclassified"] th').textContent()).toBe('unclassified');
    // 4 answers, 1 rejected in the last hour: the stacked bars add up to them.
    const bars = await page.locator('#minutes-panel svg rect.bar title').allTextContents();
    const total = (kind: string) => bars.filter((b) => b.includes(kind)).reduce((sum, b) => sum + Number(b.split(' ').at(-1)), 0);
    expect([total('Success'), total('Failed'), total('rejected')]).toEqual([1, 3, 1]);
    await page.getByRole('button', { name: 'Русский' }).click();
    await expect.poll(() => page.locator('#ladder-panel h2').textContent()).toBe('Ожидают окончательного ответа');
    expect(await page.locator('#causes tr[data-cause="patient"] th').textContent()).toBe('данные пациента');
    expect(await page.locator('#ladder thead').textContent()).toContain('нет ответа');
    expect(await page.locator('#site-banner').textContent()).toContain(`аккаунт AWS ${ACCOUNT}`);
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.locator('#ladder-panel h2').textContent()).toBe('Awaiting a final answer');
    await page.screenshot({
      path: process.env.N3_SITE_SCREENSHOT ?? `${process.env.TMPDIR ?? '/tmp'}/n3-console-site.png`,
      fullPage: true,
    });
  }, 60_000);

  it('lists every site of the fleet with its figures, sortable, a site that is not deployed said in its row, a click opening a site', async () => {
    const url = await serve('--fleet', '--sites', 'north,south,east,gone', '--port', '0');
    await page.goto(url);
    await expect.poll(() => page.locator('#fleet-status').textContent(), { timeout: 30_000 }).toBe('Sites read: 4 of 4');
    const cells = async (site: string) => page.locator(`#fleet tr[data-site="${site}"] td`).allTextContents();
    // pending, undeliverable, rejected (24 h), silent, awaiting, the six rungs, last callback
    expect((await cells('north')).slice(0, 11)).toEqual(['0', '0', '1', '0', '1', '1', '0', '0', '0', '0', '0']);
    expect((await cells('south')).slice(0, 11)).toEqual(['0', '0', '0', '0', '3', '0', '0', '1', '1', '0', '1']);
    expect((await cells('east')).slice(0, 11)).toEqual(['0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0']);
    expect((await cells('east'))[11]).toBe('none');
    expect((await cells('north'))[11]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await page.locator('#fleet tr[data-site="gone"] td.error').textContent()).toContain('no stack N3Callback-gone');
    // Sorted by "awaiting", most first (a second click: least first).
    await page.getByRole('button', { name: 'awaiting', exact: true }).click();
    expect(await page.locator('#fleet tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-site')))).toEqual([
      'south',
      'north',
      'east',
      'gone',
    ]);
    await page.screenshot({
      path: process.env.N3_FLEET_SCREENSHOT ?? `${process.env.TMPDIR ?? '/tmp'}/n3-console-fleet.png`,
      fullPage: true,
    });
    await page.getByRole('link', { name: 'south' }).click();
    await expect.poll(() => page.locator('#site-banner').textContent(), { timeout: 15_000 }).toContain('Site south');
    await expect.poll(() => page.locator('#ladder tr.total').textContent(), { timeout: 15_000 }).toBe('documents001101');
  }, 90_000);
});
