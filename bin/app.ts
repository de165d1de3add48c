import { App } from 'aws-cdk-lib';
import { defineApp } from '../lib/app';

// `npm run synth` / `npx cdk deploy -c site=<id>`: sites come from cdk.json context "sites".
const app = new App();
defineApp(app);
app.synth();
