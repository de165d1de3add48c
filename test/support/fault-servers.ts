import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';

/*
 * Services that misbehave in the ways a network does, for the deadline tests: each listens on 127.0.0.1 at a
 * port of its own and counts the connections it got, so a test can tell "cut off" from "never reached".
 */

export interface FaultServer {
  /** `http://127.0.0.1:<port>`, to give an SDK client as its endpoint. */
  readonly endpoint: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Accepts every connection and never answers, never closes: a hung service behind a live load balancer. */
export function blackHole(): Promise<FaultServer> {
  return listen(createServer(() => {}));
}

/**
 * Reads each request whole, then answers 200 with an empty JSON body only after `delayMs`: a service that
 * works, too late. (What it answers does not matter: the call must have been given up before it comes.)
 */
export function slowServer(delayMs: number): Promise<FaultServer> {
  const timers = new Set<NodeJS.Timeout>();
  const server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
      }, delayMs);
      timers.add(timer);
    });
  });
  return listen(server, () => {
    for (const timer of timers) clearTimeout(timer);
  });
}

/**
 * Answers each request's headers at once (200, a body of 1,000 bytes announced) and then never sends the body:
 * past the per-attempt request timeout (which ends at the headers), only the socket and overall deadlines hold.
 */
export function stallingServer(): Promise<FaultServer> {
  const server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': '1000' });
      response.flushHeaders();
    });
  });
  return listen(server);
}

function listen(server: Server, onClose?: () => void): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('a fault server needs a TCP port');
      resolve({
        endpoint: `http://127.0.0.1:${address.port}`,
        connections: () => accepted,
        close: () =>
          new Promise<void>((done) => {
            onClose?.();
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
