import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The README is the front door and docs/ holds the detail: a newcomer follows links, so every link must
 * land, and every path the pages name must exist (a renamed file otherwise leaves the docs pointing at
 * nothing, as the README's `bench/cost-model.ts` once did).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'sites/README.md',
];
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N}\- ]/gu, '')
    .replace(/ /g, '-');

/** Headings outside fenced code blocks. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (heading) found.add(slug(heading[1]!));
  }
  return found;
}

/** Markdown outside fenced code blocks and inline code. */
const prose = (markdown: string) => markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');

// A site file named as an example of what an operator writes (`sites/mo-123.json`): none is committed.
const EXAMPLE_SITE_FILE = /^sites\/[a-z0-9-]+\.json$/;
const TOP_LEVEL =
  /^(?:bin|lib|lambdas|local|cli|consumer|contract|fleet|sites|examples|test|testing|dev|bench|load|scripts|docs)\/[\w./-]*$/;

describe('the README and docs/', () => {
  it('the README is one a newcomer finishes: under 300 lines', () => {
    expect(read('README.md').split('\n').length).toBeLessThan(300);
  });

  it.each(PAGES)('every relative link in %s lands on a file, and its #anchor on a heading there', (page) => {
    const broken: string[] = [];
    for (const [, target] of prose(read(page)).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue; // https:, mailto:
      const [file, anchor] = target!.split('#') as [string, string | undefined];
      const path = file === '' ? page : normalize(join(dirname(page), file));
      if (!existsSync(join(ROOT, path))) {
        broken.push(`${target} (no ${path})`);
        continue;
      }
      if (anchor && path.endsWith('.md') && !anchors(read(path)).has(anchor)) broken.push(`${target} (no heading #${anchor} in ${path})`);
    }
    expect(broken).toEqual([]);
  });

  it.each(PAGES)('every repository path %s names in code spans exists', (page) => {
    const missing = [...read(page).matchAll(/`([^`\n]+)`/g)]
      .map(([, span]) => span!.replace(/[.,:;)]+$/, ''))
      .filter((span) => TOP_LEVEL.test(span) && !/[<>*…{}]/.test(span) && !EXAMPLE_SITE_FILE.test(span))
      .filter((path) => !existsSync(join(ROOT, path)));
    expect(missing).toEqual([]);
  });
});
