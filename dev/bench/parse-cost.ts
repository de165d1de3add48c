import '../../local/quiet-sdk-warning';
import { randomUUID } from 'node:crypto';
import { MAX_BODY_BYTES, MAX_EXTRA_KEYS, MAX_JSON_TOKENS } from '../../contract/limits';
import { asLambda } from '../../lambdas/handlers/middleware';
import { createReceiveHandler, type ReceiveDeps } from '../../lambdas/handlers/receive-handler';
import { wireSite } from '../../lambdas/handlers/wiring';
import type { MessageType } from '../../contract/catalog';
import { lambdaContext } from '../../local/gateway';
import { InMemoryRejectedStore } from '../../testing/fakes';
import { proxyEvent } from '../../testing/events';
import { EXAMPLES } from '../../testing/messages';
import { cannedAws } from './canned-aws';
import { SITE_ENV } from './site-env';

/*
 * M10, parse cost (issue 24, finding 3): the slowest body the receiver still acks Success, measured.
 * Several shapes are built at the caps (contract/limits.ts: extra keys per object, JSON tokens per body, and
 * the body size), each the worst of its kind that this author could think of; each must be acked Success (or
 * the run fails: it would not be a valid body), and the slowest is the figure. Beside it, the body that
 * prompted the caps: a REMDStatus with 300,000 extra keys, measured with the caps lifted (as the code was
 * before them), and the time the capped receiver takes to refuse it.
 * Run in a child process whose stdout (the logs) goes nowhere, as M3: the deployed wrapping (Powertools logs
 * and EMF metrics), real SDK clients on the canned transport (so the S3 claim check's serialisation, checksum
 * and signing run, but no network). CPU time of the process per request (process.cpuUsage: every thread,
 * the garbage collector's included, as Lambda's CPU share covers them all).
 * Standalone: `node --import tsx dev/bench/parse-cost.ts > /dev/null` prints the report on stderr (BENCH_PARSE_RUNS: runs per shape, 5).
 */

export interface ParseShape {
  readonly name: string;
  readonly description: string;
  readonly type: MessageType;
  readonly bytes: number;
  readonly tokens: number;
  readonly mostExtraKeys: number;
  /** CPU milliseconds per request, one per measured run (after one warm-up run). */
  readonly cpuMs: number[];
  readonly medianCpuMs: number;
  readonly httpStatus: number;
}

export interface ParseCostReport {
  readonly caps: { readonly maxExtraKeys: number; readonly maxTokens: number; readonly maxBodyBytes: number };
  readonly runs: number;
  /** Every shape tried at the caps, all acked Success. */
  readonly shapes: ParseShape[];
  /** The name of the shape with the largest median. */
  readonly slowest: string;
  /** The 300,000-extra-key body with the caps lifted: what the receiver did before them (acked Success). */
  readonly beforeCaps: ParseShape;
  /** The same body through the capped receiver: refused (413) from the pre-scan; CPU per request. */
  readonly refusedMedianCpuMs: number;
}

const PLACEHOLDER = '00000000-0000-4000-8000-000000000000';

/** A valid message of the type with `extra` (JSON members, no braces) after its own fields; MessageId replaced per request. */
function withExtras(type: MessageType, extra: string): string {
  const base = JSON.stringify({ ...EXAMPLES[type], MessageId: PLACEHOLDER });
  return extra ? `${base.slice(0, -1)},${extra}}` : base;
}

/** Keys and values of the message's own fields, and its root object: the tokens every shape starts with. */
const baseTokens = (type: MessageType) => 1 + 2 * Object.keys(EXAMPLES[type]).length;

const fill = (budget: number, unit: number) => Math.floor(budget / unit);

interface Built {
  readonly name: string;
  readonly description: string;
  readonly type: MessageType;
  readonly body: string;
  readonly tokens: number;
  readonly mostExtraKeys: number;
}

/** Bytes left for the shape's own content, with room for the MessageId and the separators. */
const room = (type: MessageType) => MAX_BODY_BYTES - Buffer.byteLength(withExtras(type, '')) - 64;

function shapes(): Built[] {
  const built: Built[] = [];
  const type: MessageType = 'REMDStatus';
  const tokensLeft = MAX_JSON_TOKENS - baseTokens(type);

  {
    // Every token a key or its value, every object at the extra-key cap, keys as long as the bytes allow and
    // alike but for their last characters: the canonical form sorts every object, comparing whole keys.
    const perObject = 2 + 2 * MAX_EXTRA_KEYS; // its key, the object, and its members' keys and values
    const objects = Math.min(MAX_EXTRA_KEYS, fill(tokensLeft, perObject));
    const scalars = Math.min(MAX_EXTRA_KEYS - objects, fill(tokensLeft - objects * perObject, 2));
    const keys = objects * (MAX_EXTRA_KEYS + 1) + scalars;
    const keyLength = fill(room(type), keys) - 6; // "key":0, plus an object's braces spread over its members
    const key = (i: number) => {
      const suffix = i.toString(36);
      return `${'k'.repeat(keyLength - suffix.length)}${suffix}`;
    };
    const members = (from: number, n: number) => Array.from({ length: n }, (_, i) => `"${key(from + i)}":0`).join(',');
    const parts: string[] = [];
    for (let o = 0; o < objects; o++) parts.push(`"${key(o)}":{${members(MAX_EXTRA_KEYS * (o + 1), MAX_EXTRA_KEYS)}}`);
    if (scalars > 0) parts.push(members(objects, scalars));
    built.push({
      name: 'keys',
      description: `${objects} objects of ${MAX_EXTRA_KEYS} members and ${scalars} more extra fields; keys of ${keyLength} characters alike but for the end`,
      type,
      body: withExtras(type, parts.join(',')),
      tokens: baseTokens(type) + objects * perObject + scalars * 2,
      mostExtraKeys: MAX_EXTRA_KEYS,
    });
  }
  {
    // Every token a string value in one array: each is checked as Unicode text, escaped and hashed.
    const strings = tokensLeft - 2;
    const length = fill(room(type), strings) - 3;
    const value = `"${'ж'.repeat(Math.floor(length / 2))}"`;
    built.push({
      name: 'strings',
      description: `one extra array of ${strings.toLocaleString('en')} Cyrillic strings of ${Math.floor(length / 2)} characters`,
      type,
      body: withExtras(type, `"a":[${Array.from({ length: strings }, () => value).join(',')}]`),
      tokens: MAX_JSON_TOKENS,
      mostExtraKeys: 1,
    });
  }
  {
    // Every token a number with as many digits as the bytes allow: parsed, and written again in the canonical form.
    const numbers = tokensLeft - 2;
    const digits = fill(room(type), numbers) - 3;
    const value = `0.${'7'.repeat(digits)}`;
    built.push({
      name: 'numbers',
      description: `one extra array of ${numbers.toLocaleString('en')} numbers of ${digits} digits`,
      type,
      body: withExtras(type, `"a":[${Array.from({ length: numbers }, () => value).join(',')}]`),
      tokens: MAX_JSON_TOKENS,
      mostExtraKeys: 1,
    });
  }
  {
    // Message made of escaped control characters: 6 bytes sent for each character, 6 written again.
    const count = fill(room(type), 6);
    const body = withExtras(type, '').replace(/"Message":"[^"]*"/, `"Message":"${'\\u0001'.repeat(count)}"`);
    built.push({
      name: 'escapes',
      description: `Message of ${count.toLocaleString('en')} escaped control characters (\\u0001)`,
      type,
      body,
      tokens: baseTokens(type),
      mostExtraKeys: 0,
    });
  }
  {
    // Message of astral characters (4 bytes, 2 UTF-16 units each): the Unicode check and every UTF-8 step see the most units.
    const count = fill(room(type), 4);
    const body = withExtras(type, '').replace(/"Message":"[^"]*"/, `"Message":"${'🩺'.repeat(count)}"`);
    built.push({
      name: 'astral',
      description: `Message of ${count.toLocaleString('en')} characters beyond the BMP (🩺)`,
      type,
      body,
      tokens: baseTokens(type),
      mostExtraKeys: 0,
    });
  }
  {
    // A CDA as .NET wraps it (76 characters a line, CRLF): the base64 check unwraps it first.
    const cdaType: MessageType = 'CDAStatus';
    const lines = fill(room(cdaType) - 16, 80); // 76 characters and an escaped CRLF (\r\n, 4 bytes)
    const cda = Array.from({ length: lines }, () => 'QUJD'.repeat(19)).join('\\r\\n');
    built.push({
      name: 'cda',
      description: `CDAStatus with a CDA of ${lines.toLocaleString('en')} base64 lines of 76 characters`,
      type: cdaType,
      body: withExtras(cdaType, `"CDA":"${cda}"`),
      tokens: baseTokens(cdaType) + 2,
      mostExtraKeys: 0,
    });
  }
  return built;
}

/** The body that prompted the caps: 300,000 extra keys, 3.4 MB (the issue measured 3.5 MB through `npm start`). */
function beforeCapsBody(): Built {
  const type: MessageType = 'REMDStatus';
  const extras = 300_000;
  const members = Array.from({ length: extras }, (_, i) => `"F${String(i).padStart(6, '0')}":1`).join(',');
  return {
    name: 'extraKeys300k',
    description: `${extras.toLocaleString('en')} extra keys of 7 characters, values 1`,
    type,
    body: withExtras(type, members),
    tokens: baseTokens(type) + 2 * extras,
    mostExtraKeys: extras,
  };
}

type Invoke = (body: string) => Promise<number>;

/**
 * The deployed wiring and wrapping (as M3), the deployed inline threshold (so a large payload takes the claim check).
 * The handler is built here rather than taken from wireReceivers for one reason: `parseLimits`, the caps lifted for
 * the body that prompted them, which no deployed function can have. Rejected requests are kept in memory, so that
 * the refusal measured is the parse's cost, not an S3 PUT's.
 */
function receiver(type: MessageType, parseLimits?: ReceiveDeps['parseLimits']): Invoke {
  const { clients } = cannedAws();
  const deployed = wireSite({ env: SITE_ENV, clients, serviceName: 'bench' }).receive;
  const deps: ReceiveDeps = { ...deployed, rejectedStore: new InMemoryRejectedStore(), ...(parseLimits ? { parseLimits } : {}) };
  const wrapped = asLambda(createReceiveHandler(type, deps), deps);
  const context = lambdaContext('bench', type);
  return async (body) => {
    const result = (await wrapped(proxyEvent({ path: `/${type}`, body: body.replace(PLACEHOLDER, randomUUID()) }), context)) as {
      statusCode: number;
    };
    return result.statusCode;
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function measure(shape: Built, invoke: Invoke, runs: number, expected: number): Promise<ParseShape> {
  const bytes = Buffer.byteLength(shape.body);
  if (bytes > MAX_BODY_BYTES)
    throw new Error(`M10 shape ${shape.name} is ${bytes} bytes, over ${MAX_BODY_BYTES}: fix dev/bench/parse-cost.ts`);
  const cpuMs: number[] = [];
  let httpStatus = 0;
  for (let run = 0; run <= runs; run++) {
    const before = process.cpuUsage();
    httpStatus = await invoke(shape.body);
    const used = process.cpuUsage(before);
    if (httpStatus !== expected)
      throw new Error(`M10 shape ${shape.name} was answered ${httpStatus}, not ${expected}: fix dev/bench/parse-cost.ts`);
    if (run > 0) cpuMs.push((used.user + used.system) / 1000); // run 0 warms the JIT
  }
  const { body: _, ...rest } = shape;
  return { ...rest, bytes, cpuMs, medianCpuMs: median(cpuMs), httpStatus };
}

export async function measureParseCost(runs: number, log: (text: string) => void = () => undefined): Promise<ParseCostReport> {
  const measured: ParseShape[] = [];
  for (const shape of shapes()) {
    const result = await measure(shape, receiver(shape.type), runs, 200);
    log(
      `  M10 ${shape.name}: ${result.medianCpuMs.toFixed(0)} ms CPU (${(result.bytes / 2 ** 20).toFixed(2)} MiB, ${result.tokens} tokens)`,
    );
    measured.push(result);
  }
  const slowest = measured.reduce((a, b) => (b.medianCpuMs > a.medianCpuMs ? b : a));
  const old = beforeCapsBody();
  const lifted = { maxExtraKeys: Number.POSITIVE_INFINITY, maxTokens: Number.POSITIVE_INFINITY };
  const beforeCaps = await measure(old, receiver(old.type, lifted), Math.max(1, Math.ceil(runs / 2)), 200);
  log(`  M10 before the caps (${old.name}): ${beforeCaps.medianCpuMs.toFixed(0)} ms CPU`);
  const refused = await measure(old, receiver(old.type), runs, 413);
  return {
    caps: { maxExtraKeys: MAX_EXTRA_KEYS, maxTokens: MAX_JSON_TOKENS, maxBodyBytes: MAX_BODY_BYTES },
    runs,
    shapes: measured,
    slowest: slowest.name,
    beforeCaps,
    refusedMedianCpuMs: refused.medianCpuMs,
  };
}

/*
 * Run as a script: the logs (stdout, and stderr for the rejections measured last) go nowhere, as in M3; only
 * this file's progress lines reach stderr.
 */
if (process.send || import.meta.url === `file://${process.argv[1]}`) {
  const say = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  const report = await measureParseCost(Number(process.env.BENCH_PARSE_RUNS ?? 5), (text) => say(`${text}\n`));
  if (process.send) process.send({ report });
  else say(`${JSON.stringify(report, null, 2)}\n`);
}
