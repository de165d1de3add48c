import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/*
 * npm (11.19 and later) lists every dependency whose install script package.json's `allowScripts` does not
 * cover. Each is decided there, on purpose (docs/development.md, Install scripts): approved where the project
 * needs the script, denied where it does not (an install-time analytics ping). A new dependency with a script,
 * or a decision left behind by a removed one, fails here, not as a warning nobody reads in `npm ci`.
 */

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, { version?: string; hasInstallScript?: boolean }>;
};
const allowScripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};

/** `name` from a lock path (`node_modules/a/node_modules/@s/b` → `@s/b`), with its version. */
const withScripts = Object.entries(lock.packages)
  .filter(([, entry]) => entry.hasInstallScript)
  .map(([path, entry]) => ({ name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), version: entry.version }));

/** An allowScripts key is `name` or `name@version` (a scoped name starts with @). */
const nameOf = (key: string) => key.slice(0, key.indexOf('@', 1) > 0 ? key.indexOf('@', 1) : undefined);
const decision = (name: string, version?: string) => allowScripts[`${name}@${version}`] ?? allowScripts[name];

describe('install scripts: each one decided in package.json allowScripts', () => {
  it('approves or denies every locked package that has an install script', () => {
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((p) => typeof decision(p.name, p.version) !== 'boolean').map((p) => `${p.name}@${p.version}`)).toEqual([]);
  });

  it('denies the install-time analytics ping and approves the builds the project uses', () => {
    expect(decision('@scarf/scarf')).toBe(false);
    for (const needed of ['esbuild', 'aws-lambda-ric', 'classic-level']) expect(decision(needed), needed).toBe(true);
  });

  it('keeps no decision for a package that is gone or has no install script any more', () => {
    const names = new Set(withScripts.map((p) => p.name));
    expect(Object.keys(allowScripts).filter((key) => !names.has(nameOf(key)))).toEqual([]);
  });
});
