import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import type { Ack } from '../contract/ack';
import { SIMULATION_HEADER } from '../contract/envelope';
import { MESSAGE_TYPES, type MessageType, messageSpec } from '../contract/catalog';
import { UsageError } from './target';
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

export interface ScenarioResult {
  readonly name: string;
  readonly ok: boolean;
  readonly expected: string;
  readonly got: string;
  readonly ms: number;
}

/*
 * Simulated messages look real (the spec's examples: fixed document ids, a final REMD registration, an
 * `Lpu` that may be on a site's allowlist), so each one is marked for the MIS: every request carries the
 * X-N3-Simulation header (the run id), which the endpoint keeps and puts in the envelope (`simulation`).
 * Against anything but `npm start` the simulator also needs a test organisation (`Lpu`) and/or a prefix
 * for the document ids (main.ts refuses otherwise), so that even an MIS that ignores the mark files
 * nothing under a real organisation or document.
 */
export interface SimulationMarking {
  /** Sent as X-N3-Simulation on every request; the envelope's `simulation.runId`. */
  readonly runId: string;
  /** Every message's `Lpu`. */
  readonly lpu?: string;
  /** Put before every document id (each type's document key: IdMedDocumentMis, IdSourceMis, IdMSEMis, IdDocumentMis). */
  readonly documentPrefix?: string;
}

/** What a scenario sends with: the base URL and the marking, on every request. */
interface Sender {
  readonly base: string;
  /** The spec's example of the type, with a fresh MessageId, the test Lpu and the document id prefix. */
  example(type: MessageType): Record<string, unknown>;
  post(path: string, body: string): Promise<Answer>;
  rawPost(path: string, body: Buffer, headers: Record<string, string>): Promise<Answer>;
  sendAndHangUp(path: string, body: Buffer): Promise<void>;
}

interface Scenario {
  readonly name: string;
  readonly run: (sender: Sender) => Promise<Array<[Answer, Expectation]>>;
}

const EXAMPLES_DIR = new URL('../examples/', import.meta.url);
const EXAMPLES = Object.fromEntries(
  MESSAGE_TYPES.map((type) => [type, JSON.parse(readFileSync(new URL(`${type}.json`, EXAMPLES_DIR), 'utf8')) as Record<string, unknown>]),
) as Record<MessageType, Record<string, unknown>>;

/** A run id for X-N3-Simulation: the time (to sort runs by) and a random part. */
export const newRunId = (): string => `sim-${new Date().toISOString().replace(/[-:]|\.\d+Z$/g, '')}-${randomUUID().slice(0, 8)}`;

/**
 * The marking of a run: always the run id; against anything but `npm start` (`local`: it described itself
 * at /_local/info), a test `Lpu` and/or a document id prefix, or a one-line refusal.
 */
export function markingFor(
  base: string,
  local: boolean,
  flags: { readonly 'test-lpu'?: string; readonly 'doc-prefix'?: string },
  runId = newRunId(),
): SimulationMarking {
  const lpu = flags['test-lpu'];
  const documentPrefix = flags['doc-prefix'];
  if (lpu !== undefined && !TEST_LPU.test(lpu))
    throw new UsageError('--test-lpu takes the Lpu of a test organisation the site serves: 1-256 characters, no control characters');
  if (documentPrefix !== undefined && !DOCUMENT_PREFIX.test(documentPrefix))
    throw new UsageError('--doc-prefix takes 1-64 characters without spaces or control characters, e.g. TEST-');
  if (!local && lpu === undefined && documentPrefix === undefined)
    throw new UsageError(
      `${base} is not npm start, and simulated callbacks look real to its MIS: pass --test-lpu <a test organisation's Lpu> and/or --doc-prefix <e.g. TEST->`,
    );
  return { runId, ...(lpu !== undefined ? { lpu } : {}), ...(documentPrefix !== undefined ? { documentPrefix } : {}) };
}

// As the endpoint checks an Lpu (fields.ts attributeId); a prefix stays visible in any listing.
const TEST_LPU = /^[^\p{Cc}\p{Cs}\uFFFE\uFFFF]{1,256}$/u;
const DOCUMENT_PREFIX = /^[^\p{Cc}\p{Z}]{1,64}$/u;

export function senderFor(base: string, marking: SimulationMarking): Sender {
  const mark = { [SIMULATION_HEADER]: marking.runId };
  return {
    base,
    example: (type) => {
      const body: Record<string, unknown> = { ...EXAMPLES[type], MessageId: randomUUID() };
      if (marking.lpu !== undefined) body.Lpu = marking.lpu;
      const key = messageSpec(type).documentKey;
      if (marking.documentPrefix !== undefined) body[key] = `${marking.documentPrefix}${String(body[key])}`;
      return body;
    },
    post: (path, body) => post(base, path, body, mark),
    rawPost: (path, body, headers) => rawPost(new URL(path, base), body, { ...mark, ...headers }),
    sendAndHangUp: (path, body) => sendAndHangUp(new URL(path, base), body, mark),
  };
}

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
    run: async (s: Sender) => {
      const body = s.example(type);
      return [[await s.post(type, JSON.stringify(body)), success(body)]] as Array<[Answer, Expectation]>;
    },
  })),
  {
    name: 'duplicate: the same message again',
    run: async (s) => {
      const body = s.example('REMDStatus');
      const first = await s.post('REMDStatus', JSON.stringify(body));
      const second = await s.post('REMDStatus', JSON.stringify(body));
      return [
        [first, success(body)],
        [second, success(body)],
      ];
    },
  },
  {
    name: 'concurrent duplicates: 10 at once',
    run: async (s) => {
      const body = s.example('SEMDStatus');
      const answers = await Promise.all(Array.from({ length: 10 }, () => s.post('SEMDStatus', JSON.stringify(body))));
      return answers.map((answer) => [answer, success(body)] as [Answer, Expectation]);
    },
  },
  {
    name: 'retry after an unanswered attempt',
    run: async (s) => {
      const body = s.example('MseResult');
      await s.sendAndHangUp('MseResult', Buffer.from(JSON.stringify(body)));
      return [[await s.post('MseResult', JSON.stringify(body)), success(body)]];
    },
  },
  {
    name: 'large CDA (≈3 MB body)',
    run: async (s) => {
      const body = { ...s.example('CDAStatus'), CDA: Buffer.alloc(2_200_000, 'PDF-1.7 ').toString('base64') };
      return [[await s.post('CDAStatus', JSON.stringify(body)), success(body)]];
    },
  },
  {
    name: '.NET habits: BOM, charset, Expect: 100-continue, chunked',
    run: async (s) => {
      const body = s.example('VimisResult');
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(body))]);
      return [[await s.rawPost('VimisResult', bytes, { Expect: '100-continue', 'Transfer-Encoding': 'chunked' }), success(body)]];
    },
  },
  {
    name: 'base URL with a trailing slash: [base]//Type',
    run: async (s) => {
      const body = s.example('MseResultData');
      return [[await s.post('/MseResultData', JSON.stringify(body)), success(body)]];
    },
  },
  {
    name: 'table spellings IdSourse and StatusСode',
    run: async (s) => {
      const { IdSource, StatusCode, ...rest } = s.example('VimisResult');
      const body = { ...rest, IdSourse: IdSource, 'Status\u0421ode': StatusCode };
      return [[await s.post('VimisResult', JSON.stringify(body)), success(body)]];
    },
  },
  {
    name: 'rejected: same MessageId, other content',
    run: async (s) => {
      const body = s.example('REMDStatus');
      const first = await s.post('REMDStatus', JSON.stringify(body));
      const other = await s.post('REMDStatus', JSON.stringify({ ...body, Status: 'Failed', Message: 'Ошибка регистрации' }));
      return [
        [first, success(body)],
        [other, failed(409, body)],
      ];
    },
  },
  {
    name: 'rejected: a required field missing',
    run: async (s) => {
      const { IdFedRequest: _omitted, ...body } = s.example('REMDStatus');
      return [[await s.post('REMDStatus', JSON.stringify(body)), failed(400, body, 'IdFedRequest')]];
    },
  },
  {
    name: 'rejected: unknown message type',
    run: async (s) => {
      const body = s.example('SEMDStatus');
      return [[await s.post('SEMDStatusV2', JSON.stringify(body)), failed(404, body)]];
    },
  },
  {
    name: 'rejected: body over 4 MiB',
    run: async (s) => {
      const body = { ...s.example('CDAStatus'), CDA: 'A'.repeat(4_500_000) };
      return [[await s.post('CDAStatus', JSON.stringify(body)), failed(413)]];
    },
  },
];

export async function simulate(base: string, options: { only?: RegExp; marking?: SimulationMarking } = {}): Promise<ScenarioResult[]> {
  const sender = senderFor(base, options.marking ?? { runId: newRunId() });
  const chosen = SCENARIOS.filter((s) => !options.only || options.only.test(s.name));
  const progress = new Progress(chosen.length);
  const results: ScenarioResult[] = [];
  for (const [index, scenario] of chosen.entries()) {
    progress.update(index, scenario.name);
    const started = Date.now();
    let checks: Array<[Answer, Expectation]>;
    try {
      checks = await scenario.run(sender);
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

async function post(base: string, path: string, body: string, mark: Record<string, string>): Promise<Answer> {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...mark },
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
function sendAndHangUp(url: URL, body: Buffer, mark: Record<string, string>): Promise<void> {
  return new Promise((resolve) => {
    const req = requester(url)(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, ...mark },
    });
    req.on('error', () => resolve());
    req.end(body, () => {
      req.destroy();
      resolve();
    });
  });
}
