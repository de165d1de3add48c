import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/* The consumer library as an MIS service gets it: built JavaScript, imported by plain node, no TypeScript tooling. */

const exec = promisify(execFile);

describe('package', () => {
  it('exports the consumer library as JavaScript with types', async () => {
    await exec('npm', ['run', 'build', '--silent']);
    const { stdout } = await exec(process.execPath, [
      '--input-type=module',
      '-e',
      "const m = await import('n3-callback-endpoint/consumer'); console.log(typeof m.createCallbackConsumer, m.MESSAGE_TYPES.length)",
    ]);
    expect(stdout.trim()).toBe('function 6');
    const types = await import('node:fs').then((fs) => fs.readFileSync('dist/types/consumer/index.d.ts', 'utf8'));
    expect(types).toContain('export declare function createCallbackConsumer');
  });

  it('publishes only the contract types: the envelope, documents and the message catalog, none of the ingest ports', async () => {
    const { readdirSync } = await import('node:fs');
    const published = (readdirSync('dist/types', { recursive: true }) as string[]).filter((f) => f.endsWith('.d.ts')).sort();
    expect(published).toEqual([
      'consumer/documents.d.ts',
      'consumer/index.d.ts',
      'contract/catalog.d.ts',
      'contract/deadlines.d.ts',
      'contract/documents.d.ts',
      'contract/envelope.d.ts',
      'contract/errors.d.ts',
      'contract/fields.d.ts',
    ]);
  });
});
