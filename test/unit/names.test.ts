import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CALLBACK_ROUTES, DOCUMENT_ROUTES, FUNCTION_ENV, routeOf, stackName, TICK_TOPIC_NAME } from '../../contract/names';
import { MESSAGE_TYPES } from '../../contract/catalog';

/*
 * contract/names.ts is the one home of the names the house shares. These tests fail when a second
 * spelling of one appears in code (comments and docs may still name them in prose): that is how the site
 * id rule, the retention default, the stack prefix and the route table once drifted apart.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CODE_DIRS = ['bin', 'lib', 'lambdas', 'local', 'cli', 'consumer', 'fleet', 'dev', 'testing'];

/** The folder's source files as git knows them (tracked, or new and not ignored): never build output such as dev/bench/.out. */
function files(dir: string): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', dir], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((path) => /\.(ts|mjs|cjs|js)$/.test(path) && existsSync(join(ROOT, path)));
}

/** The code of a file without its comments (block comments, and `//` comments outside strings, roughly). */
const code = (path: string) =>
  readFileSync(join(ROOT, path), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`\w\\])\/\/.*$/gm, '$1');

const SOURCES = CODE_DIRS.flatMap(files);

/** Files (other than contract/) whose code matches `pattern`. */
const spelledIn = (pattern: RegExp, allowed: readonly string[] = []) =>
  SOURCES.filter((path) => !allowed.includes(relative(ROOT, join(ROOT, path))) && pattern.test(code(path)));

describe('contract/names.ts: one home for the shared names', () => {
  it('the stack prefix N3Callback- is spelled nowhere else', () => {
    expect(spelledIn(/['"`]N3Callback-/)).toEqual([]);
  });

  it('resource names starting n3-callback- are built from RESOURCE_PREFIX, not typed', () => {
    expect(spelledIn(/['"`/]n3-callback-|n3-callback-\$\{/)).toEqual([]);
  });

  it("the bucket's rejected/ prefix is typed nowhere else", () => {
    expect(spelledIn(/['"]rejected\/['"*]/)).toEqual([]);
  });

  it("the bucket's audit/ prefix is typed nowhere else", () => {
    expect(spelledIn(/['"`/]audit\/['"`*]/)).toEqual([]);
  });

  it('the site id rule lives in contract/names.ts alone', () => {
    expect(spelledIn(/\[a-z0-9\]\(\?:\[a-z0-9-\]/)).toEqual([]);
    expect(spelledIn(/A-Za-z0-9-\]\{1,64\}/)).toEqual([]);
  });

  it('the retention default is DEFAULT_RETENTION_DAYS, not a number typed beside a retention setting', () => {
    expect(spelledIn(/RETENTION_DAYS[^\n]*integer\([^)]*\d+\)|retentionDays[^\n]*\.default\(\d+\)/)).toEqual([]);
  });

  it("the functions' environment names are set and read through FUNCTION_ENV (lib/functions.ts, lambdas/config.ts)", () => {
    const names = Object.values(FUNCTION_ENV).join('|');
    // As an object key (`SITE_ID: …`) where an environment is written: the stack, npm start, the benchmarks' entries and site env.
    // (Code that takes a typed Config, such as dev/bench/canned-aws.ts, is checked by the compiler instead.)
    const spelled = new RegExp(`(^|[\\s{,'"])(${names})['"]?\\s*:`, 'm');
    const writers = SOURCES.filter(
      (path) =>
        /^(lib|local|dev\/bench\/entries|lambdas\/handlers)\//.test(path) ||
        path === 'dev/bench/cold-start.ts' ||
        path === 'dev/bench/site-env.ts',
    );
    expect(writers.filter((path) => spelled.test(code(path)))).toEqual([]);
  });

  it('the document routes are built from DOCUMENT_ROUTES in the API construct, not typed', () => {
    expect(code('lib/api.ts')).not.toMatch(/addResource\(['"]documents['"]\)/);
    expect(code('local/gateway.ts')).not.toMatch(/segments\[0\] === ['"]documents['"]/);
  });
});

describe('the route table', () => {
  it('routes one POST route per MessageType, the document API at the root, anything else to the fallback', () => {
    expect(CALLBACK_ROUTES).toEqual(MESSAGE_TYPES);
    for (const type of MESSAGE_TYPES) expect(routeOf([type])).toEqual({ kind: 'callback', type });
    expect(routeOf(['documents'])).toEqual({ kind: 'documents' });
    expect(routeOf(['documents', 'id', 'expectations', 'remd'])).toEqual({ kind: 'documents' });
    expect(routeOf(['cdastatus'])).toEqual({ kind: 'fallback' });
    expect(routeOf(['CDAStatus', 'extra'])).toEqual({ kind: 'fallback' });
    expect(routeOf([])).toEqual({ kind: 'fallback' });
    expect(DOCUMENT_ROUTES.every((route) => route.path.startsWith('/documents'))).toBe(true);
  });

  it('names the stacks and the tick as deployed', () => {
    expect(stackName('mo-123')).toBe('N3Callback-mo-123');
    expect(TICK_TOPIC_NAME).toBe('n3-callback-fleet-tick');
  });
});
