import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { defineApp } from '../../lib/app';
import { CDK_JSON } from './synth';
import { requireTool, TOOLS } from '../support/tools';

/*
 * cfn-lint (AWS's CloudFormation linter; Python, preinstalled on this kind of machine, not installable
 * from the registries here) over every template `npm run synth` makes from cdk.json's sites.
 */

/** Findings kept on purpose, each with its reason. */
const ACKNOWLEDGED: Readonly<Record<string, string>> = {
  W3005:
    'CDK gives each function an explicit DependsOn on its role and the role policy, so the function is never created ' +
    'before its permissions exist; the one on the role repeats the GetAtt, which is harmless.',
};

const outdir = mkdtempSync(join(tmpdir(), 'cdk-lint-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cfn-lint', () => {
  it('finds no error and no unacknowledged warning in any synthesised template', () => {
    const cfnLint = requireTool(TOOLS.cfnLint);
    const app = new App({ outdir, context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [] } });
    defineApp(app);
    app.synth();
    const templates = readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => join(outdir, f));
    expect(templates).toHaveLength(4); // two sites, the account stack, the fleet stack
    const run = spawnSync(cfnLint, ['--ignore-checks', ...Object.keys(ACKNOWLEDGED), '--', ...templates], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 180_000); // cfn-lint (Python) takes tens of seconds on three templates, more on a busy machine
});
