// The JS shim of aws-lambda-ric's native addon (rapid-client.node): the same three Runtime API calls
// (next, done, error) over node:http. Used only where the addon does not load and the run says so
// (N3_DEPLOYED_ALLOW_RIC_SHIM=1, see client.ts). `done` and `error` are synchronous in the addon; here
// they send and return, and the runtime's next `next()` waits behind them on the same single-socket
// agent, so the order is kept. Its User-Agent tells the test's Runtime API server which client called.
const http = require('node:http');

const [hostname, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime/invocation';
const USER_AGENT = 'n3-deployed-tests-ric-shim';

function call(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port: Number(port), path, method, agent, headers: { 'User-Agent': USER_AGENT, ...headers } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (data += chunk));
        res.on('end', () => resolve({ bodyJson: data, headers: res.headers }));
      },
    );
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
