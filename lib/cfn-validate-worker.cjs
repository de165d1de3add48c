// Worker thread of lib/cfn-validate-parallel.ts: runs CDK's own CloudFormationValidatePlugin (the same engine, rules
// and options as the built-in validation) over its share of the templates and hands the report back. Plain
// CommonJS, not TypeScript: the worker starts without the tsx loader, which it does not need.
const { workerData } = require('node:worker_threads');

const { port, signal, stackTemplates } = workerData;
let message;
try {
  const { CloudFormationValidatePlugin } = require('aws-cdk-lib');
  const plugin = new CloudFormationValidatePlugin();
  try {
    message = { report: plugin.validate({ templatePaths: stackTemplates.map((s) => s.templatePath), stackTemplates }) };
  } finally {
    plugin._dispose();
  }
} catch (error) {
  message = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}
// The main thread waits synchronously (the plugin interface is synchronous): post, then wake it.
port.postMessage(message);
port.close();
Atomics.store(signal, 0, 1);
Atomics.notify(signal, 0);
