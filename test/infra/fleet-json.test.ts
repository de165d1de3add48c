import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/*
 * `--json` is for tools: stdout holds the JSON and nothing else, progress goes to stderr. `npm run` writes its
 * own banner ("> n3-callback-endpoint@… fleet") to stdout, so the docs show `npm run --silent fleet -- … --json`;
 * this runs exactly that and parses stdout whole.
 */

const exec = promisify(execFile);

describe('npm run --silent fleet -- plan --json', () => {
  it('prints only JSON on stdout, as the docs show it piped to jq', async () => {
    const { stdout, stderr } = await exec('npm', ['run', '--silent', 'fleet', '--', 'plan', '--sites', '1', '--json'], {
      env: { ...process.env, NO_COLOR: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const plan = JSON.parse(stdout) as { mode: string; sites: number };
    expect(plan).toMatchObject({ mode: 'generated', sites: 1 });
    expect(stderr).toContain('Synthesising');
    // A synth of two stacks with cdk-nag, in a child process: seconds, more on a loaded machine; nothing timed.
  }, 300_000);
});
