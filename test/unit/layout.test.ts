import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The arrows between the folders, read from the imports themselves. biome.json's noRestrictedImports holds each
 * folder's rule as code is written; this checks the whole graph, which a per-file lint cannot: no module is part
 * of an import cycle (dev/bench/fleet.ts ↔ result.ts once was), and the folder arrows the layout names hold.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODULES = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((path) => path && existsSync(join(ROOT, path)));
const KNOWN = new Set(MODULES);
const SPECIFIER =
  /(?:^|[\s;}])(?:import|export)\s[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\s;])import\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/gm;

/** The repository modules a module imports (relative specifiers resolved to files). */
function importsOf(path: string): string[] {
  const found = new Set<string>();
  for (const match of readFileSync(join(ROOT, path), 'utf8').matchAll(SPECIFIER)) {
    const target = normalize(join(dirname(path), match[1] ?? match[2]!));
    const file = [`${target}.ts`, join(target, 'index.ts'), target].find((candidate) => KNOWN.has(candidate));
    if (file) found.add(file);
  }
  return [...found];
}

const GRAPH = new Map(MODULES.map((path) => [path, importsOf(path)]));

/** Every import from a module under `from` to one under `to`, as `importer → imported`. */
const arrows = (from: string, to: string) =>
  [...GRAPH].flatMap(([path, targets]) =>
    path.startsWith(from) ? targets.filter((target) => target.startsWith(to)).map((target) => `${path} → ${target}`) : [],
  );

/** Modules on an import cycle, one cycle each (depth-first search, grey/black marking). */
function cycles(): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const found: string[] = [];
  const stack: string[] = [];
  const visit = (path: string) => {
    state.set(path, 'open');
    stack.push(path);
    for (const next of GRAPH.get(path) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(path, 'done');
  };
  for (const path of MODULES) if (!state.has(path)) visit(path);
  return found;
}

describe('the layout, read from the imports', () => {
  it('reads every module it checks (the graph is not empty)', () => {
    expect(GRAPH.get('dev/bench/run.ts')).toContain('dev/bench/result.ts');
  });

  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('nothing outside test/ imports test/: what tests share with dev/ lives in testing/', () => {
    expect(arrows('', 'test/').filter((arrow) => !arrow.startsWith('test/'))).toEqual([]);
  });

  it('testing/ imports nothing of test/ or dev/', () => {
    expect([...arrows('testing/', 'test/'), ...arrows('testing/', 'dev/')]).toEqual([]);
  });

  it('dev/bench and dev/scripts import nothing of each other', () => {
    expect([...arrows('dev/bench/', 'dev/scripts/'), ...arrows('dev/scripts/', 'dev/bench/')]).toEqual([]);
  });

  it('the CLI imports nothing of local/: it reads what npm start shares from contract/', () => {
    expect(arrows('cli/', 'local/')).toEqual([]);
  });

  it('console/ (the console server npm start and `n3-callback console` share) imports nothing of local/ or cli/, and of lambdas/ only adapters', () => {
    expect([...arrows('console/', 'local/'), ...arrows('console/', 'cli/')]).toEqual([]);
    expect(arrows('console/', 'lambdas/').filter((arrow) => !arrow.endsWith('→ lambdas/adapters/index.ts'))).toEqual([]);
  });
});
