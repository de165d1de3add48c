import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import type { Ack } from '../contract/ack';
import { MESSAGE_TYPES, type MessageType } from '../contract/catalog';
import { Progress, paint, printable, table } from './ui';

/*
 * An N3 sender simulator: what the regional platform will do to an endpoint, checked ack by
 * ack, so an integrator can prove a site before go-live. Works against `npm start` and a
 * deployed stack alike (it only speaks HTTP to the base URL).
 */

interface Answer {
  readonly status: number;
  readonly ack: Ack | undefined;
  readonly raw: string;
}

interface Expectation {
  readonly status: number;
  readonly ackStatus: 'Success' | 'Failed';
  /** The ack echoes this MessageId. */
  readonly messageId?: string;
  /** The ack's Message names this (a field, say). */
  readonly mentions?: string;
}

interface Scenario {
  readonly name: string;
  readonly run: (base: string) => Promise<Array<[Answer, Expectation]>>;
}

export interface ScenarioResult {
  readonly name: string;
  readonly ok: boolean;
  readonly expected: string;
  readonly got: string;
  readonly ms: number;
}

const EXAMPLES_DIR = new URL('../examples/', import.meta.url);
const example = (type: MessageType): Record<string, unknown> => ({
  ...(JSON.parse(readFileSync(new URL(`${type}.json`, EXAMPLES_DIR), 'utf8')) as Record<string, unknown>),
  MessageId: randomUUID(),
});
const success = (body: Record<string, unknown>): Expectation => ({ status: 200, ackStatus: 'Success', messageId: String(body.MessageId) });
const failed = (status: number, body?: Record<string, unknown>, mentions?: string): Expectation => ({
  status,
  ackStatus: 'Failed',
  ...(body ? { messageId: String(body.MessageId) } : {}),
  ...(mentions ? { mentions } : {}),
});

export const SCENARIOS: readonly Scenario[] = [
  ...MESSAGE_TYPES.map((type) => ({
    name: `spec example: ${type}`,
    run: async (base: string) => {
      const body = example(type);
      return [[await post(base, type, JSON.stringify(body)), success(body)]] as Array<[Answer, Expectation]>;
    },
  })),
  {
    name: 'duplicate: the same message again',
    run: async (base) => {
      const body = example('REMDStatus');
      const first = await post(base, 'REMDStatus', JSON.stringify(body));
      const second = await post(base, 'REMDStatus', JSON.stringify(body));
      return [
        [first, success(body)],
        [second, success(body)],
      ];
    },
  },
  {
    name: 'concurrent duplicates: 10 at once',
    run: async (base) => {
      const body = example('SEMDStatus');
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(base, 'SEMDStatus', JSON.stringify(body))));
      return answers.map((answer) => [answer, success(body)] as [Answer, Expectation]);
    },
  },
  {
    name: 'retry after an unanswered attempt',
    run: async (base) => {
      const body = example('MseResult');
      await sendAndHangUp(new URL('MseResult', base), Buffer.from(JSON.stringify(body)));
      return [[await post(base, 'MseResult', JSON.stringify(body)), success(body)]];
    },
  },
  {
    name: 'large CDA (≈3 MB body)',
    run: async (base) => {
      const body = { ...example('CDAStatus'), CDA: Buffer.alloc(2_200_000, 'PDF-1.7 ').toString('base64') };
      return [[await post(base, 'CDAStatus', JSON.stringify(body)), success(body)]];
    },
  },
  {
    name: '.NET habits: BOM, charset, Expect: 100-continue, chunked',
    run: async (base) => {
      const body = example('VimisResult');
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(body))]);
      return [
        [await rawPost(new URL('VimisResult', base), bytes, { Expect: '100-continue', 'Transfer-Encoding': 'chunked' }), success(body)],
      ];
    },
  },
  {
    name: 'base URL with a trailing slash: [base]//Type',
    run: async (base) => {
      const body = example('MseResultData');
      return [[await post(base, '/MseResultData', JSON.stringify(body)), success(body)]];
    },
  },
  {
    name: 'table spellings IdSourse and StatusСode',
    run: async (base) => {
      const { IdSource, StatusCode, ...rest } = example('VimisResult');
      const body = { ...rest, IdSourse: IdSource, 'Status\u0421ode': StatusCode };
      return [[await post(base, 'VimisResult', JSON.stringify(body)), success(body)]];
    },
  },
  {
    name: 'rejected: same MessageId, other content',
    run: async (base) => {
      const body = example('REMDStatus');
      const first = await post(base, 'REMDStatus', JSON.stringify(body));
      const other = await post(base, 'REMDStatus', JSON.stringify({ ...body, Status: 'Failed', Message: 'Ошибка регистрации' }));
      return [
        [first, success(body)],
        [other, failed(409, body)],
      ];
    },
  },
  {
    name: 'rejected: a required field missing',
    run: async (base) => {
      const { IdFedRequest: _omitted, ...body } = example('REMDStatus');
      return [[await post(base, 'REMDStatus', JSON.stringify(body)), failed(400, body, 'IdFedRequest')]];
    },
  },
  {
    name: 'rejected: unknown message type',
    run: async (base) => {
      const body = example('SEMDStatus');
      return [[await post(base, 'SEMDStatusV2', JSON.stringify(body)), failed(404, body)]];
    },
  },
  {
    name: 'rejected: body over 4 MiB',
    run: async (base) => {
      const body = { ...example('CDAStatus'), CDA: 'A'.repeat(4_500_000) };
      return [[await post(base, 'CDAStatus', JSON.stringify(body)), failed(413)]];
    },
  },
];

export async function simulate(base: string, options: { only?: RegExp } = {}): Promise<ScenarioResult[]> {
  const chosen = SCENARIOS.filter((s) => !options.only || options.only.test(s.name));
  const progress = new Progress(chosen.length);
  const results: ScenarioResult[] = [];
  for (const [index, scenario] of chosen.entries()) {
    progress.update(index, scenario.name);
    const started = Date.now();
    let checks: Array<[Answer, Expectation]>;
    try {
      checks = await scenario.run(base);
    } catch (error) {
      results.push({ name: scenario.name, ok: false, expected: '—', got: `error: ${(error as Error).message}`, ms: Date.now() - started });
      continue;
    }
    const failures = checks.map(([answer, expectation]) => mismatch(answer, expectation)).filter((m): m is string => m !== undefined);
    // The last check is the point of a scenario (the re-send, the conflicting copy…).
    const [lastAnswer, lastExpectation] = checks.at(-1)!;
    results.push({
      name: scenario.name,
      ok: failures.length === 0,
      expected: describe(lastExpectation) + (checks.length > 1 ? ` (${checks.length} requests)` : ''),
      got: failures[0] ?? `${lastAnswer.status} ${lastAnswer.ack?.Status ?? ''}`.trim(),
      ms: Date.now() - started,
    });
  }
  progress.done();
  return results;
}

export function report(results: readonly ScenarioResult[]): string {
  const rows = results.map((r, i) => [
    String(i + 1),
    r.name,
    r.expected,
    // What the endpoint answered: its ack text and MessageId are whatever that server sent.
    printable(r.got),
    r.ok ? paint('green', 'PASS') : paint('red', 'FAIL'),
    `${r.ms} ms`,
  ]);
  const passed = results.filter((r) => r.ok).length;
  return `${table(['#', 'scenario', 'expected', 'got', 'result', 'time'], rows)}\n\n${passed} passed, ${results.length - passed} failed`;
}

function describe(e: Expectation): string {
  return `${e.status} ${e.ackStatus}${e.mentions ? ` naming ${e.mentions}` : ''}`;
}

function mismatch(answer: Answer, e: Expectation): string | undefined {
  if (!answer.ack) return `${answer.status}, not an ack: ${answer.raw.slice(0, 60)}`;
  if (answer.status !== e.status || answer.ack.Status !== e.ackStatus)
    return `${answer.status} ${answer.ack.Status}: ${answer.ack.Message.slice(0, 80)}`;
  if (e.messageId !== undefined && answer.ack.MessageId !== e.messageId) return `ack echoes MessageId "${answer.ack.MessageId}"`;
  if (e.mentions && !answer.ack.Message.includes(e.mentions)) return `ack does not name ${e.mentions}: ${answer.ack.Message.slice(0, 80)}`;
  return undefined;
}

async function post(base: string, path: string, body: string): Promise<Answer> {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return toAnswer(response.status, await response.text());
}

function toAnswer(status: number, raw: string): Answer {
  try {
    const ack = JSON.parse(raw) as Ack;
    const isAck =
      typeof ack?.MessageId === 'string' && typeof ack.Message === 'string' && (ack.Status === 'Success' || ack.Status === 'Failed');
    return { status, ack: isAck ? ack : undefined, raw };
  } catch {
    return { status, ack: undefined, raw };
  }
}

const requester = (url: URL) => (url.protocol === 'https:' ? requestTls : request);

/** POST with node:http, body in two chunks after the server's 100 Continue. */
function rawPost(url: URL, body: Buffer, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = requester(url)(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
      timeout: 30_000,
    });
    const write = () => {
      req.write(body.subarray(0, body.length >> 1));
      req.end(body.subarray(body.length >> 1));
    };
    if (headers.Expect) req.once('continue', write);
    else write();
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(toAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Sends a whole message, then hangs up without reading the ack: the sender's "no answer". */
function sendAndHangUp(url: URL, body: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const req = requester(url)(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length },
    });
    req.on('error', () => resolve());
    req.end(body, () => {
      req.destroy();
      resolve();
    });
  });
}
