import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { chromiumPath, launchChromium } from '../support/browser';
import { MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';

/**
 * The console's English UI words, read from its own table (console.js, TEXT.en): each string, and the
 * literal words of each template (`${n} bytes, inline in the record` gives "bytes, inline in the record"),
 * less anything the Russian table says too (protocol names such as HTTP).
 */
function englishUiStrings(): string[] {
  const source = readFileSync('local/console/console.js', 'utf8');
  const block = (name: string) =>
    source.slice(source.indexOf(`\n  ${name}: {`), source.indexOf('\n  },', source.indexOf(`\n  ${name}: {`)));
  const literals = (text: string) =>
    [...text.matchAll(/^ {4}\w+: (?:'([^']*)'|"([^"]*)"|\([^)]*\) => `([^`]*)`)/gm)].flatMap(
      (m) => m[1] ?? m[2] ?? m[3]!.split(/\$\{[^}]*\}/).map((fragment) => fragment.replace(/^[\s,.:;()—-]+|[\s,.:;()—-]+$/g, '')),
    );
  const russian = new Set(literals(block('ru')));
  return [...new Set(literals(block('en')))].filter((s) => /[a-z]{2}/i.test(s) && !russian.has(s) && s !== 'Русский');
}

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
    const chromium = chromiumPath();
    stack = await startLocalStack({ port: 0, siteId: 'console', reconcileEverySeconds: 0 });
    // DNS rebinding without a DNS server: evil.example resolves to this machine, as a rebound name would.
    browser = await launchChromium(chromium, ['--host-resolver-rules=MAP evil.example 127.0.0.1']);
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
    // The document cell's button (the MessageId cell has one too: it opens the message).
    await arrived.first().locator('td').nth(5).getByRole('button').click();
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

  it("shows an arrival's record and payload when its MessageId is clicked, a claim-checked CDA read from the bucket", async () => {
    await page.goto(new URL('_local/', stack.info.baseUrl).href);
    const example = JSON.parse(readFileSync('examples/CDAStatus.json', 'utf8')) as Record<string, unknown>;
    const cda = Buffer.from(`<ClinicalDocument>${'з'.repeat(2 * MAX_INLINE_PAYLOAD_BYTES)}</ClinicalDocument>`).toString('base64');
    const messageId = randomUUID();
    await fetch(new URL('CDAStatus', stack.info.baseUrl), {
      method: 'POST',
      body: JSON.stringify({ ...example, MessageId: messageId, CDA: cda }),
    });
    const button = page.getByRole('button', { name: `MessageId ${messageId}` });
    await expect.poll(() => button.count(), { timeout: 10_000 }).toBe(1);
    await button.click();
    const detail = page.locator('#message-detail');
    await expect.poll(() => detail.textContent()).toContain(messageId);
    expect(await detail.locator('pre').textContent()).toContain(`"CDA": "${cda}"`);
    expect(await detail.locator('dl').textContent()).toMatch(/bytes, claim check s3:\/\/\S+ \(sha256 matches\)/);
    expect(await detail.locator('dl').textContent()).toContain('FORWARDED');
  });

  it('switched to Russian, no English UI string is left in any panel, those drawn from data included', async () => {
    const english = englishUiStrings();
    expect(english).toEqual(expect.arrayContaining(['Callbacks as they arrive', 'Show body', 'Timeline', 'bytes, inline in the record']));
    await page.goto(new URL('_local/', stack.info.baseUrl).href);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('N3 callbacks — local console');
    // Every panel drawn: a send result, a document, a message, a rejected body.
    await page.getByRole('button', { name: 'REMDStatus', exact: true }).click();
    await expect.poll(() => page.locator('#send-result').textContent(), { timeout: 10_000 }).toContain('HTTP 200');
    await stack.projected(5_000);
    const arrived = page.locator('#arrivals tbody tr', { hasText: 'REMDStatus' }).first();
    await arrived.locator('td').nth(5).getByRole('button').click();
    await expect.poll(() => page.locator('#document').textContent()).toContain('Timeline');
    await arrived.locator('td.id').getByRole('button').click();
    await expect.poll(() => page.locator('#message-detail').textContent()).toContain('inline in the record');
    await fetch(new URL('REMDStatus', stack.info.baseUrl), { method: 'POST', body: '{"MessageId": "not-json' });
    const showBody = page.locator('#rejected tbody tr').first().getByRole('button', { name: 'Show body' });
    await expect.poll(() => showBody.count(), { timeout: 10_000 }).toBe(1);
    await showBody.click();
    await expect.poll(() => page.locator('#rejected-detail').textContent()).toContain('--- body ---');

    await page.getByRole('button', { name: 'Русский' }).click();
    // The page's words, less the data shown as JSON (pre): each English string as a whole word or phrase.
    const leftovers = async () => {
      // As rendered (innerText: hidden elements out, cells apart), evaluated as text: this file has no DOM types.
      const text = (await page.evaluate(`(() => {
        const copy = document.body.cloneNode(true);
        for (const pre of copy.querySelectorAll('pre')) pre.textContent = pre.textContent.split('\\n').filter((l) => l.startsWith('---')).join('\\n');
        document.body.append(Object.assign(document.createElement('div'), { id: 'copy-for-test', hidden: false }));
        const holder = document.getElementById('copy-for-test');
        holder.append(copy);
        const text = holder.innerText;
        holder.remove();
        return text;
      })()`)) as string;
      return english.filter((s) => new RegExp(`(^|[^\\p{L}])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\p{L}])`, 'u').test(text));
    };
    await expect.poll(leftovers, { timeout: 10_000 }).toEqual([]);
    expect(await page.locator('#message-detail').textContent()).toContain('в самой записи');
    expect(await page.locator('#document').textContent()).toContain('Хронология');
    await page.getByRole('button', { name: 'English' }).click();
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
