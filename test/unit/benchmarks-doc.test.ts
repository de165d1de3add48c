import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { changedSince, MEASURED_PATHS } from '../../bench/provenance';
import { README_END, README_START, readBenchmarks, renderMarkdown, renderReadmeSection } from '../../scripts/benchmarks-doc';

/*
 * The published figures describe the code at HEAD: docs/benchmarks.json names the commit it measured,
 * and the README's performance and capacity sections and docs/benchmarks.md are generated from it.
 * This fails on every commit that changes the measured paths after that run: the last commit touching
 * them is followed by `npm run bench` (and its docs committed).
 */

const text = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const result = readBenchmarks();

describe('published benchmarks', () => {
  it('the README performance and capacity sections are what docs/benchmarks.json generates (`npm run bench:doc`)', () => {
    const readme = text('README.md');
    const start = readme.indexOf(README_START);
    const end = readme.indexOf(README_END);
    expect(start, 'README.md has no bench:start marker').toBeGreaterThanOrEqual(0);
    expect(readme.slice(start, end + README_END.length)).toBe(renderReadmeSection(result));
  });

  it('docs/benchmarks.md is what docs/benchmarks.json generates (`npm run bench:doc`)', () => {
    expect(text('docs/benchmarks.md')).toBe(renderMarkdown(result));
  });

  it('were measured on committed code, in a full-length run (`npm run bench` on a clean tree, no BENCH_* shortening)', () => {
    expect({ dirty: result.run.dirty, shortened: result.run.shortened }).toEqual({ dirty: [], shortened: [] });
  });

  it(`were measured at a commit whose ${MEASURED_PATHS.join(', ')} equal HEAD's (else rerun \`npm run bench\`)`, () => {
    expect(changedSince(result.run.commit)).toEqual([]);
  });
});
