import './quiet-sdk-warning';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { type BaseUrlError, DEFAULT_PORT, portFrom } from '../contract/base-url';
import { hasJava } from './emulators';
import type { RequestLogEntry } from './gateway';
import { startLocalStack } from './stack';
import { printable } from '../contract/printable';
import { exportLines } from './exports';

/*
 * `npm start`: the callback endpoint on this machine, no AWS account needed. One short line per request
 * (LOG_FORMAT=json: the functions' own JSON logs instead); `--data DIR` (or N3_LOCAL_DATA) keeps the
 * tables across restarts. Errors are one line; DEBUG=1 adds the stack.
 */

const fail = (message: string): never => {
  console.error(`npm start: ${message}`);
  process.exit(1);
};

let values: { data?: string };
try {
  ({ values } = parseArgs({ args: process.argv.slice(2), options: { data: { type: 'string' } } }));
} catch (error) {
  fail(`${(error as Error).message.split('\n')[0]} (the only option is --data DIR)`);
}
const host = process.env.HOST ?? '127.0.0.1';
let port = DEFAULT_PORT;
try {
  // PORT=0: any free port (the tests use it).
  if (process.env.PORT) port = process.env.PORT === '0' ? 0 : portFrom(process.env.PORT);
} catch (error) {
  fail((error as BaseUrlError).message);
}
const dataDir = values!.data ?? (process.env.N3_LOCAL_DATA || undefined);
const json = process.env.LOG_FORMAT === 'json';
// The functions' own logs are JSON for CloudWatch; here a person reads a short line per request instead.
process.env.POWERTOOLS_LOG_LEVEL ??= json ? 'INFO' : 'ERROR';

// Found in a moment, not after the emulators have started.
await new Promise<void>((resolve) => {
  const probe = createServer();
  probe.once('error', (error: NodeJS.ErrnoException) =>
    fail(
      error.code === 'EADDRINUSE'
        ? `port ${port} is in use: PORT=${port + 1} npm start`
        : `cannot listen on ${host}:${port}: ${error.code}`,
    ),
  );
  probe.listen(port, host, () => probe.close(() => resolve()));
});

const startedAt = Date.now();
const progress = (step: string) => console.log(step);
if (!hasJava()) console.log('No `java` found: using dynalite (pure JS) instead of DynamoDB Local.');

const time = (at: Date) => at.toISOString().slice(11, 19);
const short = (id?: string) => (id ? `${printable(id.slice(0, 8))}…` : '');
const onRequest = (e: RequestLogEntry) =>
  console.log(
    `${time(e.at)} ${e.status} ${(e.ackStatus ?? '').padEnd(7)} ${e.method} ${printable(e.path).padEnd(16)} ${short(e.messageId).padEnd(9)} ${Math.round(e.ms)} ms`,
  );

let stack: Awaited<ReturnType<typeof startLocalStack>>;
try {
  stack = await startLocalStack({
    host,
    port,
    siteId: process.env.SITE_ID ?? 'local',
    dataDir,
    onProgress: progress,
    ...(json ? {} : { onRequest }),
    onProjectionError: (error) => console.error(`document projection failed (${error.name}); it is retried`),
  });
} catch (error) {
  if (process.env.DEBUG) console.error(error);
  fail(`could not start: ${(error as Error).message.split('\n')[0]} (DEBUG=1 npm start shows more)`);
}
const { info } = stack!;
if (!info.documentProjection) console.log('dynalite has no streams: the document API answers, but nothing is projected into documents.');

console.log(`
N3 callback endpoint (local) is ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.

  Callback base URL   ${info.baseUrl}        POST ${info.baseUrl}<MessageType>
  Console             ${info.baseUrl}_local/
  Document API        ${info.baseUrl}documents
  MIS queue (FIFO)    ${info.queueUrl}
  Dead-letter queue   ${info.dlqUrl}
  SQS/S3 endpoint     ${info.sqsEndpoint}   (region ${info.region}, any credentials)
  DynamoDB            ${info.dynamodbEndpoint} (${info.dynamodbEmulator}), table ${info.tableName}
  Everything as JSON  ${info.baseUrl}_local/info
  ${dataDir ? `Tables kept in ${dataDir}; the queues and the bucket start empty on every start.` : 'Everything is in memory: a restart starts empty (--data DIR keeps the tables).'}

For the CLI, the consumers (README, "The MIS side") and the load test, in another terminal:
${exportLines(info).join('\n')}

Try:  curl -s -X POST ${info.baseUrl}SEMDStatus -H 'Content-Type: application/json; charset=utf-8' --data @examples/SEMDStatus.json
Ctrl-C stops everything.
`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping…`);
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
