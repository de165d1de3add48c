// The Runtime API calls of aws-lambda-ric's native addon (next, done, error), over node:http.
// `done` and `error` are synchronous in the addon; here they send and return, and the runtime's next
// `next()` waits behind them on the same single-socket agent, so the order is kept.
const http = require('node:http');

const [hostname, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime/invocation';

function call(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port: Number(port), path, method, agent, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (data += chunk));
      res.on('end', () => resolve({ bodyJson: data, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const fail = (error) => {
  process.stderr.write(`native-client shim: ${error.message}\n`);
  process.exit(1);
};

module.exports = {
  next: () => call('GET', `${base}/next`),
  done: (id, body) => void call('POST', `${base}/${id}/response`, body).catch(fail),
  error: (id, body, xray) =>
    void call('POST', `${base}/${id}/error`, body, {
      'Lambda-Runtime-Function-Error-Type': 'Runtime.Error',
      ...(xray ? { 'Lambda-Runtime-Function-XRay-Error-Cause': xray } : {}),
    }).catch(fail),
};
