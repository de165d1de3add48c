import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { extname, join } from 'node:path';

/*
 * What every server of the console shares, `npm start`'s gateway (local/gateway.ts) and `n3-callback console`
 * (console/server.ts): the DNS-rebinding guard and the console's static files.
 */

/*
 * DNS rebinding: a page on evil.example whose name is then pointed at 127.0.0.1 is same-origin with this
 * server in the browser, and could read the console's bodies and the document API. The browser still
 * sends `Host: evil.example`; so what reads stored data answers only for the names this server is reached
 * by: localhost, an IP address (an address cannot be rebound) and HOST. The port is not checked: a page
 * cannot choose it apart from the name, and a port forward (ssh -L 8080:localhost:3000) should still work.
 */
export const MISDIRECTED =
  'this host name is not served here (DNS rebinding guard): open it as localhost or 127.0.0.1, or start with HOST=<that name>';

export function servesHost(hostHeader: string | undefined, configuredHost: string): boolean {
  // A client without Host (HTTP/1.0) is no browser; Node answers HTTP/1.1 without Host with a 400 itself.
  if (hostHeader === undefined) return true;
  const name = (hostHeader.startsWith('[') ? hostHeader.slice(1).split(']')[0]! : hostHeader.split(':')[0]!)
    .toLowerCase()
    .replace(/\.$/, '');
  return name === 'localhost' || isIP(name) !== 0 || name === configuredHost.toLowerCase().replace(/^\[|\]$/g, '');
}

/** The console's page, scripts and styles (plain files, no build step). */
export const CONSOLE_DIR = new URL('../local/console/', import.meta.url);

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface StaticFile {
  readonly statusCode: 200;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A file of the console folder by its plain name (no paths: nothing outside the folder is served). */
export function consoleFile(dir: string, name: string): StaticFile | undefined {
  const type = CONTENT_TYPES[extname(name)];
  if (!type || !/^[\w.-]+$/.test(name)) return undefined;
  try {
    return {
      statusCode: 200,
      headers: { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'self'; style-src 'self'" },
      body: readFileSync(join(dir, name), 'utf8'),
    };
  } catch {
    return undefined;
  }
}

/** A local server listening: its URL (an IPv6 address bracketed), and a close that also ends kept-alive connections. */
export interface Listening {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Listens on `host` (port 0: any free one) and says where: npm start's gateway and `n3-callback console` alike. */
export async function listenOn(server: Server, port: number, host: string): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${bound}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
