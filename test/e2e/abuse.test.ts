import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '../../contract/ack';
import type { InMemoryQueue } from '../../testing/fakes';
import { inMemoryGateway } from '../support/in-memory-gateway';
import { freshMessage } from '../../testing/messages';

/*
 * Hostile input against the local HTTP adapter and the real handler (instant in-memory ports):
 * each is answered with a Failed ack or rejected by the adapter, the process stays up, and
 * memory stays bounded. Raw sockets and node:http, because fetch would tidy the requests up.
 */

let gateway: Awaited<ReturnType<typeof inMemoryGateway>>;
let port: number;
let queue: InMemoryQueue;

beforeAll(async () => {
  gateway = await inMemoryGateway({ headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 });
  queue = gateway.deps.ports.queue as InMemoryQueue;
  port = gateway.port;
});
afterAll(() => gateway?.close());

interface Reply {
  status: number;
  body: string;
}

function send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'Content-Type': 'application/json', ...headers } });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const ackOf = (reply: Reply) => JSON.parse(reply.body) as Ack;
const stillServes = async () => {
  const reply = await send('POST', '/MseResult', JSON.stringify(freshMessage('MseResult')));
  expect([reply.status, ackOf(reply).Status]).toEqual([200, 'Success']);
};

describe('abuse of the local endpoint', () => {
  it.each([
    ['traversal', '/../../etc/passwd'],
    ['encoded traversal', '/%2e%2e/%2e%2e/etc/passwd'],
    ['traversal between types', '/CDAStatus/../REMDStatus'],
    ['NUL byte', '/CDAStatus%00'],
    ['type twice', '/MseResult/MseResult'],
    ['8,000-character segment', `/${'A'.repeat(8_000)}`],
  ])('answers an odd path (%s) with a 404 Failed ack, never a route it was not meant for', async (_name, path) => {
    const reply = await send('POST', path, JSON.stringify(freshMessage('MseResult')));
    expect(reply.status).toBe(404);
    expect(ackOf(reply).Status).toBe('Failed');
    await stillServes();
  });

  it('refuses headers larger than the adapter takes, and keeps serving', async () => {
    const reply = await send('POST', '/MseResult', '{}', { 'X-Padding': 'x'.repeat(64 * 1024) });
    expect(reply.status).toBe(431);
    expect(ackOf(reply)).toEqual({ MessageId: '', Message: 'Сообщение отклонено: заголовки запроса больше 16 КБ', Status: 'Failed' });
    await stillServes();
  });

  it('answers deeply nested JSON with 400 instead of exhausting the stack', async () => {
    const body = JSON.stringify(freshMessage('MseResult')).replace(/}$/, `,"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    const reply = await send('POST', '/MseResult', body);
    expect(reply.status).toBe(400);
    expect(ackOf(reply).Message).toContain('вложенность');
    await stillServes();
  });

  it('refuses a message with 10,000 extra fields from its pre-scan, naming the limit, and takes one at the cap of 200', async () => {
    const extra = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`Field${i}`, i]));
    const reply = await send('POST', '/MseResult', JSON.stringify({ ...freshMessage('MseResult'), ...extra(10_000) }));
    expect([reply.status, ackOf(reply).Status]).toEqual([413, 'Failed']);
    expect(ackOf(reply).Message).toContain('10000 полей вне таблицы типа в одном объекте JSON, максимум 200');
    const atCap = await send('POST', '/MseResult', JSON.stringify({ ...freshMessage('MseResult'), ...extra(200) }));
    expect([atCap.status, ackOf(atCap).Status]).toEqual([200, 'Success']);
    await stillServes();
  });

  it('refuses integers beyond 2^53 in typed fields, naming them', async () => {
    const body = JSON.stringify(freshMessage('SEMDStatus')).replace(/"IdMedDocument":\d+/, '"IdMedDocument":12345678901234567890');
    const reply = await send('POST', '/SEMDStatus', body);
    expect(reply.status).toBe(400);
    expect(ackOf(reply).Message).toContain('IdMedDocument — целое число вне допустимого диапазона');
  });

  it('refuses bytes that are not UTF-8', async () => {
    const body = Buffer.concat([Buffer.from('{"MessageId":"'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('"}')]);
    const reply = await send('POST', '/MseResult', body);
    expect(reply.status).toBe(400);
    expect(ackOf(reply).Message).toContain('UTF-8');
  });

  it('cuts off a sender that trickles its headers (slowloris), while others are served', async () => {
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const trickle = trickleInto(socket, 'POST /MseResult HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'y'.repeat(100));
    await stillServes();
    await closed; // the server hung up on it: headersTimeout
    trickle.stop();
  });

  it('cuts off a sender that trickles its body, while others are served', async () => {
    const socket = connect(port, '127.0.0.1');
    const replyText = collect(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST /MseResult HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n');
    const trickle = trickleInto(socket, '{"a":"' + 'z'.repeat(1000));
    await stillServes();
    const text = await replyText;
    trickle.stop();
    expect(text === '' || text.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('holds at most its 10 MB cap of a 60 MB body it refuses', async () => {
    // What a body occupies lives in Buffers (`arrayBuffers`), not on the JS heap. Sampled after a full
    // collection while the body streams in, so only what the gateway still holds is counted.
    const live = () => {
      collectGarbage();
      return process.memoryUsage().arrayBuffers;
    };
    const before = live();
    let peak = 0;
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/CDAStatus', headers: { 'Transfer-Encoding': 'chunked' } });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      // The server answers 413 and hangs up while we are still writing: that EPIPE is expected.
      req.on('error', (error: NodeJS.ErrnoException) =>
        error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
      );
      let sent = 0;
      const pump = () => {
        while (sent < 60) {
          sent++;
          if (sent % 4 === 0) peak = Math.max(peak, live() - before);
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(reply.status).toBe(413);
    expect(ackOf(reply).Status).toBe('Failed');
    // Past 10 MB the gateway drops what it held and only counts; without that cap this peak passes 40 MB.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(16 * 1024 * 1024);
    await stillServes();
  });

  it('has forwarded only the valid messages through all of this', () => {
    expect(queue.delivered.length).toBeGreaterThan(0);
    for (const message of queue.delivered) expect(JSON.parse(message.body).messageType).toBe('MseResult');
  });
});

/** A full collection, whether or not the worker was started with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
}

/** Writes one byte every 300 ms until stopped. */
function trickleInto(socket: Socket, text: string) {
  socket.on('error', () => undefined); // the server hanging up on us is the point
  let index = 0;
  const timer = setInterval(() => {
    if (index >= text.length || socket.destroyed) return clearInterval(timer);
    socket.write(text[index++]!);
  }, 300);
  return {
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

function collect(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.once('close', () => resolve(text));
  });
}
