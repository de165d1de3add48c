import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { defineApp } from '../../lib/app';
import { MIN_RETENTION_DAYS, SiteConfigError } from '../../lib/site-config';
import { loadSites } from '../../lib/site-files';
import { CDK_JSON } from './synth';
import { Template } from 'aws-cdk-lib/assertions';
import { FLEET_STACK_NAME } from '../../contract/names';

/*
 * Sites one file per site (`sites/<id>.json`) beside cdk.json context `sites`: merged, checked with one line per
 * problem naming the file (or cdk.json) and the field. Each test writes its own folder; no synthesis but the
 * construction `-c site=<id>` does.
 */

const EXAMPLE = CDK_JSON.context.sites[0]!;
const site = (id: string, extra: Record<string, unknown> = {}) => ({ ...EXAMPLE, id, ...extra });

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A project folder with `sites/` holding these files (name → JSON value, or raw text). */
function project(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), 'site-files-'));
  roots.push(root);
  mkdirSync(join(root, 'sites'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(root, 'sites', name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return root;
}

/** The SiteConfigError's message (fails the test if there is none). */
function problemOf(attempt: () => unknown): string {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(SiteConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a SiteConfigError, got none');
}

describe('site files', () => {
  it('merges cdk.json sites (first, in order) with the folder’s (by file name); a README there is not a site', () => {
    const cwd = project({ 'mo-b.json': site('mo-b'), 'mo-a.json': site('mo-a', { retentionDays: 60 }), 'README.md': '# sites' });
    const sites = loadSites({ context: [site('mo-z')], cwd });
    expect(sites.map((s) => s.id)).toEqual(['mo-z', 'mo-a', 'mo-b']);
    // Validated and defaulted as cdk.json sites are.
    expect(sites[1]!.retentionDays).toBe(60);
    expect(sites[2]!.maxRequestsPerSecond).toBe(100);
  });

  it('takes the folder alone when cdk.json has no sites (absent or an empty list)', () => {
    const cwd = project({ 'mo-a.json': site('mo-a') });
    expect(loadSites({ context: undefined, cwd }).map((s) => s.id)).toEqual(['mo-a']);
    expect(loadSites({ context: [], cwd }).map((s) => s.id)).toEqual(['mo-a']);
  });

  it('reads the folder context `sitesDir` names, relative or absolute, and no folder when it does not exist', () => {
    const cwd = project({});
    mkdirSync(join(cwd, 'elsewhere'));
    writeFileSync(join(cwd, 'elsewhere', 'mo-e.json'), JSON.stringify(site('mo-e')));
    expect(loadSites({ context: undefined, sitesDir: 'elsewhere', cwd }).map((s) => s.id)).toEqual(['mo-e']);
    expect(loadSites({ context: undefined, sitesDir: join(cwd, 'elsewhere') }).map((s) => s.id)).toEqual(['mo-e']);
    expect(loadSites({ context: [site('mo-z')], sitesDir: 'missing', cwd }).map((s) => s.id)).toEqual(['mo-z']);
  });

  it('fails when there is no site anywhere, saying where sites go', () => {
    expect(problemOf(() => loadSites({ context: undefined, cwd: project({}) }))).toBe(
      'no sites: define them in cdk.json context "sites" or one file per site, sites/<id>.json',
    );
  });

  it('refuses a file not named <id>.json in lower case, one line each, rather than leaving the site out', () => {
    const cwd = project({ 'mo-a.json': site('mo-a'), 'mo-555.jsn': site('mo-555'), 'MO-556.JSON': site('mo-556'), 'notes.txt': 'x' });
    const message = problemOf(() => loadSites({ context: undefined, cwd }));
    expect(message.split('\n').filter((line) => line.includes('is not a site file name'))).toEqual([
      expect.stringMatching(/sites\/MO-556\.JSON: is not a site file name: .*<id>\.json in lower case \(rename it mo-556\.json\)$/),
      expect.stringMatching(/sites\/mo-555\.jsn: is not a site file name: .* \(rename it mo-555\.json\)$/),
      expect.stringMatching(/sites\/notes\.txt: is not a site file name: .* \(rename it notes\.json\)$/),
    ]);
  });

  it('names the file and the field of an invalid site, on one line', () => {
    const cwd = project({ 'mo-1.json': site('mo-1', { retentionDays: 20 }) });
    expect(problemOf(() => loadSites({ context: undefined, cwd }))).toBe(
      `invalid site definitions: sites/mo-1.json: retentionDays: at least ${MIN_RETENTION_DAYS}: a message can wait 14 days in the queue and 14 more in its dead-letter queue, and the payload it points to must outlive it`,
    );
  });

  it('refuses a site id that names one of the bucket’s own prefixes (audit, rejected): its payloads’ lifecycle rule and IAM grants would reach them', () => {
    // A site's claim-checked payloads live under `<id>/`: a site `audit` would expire the audit trail with its payloads
    // and let its functions and its MIS consumer write, delete and read the trail.
    const cwd = project({ 'audit.json': site('audit'), 'rejected.json': site('rejected') });
    expect(problemOf(() => loadSites({ context: undefined, cwd })).split('\n')).toEqual([
      'invalid site definitions:',
      '  sites/audit.json: id: "audit" names a prefix of the site’s bucket (audit/, rejected/), where its payloads’ prefix <id>/ would overlap it: choose another id',
      '  sites/rejected.json: id: "rejected" names a prefix of the site’s bucket (audit/, rejected/), where its payloads’ prefix <id>/ would overlap it: choose another id',
    ]);
  });

  it('fails a site defined both in cdk.json and in a file, naming the file', () => {
    const cwd = project({ 'mo-a.json': site('mo-a'), 'mo-b.json': site('mo-b') });
    expect(problemOf(() => loadSites({ context: [site('mo-b')], cwd }))).toBe(
      'invalid site definitions: sites/mo-b.json: id: "mo-b" is also defined in cdk.json context "sites": keep one',
    );
  });

  it('fails a file whose name is not its id', () => {
    const cwd = project({ 'mo-a.json': site('mo-b') });
    expect(problemOf(() => loadSites({ context: undefined, cwd }))).toBe(
      'invalid site definitions: sites/mo-a.json: id: "mo-b" differs from the file name: name the file mo-b.json or set "id": "mo-a"',
    );
  });

  it('fails a site file that cannot be read (a link to a folder) in one line naming it, not with a stack', () => {
    const cwd = project({ 'mo-a.json': site('mo-a') });
    mkdirSync(join(cwd, 'elsewhere'));
    symlinkSync(join(cwd, 'elsewhere'), join(cwd, 'sites', 'mo-b.json'));
    expect(problemOf(() => loadSites({ context: undefined, cwd }))).toBe(
      'invalid site definitions: sites/mo-b.json: cannot be read (EISDIR): make it a readable file',
    );
  });

  it('fails invalid JSON with the file and the line and column where it goes wrong, on one line', () => {
    // A trailing comma: V8 states the position.
    const trailing = '{\n  "id": "mo-a",\n}\n';
    // A bare word: V8 quotes the text (across lines) instead of stating where; the position is still found.
    const bare = '{\n  "id": "mo-b",\n  "displayName": oops\n}\n';
    const cwd = project({ 'mo-a.json': trailing, 'mo-b.json': bare, 'mo-c.json': '' });
    const lines = problemOf(() => loadSites({ context: undefined, cwd })).split('\n');
    expect(lines).toEqual([
      'invalid site definitions:',
      '  sites/mo-a.json: invalid JSON at line 3 column 1: Expected double-quoted property name',
      expect.stringMatching(/^ {2}sites\/mo-b\.json: invalid JSON at line 3 column 18: Unexpected token 'o'$/),
      '  sites/mo-c.json: invalid JSON at line 1 column 1: Unexpected end of JSON input',
    ]);
  });

  it('reports every problem of every source at once, one line each, each naming its source and field', () => {
    const cwd = project({
      'mo-a.json': site('mo-a', { senderCidrs: ['10.0.0.0/33'], alarmEmails: ['not-mail'] }),
      'mo-b.json': site('mo-c'),
      'mo-d.json': '[1,',
    });
    const message = problemOf(() => loadSites({ context: [site('MO X')], cwd }));
    expect(message.split('\n')).toEqual([
      'invalid site definitions:',
      '  cdk.json context "sites": site "MO X": id: lower-case letters, digits and dashes, 1-32, e.g. "mo-123"',
      '  sites/mo-a.json: senderCidrs[0]: an IPv4 CIDR such as 203.0.113.0/24',
      '  sites/mo-a.json: alarmEmails[0]: must be an e-mail address',
      '  sites/mo-b.json: id: "mo-c" differs from the file name: name the file mo-c.json or set "id": "mo-b"',
      '  sites/mo-d.json: invalid JSON at line 1 column 4: Unexpected end of JSON input',
    ]);
  });

  it('refuses a site file that opens the site to every address, or lists a private range or host bits, one line each', () => {
    const { example: _, ...real } = EXAMPLE;
    const cwd = project({
      'mo-a.json': { ...real, id: 'mo-a', senderCidrs: ['0.0.0.0/0'] },
      'mo-b.json': { ...real, id: 'mo-b', senderCidrs: ['10.0.0.0/8', '8.8.4.5/24'] },
      'mo-c.json': { ...real, id: 'mo-c', senderCidrs: ['5.0.0.0/8'] },
    });
    expect(problemOf(() => loadSites({ context: [], cwd })).split('\n')).toEqual([
      'invalid site definitions:',
      expect.stringMatching(/^ {2}sites\/mo-a\.json: senderCidrs\[0\]: 0\.0\.0\.0\/0 is every address on the internet, .*"allowAnySender"/),
      expect.stringMatching(/^ {2}sites\/mo-b\.json: senderCidrs\[0\]: 10\.0\.0\.0\/8 is a private range \(RFC 1918\)/),
      expect.stringMatching(/^ {2}sites\/mo-b\.json: senderCidrs\[1\]: 8\.8\.4\.5\/24 has host bits set: did you mean 8\.8\.4\.0\/24/),
      expect.stringMatching(/^ {2}sites\/mo-c\.json: senderCidrs\[0\]: 5\.0\.0\.0\/8 is 16,777,216 addresses, a provider's whole block/),
    ]);
  });

  it('refuses an example’s documentation range in a real site (the copied placeholder), and takes it in an example', () => {
    const { example: _, ...real } = EXAMPLE;
    expect(problemOf(() => loadSites({ context: [], cwd: project({ 'mo-a.json': { ...real, id: 'mo-a' } }) }))).toMatch(
      /^invalid site definitions: sites\/mo-a\.json: senderCidrs\[0\]: 198\.51\.100\.0\/24 is a documentation range, TEST-NET-2 \(RFC 5737\): no sender has it[^\n]*"example": true$/,
    );
    expect(loadSites({ context: [], cwd: project({ 'mo-a.json': site('mo-a') }) }).map((s) => s.example)).toEqual([true]);
  });

  it('says each problem once, in plain words: no zod text, an unknown field with the field it resembles', () => {
    const root = project({
      'mo-a.json': site('mo-a', {
        displayName: 5,
        retentionDay: 90,
        dashboard: 'yes',
        encryption: 'aes',
        maxRequestsPerSecond: 1.5,
        lpuAllowlist: [''],
      }),
    });
    const lines = problemOf(() => loadSites({ context: undefined, cwd: root }))
      .split('\n')
      .slice(1);
    expect(lines).toEqual([
      '  sites/mo-a.json: displayName: must be text in quotes (it is a number)',
      '  sites/mo-a.json: lpuAllowlist[0]: must not be empty',
      '  sites/mo-a.json: maxRequestsPerSecond: must be a whole number',
      '  sites/mo-a.json: encryption: must be one of "aws-managed", "kms", "kms-retiring"',
      '  sites/mo-a.json: dashboard: must be true or false (it is text in quotes)',
      '  sites/mo-a.json: retentionDay: not a site field; did you mean "retentionDays"?',
    ]);
    expect(new Set(lines).size).toBe(lines.length);
    expect(problemOf(() => loadSites({ context: [7], cwd: project({}) }))).toBe(
      'invalid cdk.json context "sites": site #0: (site): must be an object, { … } (it is a number)',
    );
  });

  it('keeps cdk.json’s own messages when only cdk.json is at fault', () => {
    const cwd = project({ 'mo-a.json': site('mo-a') });
    expect(problemOf(() => loadSites({ context: [site('mo-z', { secretPathSegment: 'short' })], cwd }))).toBe(
      'invalid cdk.json context "sites": site "mo-z": secretPathSegment: 16-64 letters, digits, "-" or "_"',
    );
    expect(problemOf(() => loadSites({ context: [site('mo-z'), site('mo-z')], cwd }))).toBe(
      'invalid cdk.json context "sites": site "mo-z": id: used by more than one site',
    );
  });
});

describe('-c site=<id> with a sites folder', () => {
  const app = (cwdSites: string, context: Record<string, unknown>) =>
    new App({
      outdir: join(cwdSites, 'cdk.out'),
      context: { ...CDK_JSON.context, sites: [], sitesDir: join(cwdSites, 'sites'), 'aws:cdk:bundling-stacks': [], ...context },
    });

  it('constructs only the selected site’s stack, from its file', () => {
    const root = project({ 'mo-a.json': site('mo-a'), 'mo-b.json': site('mo-b'), 'mo-c.json': site('mo-c') });
    const narrowed = app(root, { site: 'mo-b' });
    const stacks = defineApp(narrowed);
    expect(stacks.map((stack) => stack.siteId)).toEqual(['mo-b']);
    // Not the other sites, nor the account stack: constructing stacks is what a fleet's synth costs.
    expect(narrowed.node.children.filter((child) => Stack.isStack(child)).map((stack) => stack.node.id)).toEqual(['N3Callback-mo-b']);
  });

  it('still fails on another site’s invalid file (checking every file is cheap), and on an unknown id, listing the files’ sites', () => {
    const root = project({ 'mo-a.json': site('mo-a'), 'mo-b.json': site('mo-b', { retentionDays: 1 }) });
    expect(problemOf(() => defineApp(app(root, { site: 'mo-a' })))).toMatch(
      /^invalid site definitions: .*mo-b\.json: retentionDays: at least/,
    );
    const valid = project({ 'mo-a.json': site('mo-a'), 'mo-b.json': site('mo-b') });
    expect(problemOf(() => defineApp(app(valid, { site: 'mo-9' })))).toBe('-c site=mo-9: no such site; configured: mo-a, mo-b');
  });
});

describe('example sites are examples: built only when asked for, with no secret to inherit', () => {
  // cdk.json as shipped, without the tests' `examples: true`: what `npx cdk deploy --all` reads on a fresh clone.
  const { examples: _asked, ...shipped } = CDK_JSON.context;
  const exampleIds = CDK_JSON.context.sites.map((s) => String(s.id));
  const app = (root: string, context: Record<string, unknown> = {}) =>
    new App({
      outdir: join(root, 'cdk.out'),
      context: { ...shipped, sitesDir: join(root, 'sites'), 'aws:cdk:bundling-stacks': [], ...context },
    });
  const stackIds = (built: App) => built.node.children.filter((child) => Stack.isStack(child)).map((stack) => stack.node.id);
  const real = site('mo-a', { example: false, senderCidrs: ['95.163.248.0/24'], secretPathSegment: undefined });

  it('builds your own sites without the examples beside them, and the fleet stack knows only yours', () => {
    expect(CDK_JSON.context.sites.every((s) => s.example === true)).toBe(true);
    const built = app(project({ 'mo-a.json': real }));
    expect(defineApp(built).map((stack) => stack.siteId)).toEqual(['mo-a']);
    expect(stackIds(built).filter((id) => id.startsWith('N3Callback-mo'))).toEqual(['N3Callback-mo-a']);
    // The fleet dashboard's site picker lists the deployed sites only (its values are the site ids).
    const fleet = built.node.children.find((child) => Stack.isStack(child) && child.node.id === FLEET_STACK_NAME) as Stack;
    const body = JSON.stringify(Template.fromStack(fleet).findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('mo-a');
    for (const id of exampleIds) expect(body).not.toContain(id);
    // Synthesising the app (cdk-nag included) takes seconds, more on a loaded machine: no timing is asserted.
  }, 120_000);

  it('refuses, in one line, a whole-app synth when every configured site is an example', () => {
    expect(problemOf(() => defineApp(app(project({}))))).toBe(
      `no site to deploy: the configured sites are examples (${exampleIds.join(', ')}); add your own as sites/<id>.json (sites/README.md), or ask for the examples (cdk: -c examples=true; fleet plan: --examples)`,
    );
  });

  it('builds the examples with -c examples=true (a string from the command line), or one by name with -c site=<id>', () => {
    expect(defineApp(app(project({ 'mo-a.json': real }), { examples: 'true' })).map((s) => s.siteId)).toEqual([...exampleIds, 'mo-a']);
    expect(defineApp(app(project({}), { site: exampleIds[1] })).map((s) => s.siteId)).toEqual([exampleIds[1]]);
    expect(problemOf(() => defineApp(app(project({}), { examples: 'yes' })))).toBe('-c examples=yes: give true or false');
  });

  it('commits no secretPathSegment in an example: a copier must choose their own', () => {
    expect(CDK_JSON.context.sites.filter((s) => 'secretPathSegment' in s).map((s) => s.id)).toEqual([]);
  });
});
