import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../contract/envelope';
import { MESSAGE_TYPES, type MessageType } from '../../contract/catalog';
import { drain, listKeys } from '../support/aws';
import { receiveSite, type ReceiveSite } from '../support/receive-site';
import { SPEC_ALIASES, SPEC_FIELDS, type FieldKind } from '../support/spec-fields';

/*
 * Issue 17, point 3, as a property: arbitrary full-range Unicode in every string field of every type
 * (noncharacters, lone surrogates as JSON escapes them, control characters, astral code points, the
 * sender's extra fields and their names) through the real handler on DynamoDB Local (or dynalite) and
 * fauxqs. Whatever the content: every Success ack's MessageId reaches the queue, every Failed ack is kept
 * under rejected/, and nothing earns a 5xx (the sender would re-send it into the same wall forever).
 * Issue 24, finding 9: what reaches the queue is also readable by a strict JSON reader (.NET's
 * System.Text.Json refuses an escaped lone surrogate), so a lone surrogate anywhere is refused, not acked.
 */

const RUNS = 50;

let site: ReceiveSite;
beforeAll(async () => {
  site = await receiveSite('prop');
});
afterAll(() => site?.close());

/** The characters most likely to break a store or a queue, mixed into any code point of the full range. */
const hostile = fc.constantFrom(
  '\uFFFF',
  '\uFFFE',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\u0000',
  '\u0001',
  '\u001F',
  '\u007F',
  '\u0085',
  '\u2028',
  '\uFDD0',
  '\u{10FFFF}',
  '\u{1FFFE}',
  '\t',
  '\r',
  '\n',
  '"',
  '\\',
);
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: hostile },
);
const anyText = (minLength: number) => fc.string({ unit, minLength, maxLength: 24 });

/** `Lpu` travels as a queue attribute and is checked for it: usually text that passes, sometimes anything. */
const attributeSafe = fc.string({
  unit: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !/[\p{Cc}\uFFFE\uFFFF]/u.test(c)),
  minLength: 1,
  maxLength: 24,
});
const lpu = fc.oneof({ weight: 4, arbitrary: attributeSafe }, { weight: 1, arbitrary: anyText(1) });

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: n, maxLength: n });
const uuid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join('-'));

/** Each kind: usually a value of that kind, sometimes any text (a Failed ack, kept, is a fine answer to that). */
const VALUE: Record<FieldKind, fc.Arbitrary<unknown>> = {
  uuid: fc.oneof({ weight: 9, arbitrary: uuid }, { weight: 1, arbitrary: anyText(0) }),
  status: fc.constantFrom('Success', 'Failed'),
  text: anyText(0),
  id: anyText(1),
  int: fc.integer({ min: -1000, max: 1_000_000 }),
  base64: fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString('base64')),
};

function body(type: MessageType) {
  const fields = Object.fromEntries(
    Object.entries(SPEC_FIELDS[type]).map(([name, spec]) => [
      name,
      name === 'Lpu' ? lpu : spec.required ? VALUE[spec.kind] : fc.option(VALUE[spec.kind], { nil: undefined }),
    ]),
  ) as Record<string, fc.Arbitrary<unknown>>;
  const known = new Set([...Object.keys(SPEC_FIELDS[type]), ...Object.values(SPEC_ALIASES[type] ?? {})]);
  return fc
    .record({
      fields: fc.record(fields),
      // The sender's own fields: any names, any values.
      extras: fc.dictionary(
        anyText(1).filter((k) => !known.has(k)),
        fc.oneof(anyText(0), fc.array(anyText(0), { maxLength: 3 })),
        { maxKeys: 3 },
      ),
      // Sometimes large enough for the claim check (the bucket, and a record that keeps only facts).
      padding: fc.option(fc.constant('\uFFFF'.repeat(3000)), { freq: 5, nil: undefined }),
    })
    .map(({ fields, extras, padding }) => {
      const sent: Record<string, unknown> = { ...extras, ...(padding ? { Padding: padding } : {}) };
      for (const [name, value] of Object.entries(fields)) if (value !== undefined) sent[name] = value;
      return sent;
    });
}

/** Every string and key of a parsed JSON value well-formed UTF-16, as a strict reader demands: the path of the first that is not. */
function notText(value: unknown, path = '$'): string | undefined {
  if (typeof value === 'string') return /\p{Cs}/u.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (/\p{Cs}/u.test(key)) return `${path} (a key)`;
    const found = notText(inner, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

describe.each(MESSAGE_TYPES)('%s with arbitrary Unicode in every string field', (type) => {
  it(`puts every Success of ${RUNS} generated messages on the queue and keeps every Failed one`, async () => {
    const rejectedBefore = (await listKeys(site.s3, site.resources.bucket, 'rejected/')).length;
    const succeeded = new Set<string>();
    let failed = 0;
    await fc.assert(
      fc.asyncProperty(body(type), async (sent) => {
        const { status, ack } = await site.post(type, sent);
        expect(status, ack.Message).toBeLessThan(500);
        if (ack.Status === 'Success') succeeded.add(String(sent.MessageId).toLowerCase());
        else failed++;
      }),
      { numRuns: RUNS },
    );
    // Whatever was deferred (none should be: the queue is up) is the reconciler's to forward.
    await site.reconcile();
    const envelopes = (await drain(site.sqs, site.resources.queueUrl)).map((m) => JSON.parse(m.Body!) as Envelope);
    const onQueue = new Set(envelopes.map((envelope) => envelope.messageId));
    expect([...succeeded].filter((id) => !onQueue.has(id))).toEqual([]);
    // A claim-checked payload is in the bucket: its facts in the record were made of the same strings.
    expect(envelopes.map((envelope) => notText(envelope)).filter(Boolean)).toEqual([]);
    expect((await listKeys(site.s3, site.resources.bucket, 'rejected/')).length - rejectedBefore).toBe(failed);
  });
});
