import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { changedSince, MEASURED_PATHS } from '../../dev/bench/provenance';
import {
  PERFORMANCE_END,
  PERFORMANCE_START,
  readBenchmarks,
  renderMarkdown,
  renderPerformanceSection,
} from '../../dev/bench/benchmarks-doc';

/*
 * The published figures describe the code at HEAD: docs/benchmarks.json names the commit it measured,
 * and docs/performance.md's performance and capacity sections and docs/benchmarks.md are generated from it.
 * This fails on every commit that changes the measured paths after that run: the last commit touching
 * them is followed by `npm run bench` (and its docs committed).
 */

const text = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const result = readBenchmarks();

describe('published benchmarks', () => {
  it('the performance page (docs/performance.md) is what docs/benchmarks.json generates (`npm run bench:doc`)', () => {
    const page = text('docs/performance.md');
    const start = page.indexOf(PERFORMANCE_START);
    const end = page.indexOf(PERFORMANCE_END);
    expect(start, 'docs/performance.md has no bench:start marker').toBeGreaterThanOrEqual(0);
    expect(page.slice(start, end + PERFORMANCE_END.length)).toBe(renderPerformanceSection(result));
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
