import { App } from 'aws-cdk-lib';
import { defineApp } from '../lib/app';
import { SiteConfigError } from '../lib/site-config';

// `npm run synth` / `npx cdk deploy -c site=<id>`: sites come from cdk.json context "sites" and sites/<id>.json.
// A fleet of 500 site stacks is ~70,000 constructs: a JavaScript stack trace captured for each (creation traces,
// annotation traces) and the construct tree written to tree.json cost a fifth of the synth's time and much of its
// memory (dev/bench/synth-fleet.ts), and neither is part of a template. CDK_DEBUG=1 (CDK's own debug switch) keeps them.
const debug = ['1', 'on', 'true'].includes(process.env.CDK_DEBUG ?? '');
const app = new App(
  debug ? {} : { stackTraces: false, treeMetadata: false, postCliContext: { 'aws:cdk:disable-creation-stack-traces': true } },
);
try {
  defineApp(app);
} catch (error) {
  // A wrong site is the user's to fix: say which and why, without a stack trace.
  if (!(error instanceof SiteConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
app.synth();
