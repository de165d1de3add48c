import { inMemoryGateway } from './in-memory-gateway';

/*
 * The in-memory gateway in a process of its own, for tests where the sender and the server must not share
 * one event loop: in one process a sender's write and the server's hang-up take turns, and a race that
 * resets connections between processes (as between N3 and `npm start`) never shows.
 * Options (GatewayOptions' plain values) as JSON in argv[2]; prints `{"port":N}` once listening; ends when
 * its stdin closes (the test's end, or the test runner's death).
 */
const options = JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof inMemoryGateway>[0];
const gateway = await inMemoryGateway(options);
process.stdout.write(`${JSON.stringify({ port: gateway.port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void gateway.close().then(() => process.exit(0)));
