import '../../local/quiet-sdk-warning';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { wireReceivers, wireSite } from '../../lambdas/handlers/wiring';
import { routesFor, startGateway } from '../../local/gateway';
import { startLocalStack } from '../../local/stack';
import { InMemoryRejectedStore, inMemoryPorts } from '../../testing/fakes';
import { SITE_ENV } from './site-env';

/*
 * The servers the load generator measures, each in its own child process (so that the
 * generator does not share their event loop), reporting its URL over IPC:
 *   bare     node:http answering a constant ack: the ceiling of this machine and client;
 *   gateway  the local HTTP adapter and the real handler on instant in-memory ports;
 *   stack    the whole local product on the emulators (npm start).
 */

const ACK = JSON.stringify({ MessageId: 'b097fea5-e6f6-4417-9829-53ab6a562719', Message: 'Сообщение принято успешно', Status: 'Success' });

async function bare(): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(ACK) });
      res.end(ACK);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function gateway(): Promise<string> {
  // The deployed wiring on instant in-memory ports; logs at the level the environment says, as `npm start`
  // (see dev/bench/throughput.ts).
  const receivers = wireReceivers(
    wireSite({ env: SITE_ENV, adapters: { ports: inMemoryPorts(), rejectedStore: new InMemoryRejectedStore() }, serviceName: 'bench' }),
  );
  const running = await startGateway(routesFor((type) => receivers[type ?? 'Fallback']));
  return running.url;
}

async function stack(): Promise<string> {
  const local = await startLocalStack({ port: 0, siteId: 'bench', preferJava: process.env.BENCH_DYNAMO !== 'dynalite' });
  process.send?.({ info: local.info });
  process.once('disconnect', () => void local.stop().then(() => process.exit(0)));
  return local.info.baseUrl;
}

const kind = process.argv[2];
const url = kind === 'bare' ? await bare() : kind === 'gateway' ? await gateway() : await stack();
process.send?.({ url });
if (kind !== 'stack') process.once('disconnect', () => process.exit(0));
