import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { requireTool, TOOLS } from '../support/tools';

/*
 * The local console in a real headless browser (Debian's chromium, driven by playwright-core with its
 * executable path: no browser download). It opens the console, sends an example through the page,
 * sees it arrive, opens its document, opens a rejected request's body, and switches language.
 */

describe('local console in headless Chromium', () => {
  let stack: LocalStack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const chromium = execFileSync('which', [requireTool(TOOLS.chromium)], { encoding: 'utf8' }).trim();
    stack = await startLocalStack({ port: 0, siteId: 'console', reconcileEverySeconds: 0 });
    const { chromium: launcher } = await import('playwright-core');
    browser = await launcher.launch({
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        // DNS rebinding without a DNS server: evil.example resolves to this machine, as a rebound name would.
        '--host-resolver-rules=MAP evil.example 127.0.0.1',
      ],
    });
    page = await browser.newPage({ locale: 'en-US' });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('sends an example from the page and shows it arriving, then its document', async () => {
    await page.goto(new URL('_local/', stack.info.baseUrl).href);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('N3 callbacks — local console');
    await page.getByRole('button', { name: 'REMDStatus', exact: true }).click();
    await expect.poll(() => page.locator('#send-result').textContent(), { timeout: 10_000 }).toContain('REMDStatus: HTTP 200, Success');
    const arrived = page.locator('#arrivals tbody tr', { hasText: 'REMDStatus' });
    await expect.poll(() => arrived.count()).toBeGreaterThan(0);
    expect(await arrived.first().textContent()).toContain('FORWARDED');
    await stack.projected(5_000);
    await arrived.first().getByRole('button').click();
    await expect.poll(() => page.locator('#document').textContent()).toContain('registered');
    expect(await page.locator('#document').textContent()).toContain('№ 215573');
    await expect.poll(() => page.locator('#queue-depth').textContent()).not.toBe('…');
  });

  it('lists a rejected request with its reason, and shows its body only when asked', async () => {
    await fetch(new URL('REMDStatus', stack.info.baseUrl), { method: 'POST', body: '{"MessageId": "not-json' });
    const rejectedRow = page.locator('#rejected tbody tr', { hasText: 'invalid_body' });
    await expect.poll(() => rejectedRow.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.locator('#rejected-detail').isHidden()).toBe(true);
    await rejectedRow.first().getByRole('button', { name: 'Show body' }).click();
    await expect.poll(() => page.locator('#rejected-detail').textContent()).toContain('"MessageId": "not-json');
    expect(await page.evaluate('document.activeElement?.id')).toBe('rejected-detail');
  });

  it('reads in Russian and English, with labelled controls', async () => {
    await page.getByRole('button', { name: 'Русский' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Обратные вызовы N3 — локальная консоль');
    expect(await page.getAttribute('html', 'lang')).toBe('ru');
    await expect.poll(() => page.getByLabel('Идентификатор документа', { exact: false }).count()).toBe(1);
    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.getByLabel('Document id', { exact: false }).count()).toBe(1);
    await page.screenshot({ path: process.env.N3_CONSOLE_SCREENSHOT ?? `${process.env.TMPDIR ?? '/tmp'}/n3-console.png`, fullPage: true });
  });

  it('shows nothing to a page whose name was rebound to this machine (DNS rebinding)', async () => {
    const rebound = await browser.newPage();
    try {
      const url = new URL('_local/', stack.info.baseUrl);
      url.hostname = 'evil.example';
      const response = await rebound.goto(url.href);
      expect(response?.status()).toBe(421);
      expect((await rebound.textContent('body'))?.trim()).toMatch(/^this host name is not served here \(DNS rebinding guard\)/);
      // Same origin as the rebound page, so the browser would let it read the answer: there is none.
      const read = await rebound.evaluate(async () => (await fetch('/_local/rejected')).status);
      expect(read).toBe(421);
    } finally {
      await rebound.close();
    }
  });
});
