import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type ConsoleEndpoint, NotFound, type SiteLabel, vocabulary } from './data';
import { CONSOLE_DIR, consoleFile, type Listening, listenOn, MISDIRECTED, servesHost } from './http';

/*
 * `n3-callback console`: the console `npm start` serves at /_local/, served by the operator's own machine for a
 * deployed site (or a fleet of them). It listens on 127.0.0.1 only and answers only to loopback names (the
 * DNS-rebinding guard): what it shows is read with the operator's AWS credentials, so it must not be reachable
 * by anyone else. Nothing is deployed for it. Read-only, GET only.
 *
 *   /_local/…, /documents/…                the site of --site (the page as npm start serves it)
 *   /sites/<id>/_local/…, /sites/<id>/documents/…   any site of the fleet (the fleet page links there)
 *   /_local/fleet                          the fleet scan: progress and one row per site (--fleet)
 */

/** What the console shows of one site: its label, its data endpoints and its documents (through the document API). */
export interface ConsoleSite {
  readonly label: SiteLabel;
  readonly endpoints: Readonly<Record<string, ConsoleEndpoint>>;
  readonly documents: {
    get(documentId: string): Promise<unknown | undefined>;
    ladder(): Promise<unknown>;
  };
}

export interface ConsoleServerOptions {
  /** The site the root paths show (--site); absent in fleet mode, where / is the fleet page. */
  readonly siteId?: string;
  /** A site by id (resolved once, then kept). */
  readonly siteOf: (siteId: string) => Promise<ConsoleSite>;
  /** The fleet scan, in fleet mode. */
  readonly fleet?: ConsoleEndpoint;
  readonly port?: number;
  /** Told of a failed read: the error's name and first line (never a payload). */
  readonly onError?: (error: Error) => void;
}

export type RunningConsole = Listening;

const HOST = '127.0.0.1';

export async function startConsoleServer(options: ConsoleServerOptions): Promise<RunningConsole> {
  const sites = new Map<string, Promise<ConsoleSite>>();
  const siteOf = (id: string) => {
    let site = sites.get(id);
    if (!site) {
      site = options.siteOf(id);
      // A site that failed to resolve is asked again next time (credentials fixed, stack deployed).
      site.catch(() => sites.delete(id));
      sites.set(id, site);
    }
    return site;
  };
  const server = createServer((req, res) => {
    handle(req, res, options, siteOf).catch((error: unknown) => {
      options.onError?.(error as Error);
      if (!res.headersSent) json(res, error instanceof NotFound ? 404 : 502, { error: oneLine(error as Error) });
      else res.destroy();
    });
  });
  return listenOn(server, options.port ?? 0, HOST);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: ConsoleServerOptions,
  siteOf: (id: string) => Promise<ConsoleSite>,
): Promise<void> {
  if (!servesHost(req.headers.host, HOST)) return text(res, 421, `${MISDIRECTED}\n`);
  if (req.method !== 'GET') return json(res, 405, { error: 'the console only reads: GET' });
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?', 2);
  const query = new URLSearchParams(rawQuery);
  let segments: string[];
  try {
    segments = rawPath.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return json(res, 400, { error: 'the path is not valid percent-encoding' });
  }
  if (segments.length === 0) {
    res.writeHead(302, { Location: options.fleet ? '/_local/fleet.html' : '/_local/' });
    return void res.end();
  }
  let siteId = options.siteId;
  if (segments[0] === 'sites' && segments[1]) {
    siteId = segments[1];
    segments = segments.slice(2);
  }
  const [area, name = '', ...rest] = segments;
  if (area === '_local') {
    if (name === 'fleet' && options.fleet) return json(res, 200, await options.fleet(query, rest));
    if (name === 'vocabulary') return json(res, 200, vocabulary());
    const file = consoleFile(fileURLToPath(CONSOLE_DIR), name === '' ? 'index.html' : name);
    if (file) {
      res.writeHead(file.statusCode, file.headers);
      return void res.end(file.body);
    }
    if (!siteId) return json(res, 404, { error: 'no site here: open the fleet page, or start with --site <id>' });
    const site = await siteOf(siteId);
    const endpoint = site.endpoints[name];
    if (!endpoint) return json(res, 404, { error: 'no such console endpoint' });
    return json(res, 200, await endpoint(query, rest));
  }
  if (area === 'documents' && siteId) {
    const site = await siteOf(siteId);
    if (name === '') {
      if (query.get('ladder') === 'true') return json(res, 200, await site.documents.ladder());
      return json(res, 404, { error: 'the console reads one document, or the ladder (?ladder=true)' });
    }
    const view = await site.documents.get(name);
    return view === undefined ? json(res, 404, { error: `no document ${JSON.stringify(name)}` }) : json(res, 200, view);
  }
  return json(res, 404, { error: 'not a console path' });
}

const oneLine = (error: Error) => `${error.name}: ${error.message.split('\n')[0]}`;

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}
