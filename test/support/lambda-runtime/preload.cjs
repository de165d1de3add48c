// Preloaded (`node --require`) into a function process started by runtime-api.ts.
// AWS's runtime interface client (npm `aws-lambda-ric`, the code Lambda's nodejs runtime runs) talks to
// the Runtime API through a native addon that npm does not build here; everything else in it — the
// handler loader (`_HANDLER`, LAMBDA_TASK_ROOT, ESM import), context, console patching, error
// formatting — is used as is. Only the addon is swapped for native-client.cjs, the same three calls
// over plain HTTP.
const Module = require('node:module');
const path = require('node:path');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === './rapid-client.node' && parent?.filename?.includes(`${path.sep}aws-lambda-ric${path.sep}`)) {
    return path.join(__dirname, 'native-client.cjs');
  }
  return resolve.call(this, request, parent, ...rest);
};
