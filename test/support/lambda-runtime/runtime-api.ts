import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { LAMBDA_MAX_EVENT_BYTES } from '../../../contract/limits';
import type { RuntimeClient } from './client';

/*
 * One deployed function, run the way Lambda runs it: a process of AWS's runtime interface client
 * (`aws-lambda-ric`) on the given Node, with `_HANDLER`, `LAMBDA_TASK_ROOT` (the function's code
 * directory, the working directory as /var/task is on Lambda) and Lambda's environment, pulling each
 * invocation from a Runtime API (`/2018-06-01/runtime/...`) that this module serves: that server, and
 * the synchronous Invoke in front of it, are the simulated parts. Lambda's documented 6 MB limit on a
 * synchronous event is enforced here, by this harness, where the Invoke API enforces it: the event never
 * reaches the Runtime API.
 */

const RIC_DIR = fileURLToPath(new URL('../../../node_modules/aws-lambda-ric/', import.meta.url));
const RIC = `${RIC_DIR}index.mjs`;
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const API = '/2018-06-01/runtime';
/** A guard against a process that never starts (not a measure: Lambda's own init limit is 10 s). */
const INIT_GUARD_MS = 120_000;

export interface FunctionSpec {
  /** Logical name, e.g. `CDAStatus`. */
  readonly name: string;
  /** `index.<export>`, as in the template. */
  readonly handler: string;
  /** The template's `Runtime`, e.g. `nodejs24.x`. */
  readonly runtime: string;
  /** The directory of the function's code: the `cdk.out/asset.<hash>` its template names. */
  readonly codeDir: string;
  /** The function's environment from the template, with resource references resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
}

export interface RuntimeOptions {
  readonly nodeBinary: string;
  /** aws-lambda-ric's native addon, or the JS shim where that was allowed (client.ts). */
  readonly client: RuntimeClient;
  readonly region: string;
  /** Extra variables Lambda does not set but the emulators need (AWS_ENDPOINT_URL_*). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export type Invocation =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { errorType?: string; errorMessage?: string } };

/**
 * The Invoke API's refusal of an event over Lambda's documented synchronous limit (`RequestTooLargeException`,
 * HTTP 413 to the caller, before any function code runs) — raised by this harness, not by Lambda.
 */
export class SimulatedInvokeLimitError extends Error {
  readonly errorType = 'RequestTooLargeException';
  readonly statusCode = 413;
  constructor(readonly bytes: number) {
    super(`RequestTooLargeException (this harness enforces Lambda's documented limit): ${bytes} bytes > ${LAMBDA_MAX_EVENT_BYTES}`);
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
  /** The User-Agent of every Runtime API call the process made: which client spoke (client.ts). */
  readonly callers = new Set<string>();
  /** Events the Runtime API handed to the process. */
  delivered = 0;
  /** The executable the process runs (from /proc), to check it is the Node it was given. */
  executable: string | undefined;
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<string, Pending>();
  private waiting: ServerResponse | undefined;
  private initError: string | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Settled when init ends: the first `next` (ready), an init error, or the process exiting. */
  private initDone: ((error?: Error) => void) | undefined;

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
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
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
      LAMBDA_TASK_ROOT: spec.codeDir,
      LAMBDA_RUNTIME_DIR: RIC_DIR,
      _HANDLER: spec.handler,
      ...spec.environment,
      ...options.extraEnv,
    };
    const args = options.client.kind === 'native' ? [RIC] : ['--require', PRELOAD, RIC];
    const child = spawn(options.nodeBinary, args, { cwd: spec.codeDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    fn.child = child;
    try {
      fn.executable = readlinkSync(`/proc/${child.pid}/exe`);
    } catch {
      fn.executable = undefined; // not Linux, or already gone: the test that reads it fails
    }
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
    child.once('exit', (code, signal) => {
      const reason = `function process exited (${code ?? signal}) ${fn.initError ?? fn.lines.slice(-3).join(' | ')}`.trim();
      fn.initDone?.(new Error(`${spec.name}: ${reason}`));
      fn.failAll(reason);
    });
    // Lambda's init phase: the handler module is imported before the runtime asks for its first event.
    const initialised = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fn.initDone?.(new Error(`${spec.name}: no Runtime API call within ${INIT_GUARD_MS / 1000} s of start`)),
        INIT_GUARD_MS,
      );
      fn.initDone = (error) => {
        clearTimeout(timer);
        fn.initDone = undefined;
        if (error) reject(error);
        else resolve();
      };
    });
    try {
      await initialised;
    } catch (error) {
      await fn.stop();
      throw error;
    }
    return fn;
  }

  /**
   * Invokes synchronously (RequestResponse), as API Gateway's Lambda proxy integration does. An event
   * over Lambda's limit is refused with SimulatedInvokeLimitError and never reaches the Runtime API.
   */
  invoke(event: unknown): Promise<Invocation> {
    const body = JSON.stringify(event);
    const bytes = Buffer.byteLength(body);
    if (bytes > LAMBDA_MAX_EVENT_BYTES) return Promise.reject(new SimulatedInvokeLimitError(bytes));
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
    this.delivered++;
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
      this.callers.add(req.headers['user-agent'] ?? '(no User-Agent)');
      if (req.method === 'GET' && url === `${API}/invocation/next`) {
        this.waiting = res;
        this.initDone?.();
        return this.dispatch();
      }
      const settled = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (req.method === 'POST' && settled) {
        const pending = this.inFlight.get(decodeURIComponent(settled[1]!));
        this.inFlight.delete(decodeURIComponent(settled[1]!));
        const outcome: Invocation =
          settled[2] === 'response' ? { ok: true, result: JSON.parse(body) } : { ok: false, error: JSON.parse(body) };
        // The process wrote its output (EMF included, to a pipe: synchronous on Linux) before it posted this;
        // settling after this poll phase lets the stdout data that arrived with it be read first.
        setImmediate(() => pending?.settle(outcome));
        res.writeHead(202).end('{"status":"OK"}');
        return;
      }
      if (req.method === 'POST' && url === `${API}/init/error`) {
        this.initError = body;
        this.initDone?.(new Error(`${this.spec.name}: init failed: ${body.slice(0, 300)}`));
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
