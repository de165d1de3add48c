import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { LAMBDA_MAX_EVENT_BYTES } from '../../../lambdas/contract/limits';

/*
 * One deployed function, run the way Lambda runs it: a process of AWS's runtime interface client
 * (`aws-lambda-ric`) with `_HANDLER`, `LAMBDA_TASK_ROOT` and Lambda's environment, pulling each
 * invocation from a Runtime API (`/2018-06-01/runtime/...`) that this module serves. Events larger
 * than Lambda's synchronous limit are rejected here as Lambda refuses them, before the function sees them.
 */

const RIC = fileURLToPath(new URL('../../../node_modules/aws-lambda-ric/index.mjs', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const API = '/2018-06-01/runtime';

export interface FunctionSpec {
  /** Logical name, e.g. `CDAStatus`. */
  readonly name: string;
  /** `index.<export>`, as in the template. */
  readonly handler: string;
  /** The function's environment from the template, with resource references resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
}

export interface RuntimeOptions {
  readonly bundleDir: string;
  readonly nodeBinary: string;
  readonly region: string;
  /** Extra variables Lambda does not set but the emulators need (AWS_ENDPOINT_URL_*). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export type Invocation =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { errorType?: string; errorMessage?: string } };

/** Lambda refuses an event over 6 MB before any function code runs. */
export class RequestTooLargeError extends Error {
  readonly statusCode = 413;
  constructor(readonly bytes: number) {
    super(`RequestEntityTooLargeException: ${bytes} bytes > ${LAMBDA_MAX_EVENT_BYTES}`);
  }
}

interface Pending {
  readonly id: string;
  readonly body: string;
  readonly settle: (outcome: Invocation) => void;
}

export class LambdaProcess {
  /** Everything the function printed (stdout and stderr), line by line. */
  readonly lines: string[] = [];
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<string, Pending>();
  private waiting: ServerResponse | undefined;
  private initError: string | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly spec: FunctionSpec,
    private readonly server: Server,
    private child?: ChildProcess,
  ) {}

  static async start(spec: FunctionSpec, options: RuntimeOptions): Promise<LambdaProcess> {
    const server = createServer();
    const fn = new LambdaProcess(spec, server);
    server.on('request', (req, res) => fn.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const functionName = `N3Callback-test-${spec.name}`;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      // What Lambda sets for every Node.js function (the runtime's own variables).
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `2026/11/26/[$LATEST]${randomUUID().replaceAll('-', '')}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: options.region,
      AWS_DEFAULT_REGION: options.region,
      AWS_ACCESS_KEY_ID: 'ASIALOCALTESTKEY0000',
      AWS_SECRET_ACCESS_KEY: 'local-test-secret',
      AWS_SESSION_TOKEN: 'local-test-session-token',
      LAMBDA_TASK_ROOT: options.bundleDir,
      LAMBDA_RUNTIME_DIR: options.bundleDir,
      _HANDLER: spec.handler,
      // The addon-free Runtime API client of aws-lambda-ric (see preload.cjs).
      AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1: 'true',
      ...spec.environment,
      ...options.extraEnv,
    };
    const child = spawn(options.nodeBinary, ['--require', PRELOAD, RIC], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    fn.child = child;
    fn.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        fn.lines.push(...parts.filter(Boolean));
      });
    }
    child.once('exit', (code, signal) => fn.failAll(`function process exited (${code ?? signal}) ${fn.initError ?? ''}`.trim()));
    return fn;
  }

  /** Invokes synchronously (RequestResponse), as API Gateway's Lambda proxy integration does. */
  invoke(event: unknown): Promise<Invocation> {
    const body = JSON.stringify(event);
    const bytes = Buffer.byteLength(body);
    if (bytes > LAMBDA_MAX_EVENT_BYTES) return Promise.reject(new RequestTooLargeError(bytes));
    if (this.initError) return Promise.reject(new Error(`init failed: ${this.initError}`));
    return new Promise((settle) => {
      this.queue.push({ id: randomUUID(), body, settle });
      this.dispatch();
    });
  }

  async stop(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.waiting?.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private dispatch(): void {
    if (!this.waiting || this.queue.length === 0) return;
    const next = this.queue.shift()!;
    const res = this.waiting;
    this.waiting = undefined;
    this.inFlight.set(next.id, next);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': next.id,
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + this.spec.timeoutSeconds * 1000),
      'Lambda-Runtime-Invoked-Function-Arn': `arn:aws:lambda:eu-central-1:123456789012:function:N3Callback-test-${this.spec.name}`,
      'Lambda-Runtime-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=0`,
    });
    res.end(next.body);
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '';
      if (req.method === 'GET' && url === `${API}/invocation/next`) {
        this.waiting = res;
        return this.dispatch();
      }
      const settled = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (req.method === 'POST' && settled) {
        const pending = this.inFlight.get(decodeURIComponent(settled[1]!));
        this.inFlight.delete(decodeURIComponent(settled[1]!));
        pending?.settle(settled[2] === 'response' ? { ok: true, result: JSON.parse(body) } : { ok: false, error: JSON.parse(body) });
        res.writeHead(202).end('{"status":"OK"}');
        return;
      }
      if (req.method === 'POST' && url === `${API}/init/error`) {
        this.initError = body;
        res.writeHead(202).end('{"status":"OK"}');
        return;
      }
      res.writeHead(404).end();
    });
  }

  private failAll(reason: string): void {
    for (const pending of [...this.queue, ...this.inFlight.values()])
      pending.settle({ ok: false, error: { errorType: 'Runtime.Exit', errorMessage: reason } });
    this.queue.length = 0;
    this.inFlight.clear();
  }
}
