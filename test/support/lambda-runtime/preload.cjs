// Preloaded (`node --require`) into a function process only when the run uses the shim (client.ts): AWS's
// runtime interface client (npm `aws-lambda-ric`, the code Lambda's nodejs runtime runs) loads its native
// Runtime API addon `./rapid-client.node`; this swaps that one module for native-client.cjs. Everything else
// in it — the handler loader (`_HANDLER`, LAMBDA_TASK_ROOT, ESM import), context, console patching, error
// formatting — is used as is.
const Module = require('node:module');
const path = require('node:path');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === './rapid-client.node' && parent?.filename?.includes(`${path.sep}aws-lambda-ric${path.sep}`)) {
    return path.join(__dirname, 'native-client.cjs');
  }
  return resolve.call(this, request, parent, ...rest);
};
