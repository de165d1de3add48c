import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { contentLengthVerdict, GATEWAY_MAX_BODY_BYTES, LAMBDA_MAX_EVENT_BYTES } from '../contract/limits';
import { PayloadTooLargeError } from '../contract/errors';
import { ACK_TEXT, ackForError, fixedAck, MALFORMED_LENGTH_ACK, OVERSIZE_ACK } from '../contract/ack';
import { findMessageType, type MessageType } from '../contract/catalog';
import { CALLBACK_ROUTES, DOCUMENTS_SEGMENT, routeOf } from '../contract/names';
import { type ConsoleEndpoint, NotFound } from '../console/data';
import { consoleFile, type Listening, listenOn, MISDIRECTED, servesHost } from '../console/http';

/*
 * A stand-in for the API Gateway REST API: turns each HTTP request into the proxy event
 * the gateway would send and hands it to the very handler deployed in Lambda. Like the
 * deployed stack it treats every body as binary (base64), caps bodies at 10 MB, answers a
 * declared body over the functions' limit with the WAF guard's 413, answers an event Lambda
 * would refuse (over 6 MB) with the gateway's own 5xx, and times out after 29 s.
 */

export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface GatewayOptions {
  /** The function behind each MessageType route. */
  readonly routes: Readonly<Record<MessageType, LambdaHandler>>;
  /** The function behind every other path (the deployed catch-all). */
  readonly fallback: LambdaHandler;
  /** Told of each answered request (npm start prints one short line per request). */
  readonly onRequest?: (entry: RequestLogEntry) => void;
  /** The document API (`/documents…`), deployed behind IAM auth; here open on loopback. */
  readonly documents?: LambdaHandler;
  /**
   * Extra GET endpoints under /_local/ (info, openapi, the console's data…), answered as JSON: keyed by
   * the first segment after /_local/, given the query and the remaining segments.
   */
  readonly localEndpoints?: Readonly<Record<string, LocalEndpoint>>;
  /** Static files of the local console, served under /_local/ (`index.html` for /_local/). */
  readonly consoleDir?: string;
  readonly host?: string;
  readonly port?: number;
  /** Slow senders: how long headers, and a whole request, may take (defaults 10 s and the gateway's 29 s). */
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Answer a declared Content-Length over the functions' limit as the deployed WAF guard does (default true). */
  readonly oversizeGuard?: boolean;
  /** After an early refusal, how long and how many bytes of the sender's body are still read (see `refuse`). */
  readonly drainTimeoutMs?: number;
  readonly drainMaxBytes?: number;
}

/** The deployed routing: one function per MessageType, the catch-all for everything else. */
export function routesFor(functionFor: (type: MessageType | undefined) => LambdaHandler): Pick<GatewayOptions, 'routes' | 'fallback'> {
  return {
    routes: Object.fromEntries(CALLBACK_ROUTES.map((type) => [type, functionFor(type)])) as Record<MessageType, LambdaHandler>,
    fallback: functionFor(undefined),
  };
}

/** One answered request, for a log line: no body, no free text. */
export interface RequestLogEntry {
  readonly at: Date;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The ack's Status, when the answer is an ack. */
  readonly ackStatus?: string;
  readonly messageId?: string;
  readonly ms: number;
}

export type LocalEndpoint = ConsoleEndpoint;

export type RunningGateway = Listening;

export { GATEWAY_MAX_BODY_BYTES };
const INTEGRATION_TIMEOUT_MS = 29_000;

/*
 * An early refusal (413, 400, 421) is answered at once, and the connection stays open while the sender
 * finishes writing what it declared, the bytes read and dropped: a server that closes with unread bytes
 * makes the kernel reset the connection, and the sender then reads ECONNRESET or EPIPE instead of the ack
 * (Node's fetch and a raw socket, 4 to 10 times out of 10 between two processes). Bounded, so that no sender
 * holds a connection by declaring terabytes or by going quiet: as much again as the gateway's 10 MB quota
 * (an honest sender of a body just over it is heard out), and 10 s (well inside the 29 s request timeout).
 * Then it closes, and whatever the sender still writes meets a reset, as a cut-off sender should.
 */
export const DRAIN_MAX_BYTES = GATEWAY_MAX_BODY_BYTES;
export const DRAIN_TIMEOUT_MS = 10_000;

/*
 * Keep-alive: a client reuses an idle connection until its own idle timeout runs out; a server that closes
 * it first loses the request written at that moment (undici: UND_ERR_SOCKET, 4 of 14 sends under CPU load
 * when this was Node's 5 s against undici's 4 s). So idle connections live 65 s, longer than .NET's
 * HttpClient keeps them (60 s since .NET 6), and Keep-Alive advertises 5 s less: a client that follows the
 * hint (undici, Node's Agent) gives the connection up first even when its timers fire late.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
export const KEEP_ALIVE_ADVERTISED_SECONDS = 60;

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const server = createServer({ connectionsCheckingInterval: 1_000 }, (req, res) => {
    handle(req, res, options).catch((error: unknown) => {
      // Only a bug of this adapter lands here: the handlers answer every fault themselves.
      console.error('local gateway: unexpected error', (error as Error).name);
      if (!res.headersSent) send(res, { statusCode: 502, headers: {}, body: JSON.stringify(ackForError(error, '').ack) });
      else res.destroy();
    });
  });
  // Slowloris: a sender that trickles headers or body is cut off; the checks run every second.
  server.on('clientError', answerClientError);
  server.headersTimeout = options.headersTimeoutMs ?? 10_000;
  server.requestTimeout = options.requestTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
  // headersTimeout may stay below it: since Node 18 it runs from a request's first byte, not over idle time.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return listenOn(server, options.port ?? 0, options.host ?? '127.0.0.1');
}

/**
 * A request the HTTP parser refused before any handler saw it (headers over Node's 16 KB, a malformed
 * request line, headers too slow): answer with the ack shape and close *gracefully*. Node's own answer
 * closes at once; with the sender still writing (64 KB of headers, say) the unread bytes make the kernel
 * reset the connection, and since Node 24 the sender then often sees ECONNRESET instead of the 431. So
 * the rest of what it sends is read and dropped, and the connection ends after it (or after a second).
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  // A refusal already answered on this connection (a sender that stopped short of the length it declared):
  // a second answer would corrupt the first, so let the first finish and close (as Node's own handler does).
  if ((socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent) {
    socket.on('error', () => socket.destroy());
    socket.end();
    setTimeout(() => socket.destroy(), 1_000).unref();
    return;
  }
  const [status, text] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, `${ACK_TEXT.rejected}: заголовки запроса больше 16 КБ`]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, `${ACK_TEXT.rejected}: запрос не получен целиком вовремя`]
        : error.code === 'HPE_INVALID_CONTENT_LENGTH' || error.code === 'HPE_UNEXPECTED_CONTENT_LENGTH'
          ? [400, MALFORMED_LENGTH_ACK.Message] // as the deployed WAF guard answers
          : [400, `${ACK_TEXT.rejected}: некорректный HTTP-запрос`];
  const body = JSON.stringify(fixedAck(text));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.on('error', () => socket.destroy());
  socket.resume();
  setTimeout(() => socket.destroy(), 1_000).unref();
}

async function handle(req: IncomingMessage, res: ServerResponse, options: GatewayOptions): Promise<void> {
  // Split by hand: `new URL('//CDAStatus', base)` would read CDAStatus as a host name.
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?', 2);
  // `[base]/` + `/CDAStatus` is what a naive sender makes of a base with a trailing slash.
  const path = rawPath.replace(/\/{2,}/g, '/');
  const query = new URLSearchParams(rawQuery);
  const segments = path.split('/').filter(Boolean);

  // A browser opening the console asks for an icon; it is not a callback to keep as rejected.
  if (path === '/favicon.ico') return send(res, { statusCode: 204, headers: {}, body: '' });
  const readsStoredData = segments[0] === '_local' || segments[0] === DOCUMENTS_SEGMENT;
  if (readsStoredData && !servesHost(req.headers.host, options.host ?? '127.0.0.1')) {
    return refuse(
      req,
      res,
      { statusCode: 421, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `${MISDIRECTED}\n` },
      options,
    );
  }
  if (segments[0] === '_local' && req.method === 'GET') {
    const decoded = decodeSegments(segments.slice(1));
    if (!decoded) return send(res, json(400, { error: 'the path is not valid percent-encoding' }));
    const [name = '', ...rest] = decoded;
    const endpoint = options.localEndpoints?.[name];
    if (endpoint) {
      try {
        return send(res, json(200, await endpoint(query, rest)));
      } catch (error) {
        return send(res, json(error instanceof NotFound ? 404 : 500, { error: (error as Error).message }));
      }
    }
    const file = options.consoleDir ? consoleFile(options.consoleDir, name === '' ? 'index.html' : name) : undefined;
    if (file) return send(res, file);
    return send(res, json(404, { error: 'no such local endpoint' }));
  }

  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > GATEWAY_MAX_BODY_BYTES) return refuse(req, res, tooLarge(declared), options);
  // The deployed WAF guard's two rules, with its very patterns: Node has already refused lists and signs
  // (answerClientError); leading zeros reach here.
  const verdict = (options.oversizeGuard ?? true) ? contentLengthVerdict(req.headers['content-length'] ?? '') : undefined;
  if (verdict)
    return refuse(req, res, verdict === 'too-large' ? ackResult(413, OVERSIZE_ACK) : ackResult(400, MALFORMED_LENGTH_ACK), options);
  const body = await readBody(req, GATEWAY_MAX_BODY_BYTES);
  // The sender went away (or was cut off as too slow) mid-body: there is no one to answer.
  if (body === 'aborted') return void res.destroy();
  // A chunked body past the quota (no length declared): answered now, the rest drained as above.
  if (body === 'too-large') return refuse(req, res, tooLarge(GATEWAY_MAX_BODY_BYTES + 1), options);

  const type = segments.length === 1 ? findMessageType(segments[0]!) : undefined;
  // The same route table the API construct builds its resources from (contract/names.ts).
  const route = routeOf(segments);
  const isDocuments = route.kind === 'documents' && options.documents !== undefined;
  const handler = isDocuments ? options.documents! : route.kind === 'callback' ? options.routes[route.type] : options.fallback;
  const requestId = randomUUID();
  const event = toEvent(req, path, query, body, requestId, type);
  // Lambda refuses a synchronous event over 6 MB; the gateway then answers its own 5xx (ack-shaped by our gateway responses).
  if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_MAX_EVENT_BYTES) return send(res, ackResult(500, fixedAck(ACK_TEXT.unavailable)));
  const started = performance.now();
  const result = await handler(event, lambdaContext(requestId, isDocuments ? 'Documents' : (type ?? 'Fallback')));
  send(res, result);
  if (options.onRequest) {
    const ack = isDocuments ? undefined : ackOf(result.body);
    options.onRequest({
      at: new Date(),
      method: req.method ?? '',
      path: path.slice(0, 80),
      status: result.statusCode,
      ackStatus: ack?.Status,
      messageId: ack?.MessageId,
      ms: performance.now() - started,
    });
  }
}

export { servesHost };

function decodeSegments(segments: readonly string[]): string[] | undefined {
  try {
    return segments.map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

export { NotFound };

function ackOf(body: string): { Status?: string; MessageId?: string } | undefined {
  try {
    return JSON.parse(body) as { Status?: string; MessageId?: string };
  } catch {
    return undefined;
  }
}

/** The whole body; 'too-large' as soon as it passes `limit` (the caller refuses, and drains the rest). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        req.off('data', onData);
        // Paused until `refuse` reads on: no byte is left unread in between.
        req.pause();
        return resolve('too-large');
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}

/**
 * An early refusal: the whole answer written now (a sender that reads while it writes has it at once),
 * the connection closed only once the sender has sent what it declared, or a drain bound ran out
 * (DRAIN_MAX_BYTES, DRAIN_TIMEOUT_MS). See DRAIN_MAX_BYTES for why.
 */
function refuse(req: IncomingMessage, res: ServerResponse, result: APIGatewayProxyResult, options: GatewayOptions): void {
  const body = Buffer.from(result.body, 'utf8');
  res.writeHead(result.statusCode, { ...stringHeaders(result.headers), 'Content-Length': body.length, Connection: 'close' });
  // write, not end: ending the response is what makes Node close the connection.
  res.write(body);
  const maxBytes = options.drainMaxBytes ?? DRAIN_MAX_BYTES;
  let drained = 0;
  const close = () => {
    clearTimeout(timer);
    req.off('data', onData);
    if (!res.writableEnded) res.end();
  };
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > maxBytes) close();
  };
  const timer = setTimeout(close, options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
  if (req.complete) {
    close();
    return;
  }
  req.on('data', onData);
  req.once('end', close);
  req.once('close', close);
  req.resume();
}

function toEvent(
  req: IncomingMessage,
  path: string,
  searchParams: URLSearchParams,
  body: Buffer,
  requestId: string,
  type: MessageType | undefined,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of searchParams) {
    query[name] = value;
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  const hasQuery = searchParams.size > 0;
  const resource = type ? `/${type}` : '/{proxy+}';
  return {
    resource,
    path,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: type ? null : { proxy: path.replace(/^\//, '') },
    stageVariables: null,
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      path: `/local${path}`,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      identity: {
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: req.headers['user-agent'] ?? null,
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        user: null,
        userArn: null,
      },
    },
  };
}

export function lambdaContext(requestId: string, functionName: string): Context {
  const deadline = Date.now() + INTEGRATION_TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:local-${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/local-${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const json = (statusCode: number, value: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json; charset=utf-8' },
  body: JSON.stringify(value, null, 2),
});

const ackResult = (statusCode: number, ack: object): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json; charset=utf-8' },
  body: JSON.stringify(ack),
});

const tooLarge = (size: number): APIGatewayProxyResult => {
  const { statusCode, ack } = ackForError(new PayloadTooLargeError(size, GATEWAY_MAX_BODY_BYTES), '');
  return { statusCode, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(ack) };
};

function send(res: ServerResponse, result: APIGatewayProxyResult, options: { close?: boolean } = {}): void {
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  const headers: Record<string, string | number> = { ...stringHeaders(result.headers), 'Content-Length': body.length };
  if (options.close) headers.Connection = 'close';
  else if (res.shouldKeepAlive) {
    // Written here because Node would advertise the whole KEEP_ALIVE_TIMEOUT_MS (see above).
    headers.Connection = 'keep-alive';
    headers['Keep-Alive'] = `timeout=${KEEP_ALIVE_ADVERTISED_SECONDS}`;
  }
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

function stringHeaders(headers: APIGatewayProxyResult['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));
}
