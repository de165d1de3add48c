import { App } from 'aws-cdk-lib';
import { defineApp } from '../lib/app';
import { SiteConfigError } from '../lib/site-config';

// `npm run synth` / `npx cdk deploy -c site=<id>`: sites come from cdk.json context "sites".
const app = new App();
try {
  defineApp(app);
} catch (error) {
  // A wrong site is the user's to fix: say which and why, without a stack trace.
  if (!(error instanceof SiteConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
app.synth();
