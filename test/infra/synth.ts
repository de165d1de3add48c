import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { defineApp } from '../../lib/app';
import type { CallbackStack } from '../../lib/callback-stack';
import { FLEET_STACK_NAME } from '../../contract/names';

/*
 * Synthesis for tests that read templates: cdk.json's feature flags with the test's own sites, bundling
 * skipped, cdk-nag run (app.synth() throws on any unacknowledged finding). Each synth leaves a folder in
 * the temp dir: call removeSyntheses() after the file's tests.
 */

/** A folder that does not exist: tests see exactly the sites they name, whatever a checkout keeps in sites/. */
export const NO_SITE_FILES = join(tmpdir(), 'n3-callback-tests-no-site-files');

/**
 * cdk.json as shipped: its context (feature flags, example sites), with no `sites/<id>.json` read, and the
 * examples asked for (`examples: true`, as `-c examples=true`): these tests build the example sites, and their
 * own sites marked as examples, on purpose. A deploy builds them only when asked (test/infra/site-files.test.ts).
 */
export const CDK_JSON = (() => {
  const json = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown> & { sites: Array<Record<string, unknown>> };
  };
  return { ...json, context: { ...json.context, sitesDir: NO_SITE_FILES, examples: true } };
})();

const outdirs: string[] = [];

export interface Synthesised {
  readonly stacks: CallbackStack[];
  readonly templates: Template[];
  /** The fleet stack's template (what every site shares: the WAF web ACL among it). */
  readonly fleet: Template;
  readonly outdir: string;
}

/** The site stacks for `sites` (cdk.json's when omitted), synthesised and checked by cdk-nag. */
export function synthSites(sites: readonly unknown[] = CDK_JSON.context.sites, context: Record<string, unknown> = {}): Synthesised {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...CDK_JSON.context, sites, 'aws:cdk:bundling-stacks': [], ...context } });
  const stacks = defineApp(app);
  app.synth();
  const fleet = Template.fromJSON(JSON.parse(readFileSync(join(outdir, `${FLEET_STACK_NAME}.template.json`), 'utf8')));
  return { stacks, templates: stacks.map((stack) => Template.fromStack(stack)), fleet, outdir };
}

export function removeSyntheses(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The cdk-nag acknowledgements written into a template: id → reason. */
export function nagReasons(template: Template): Map<string, string[]> {
  const reasons = new Map<string, string[]>();
  const resources = template.toJSON().Resources as Record<
    string,
    { Metadata?: { cdk_nag?: { rules_to_suppress: Array<{ id: string; reason: string }> } } }
  >;
  for (const resource of Object.values(resources)) {
    for (const { id, reason } of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) reasons.set(id, [...(reasons.get(id) ?? []), reason]);
  }
  return reasons;
}
