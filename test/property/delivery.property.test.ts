import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import type { Envelope } from '../../contract/envelope';
import { ACK_TEXT, type Ack } from '../../contract/ack';
import { MESSAGE_TYPES, type MessageType } from '../../contract/catalog';
import { inMemoryPorts, inMemoryReceiveDeps, fixedClock } from '../../testing/fakes';
import { proxyEvent } from '../../testing/events';
import { SPEC_ALIASES, SPEC_FIELDS, type FieldKind } from '../support/spec-fields';

/*
 * Generated messages through the real handler (decode → catalog → ingest → envelope) on
 * in-memory ports: every valid message is sent to the queue once, exactly as normalised, and its
 * re-send is acked as a duplicate without a second send (counted at the port, not by the fake's
 * deduplication, which would hide a send per re-send as SQS FIFO does); every
 * mutation of one is accepted or rejected with a named reason, and never a 5xx or a crash.
 */

const RUNS = 1000;

function setup() {
  const ports = inMemoryPorts(fixedClock());
  const handler = (type: MessageType) => createReceiveHandler(type, inMemoryReceiveDeps({ ports, maxBodyBytes: 1024 * 1024 }));
  return { ports, handler };
}

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: n, maxLength: n });
const uuidArb = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join('-'));
const textArb = fc.string({ unit: 'grapheme', maxLength: 60 });
const idArb = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
const intArb = fc
  .maxSafeInteger()
  .filter((n) => Number.isSafeInteger(n))
  .chain((n) => fc.constantFrom(n, -n, 0, 33));
const base64Arb = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('base64'));

const ARBITRARY: Record<FieldKind, fc.Arbitrary<unknown>> = {
  uuid: uuidArb,
  status: fc.constantFrom('Success', 'Failed'),
  text: textArb,
  id: idArb,
  int: intArb,
  base64: base64Arb,
};

/** A valid message as a sender might write it, and the payload consumers must get for it. */
function validMessage(type: MessageType) {
  const fields = Object.entries(SPEC_FIELDS[type]);
  const record = Object.fromEntries(
    fields.map(([name, spec]) => [
      name,
      spec.required
        ? ARBITRARY[spec.kind]
        : fc.option(ARBITRARY[spec.kind], { nil: undefined, freq: 3 }).chain((v) => fc.constantFrom(v, v === undefined ? null : v)),
    ]),
  ) as Record<string, fc.Arbitrary<unknown>>;
  const extras = fc.dictionary(
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((k) => !(k in SPEC_FIELDS[type]) && !['__proto__', 'IdSourse', 'Status\u0421ode'].includes(k)),
    fc.jsonValue({ maxDepth: 2 }),
    { maxKeys: 3 },
  );
  const aliases = SPEC_ALIASES[type] ?? {};
  return fc
    .record({ body: fc.record(record), extras, useAlias: fc.dictionary(fc.constantFrom(...Object.keys(aliases), 'none'), fc.boolean()) })
    .map(({ body, extras, useAlias }) => {
      const sent: Record<string, unknown> = { ...extras };
      const expected: Record<string, unknown> = { ...extras };
      for (const [name, value] of Object.entries(body)) {
        const spec = SPEC_FIELDS[type][name]!;
        sent[useAlias[name] && aliases[name] ? aliases[name] : name] = value;
        if (value === null || value === undefined) continue;
        expected[name] = spec.kind === 'uuid' ? String(value).toLowerCase() : value;
      }
      for (const [name, value] of Object.entries(sent)) if (value === undefined) delete sent[name];
      return { sent, expected };
    });
}

describe.each(MESSAGE_TYPES)('%s (property)', (type) => {
  it(`sends each of ${RUNS} generated valid messages once, exactly as normalised, and a re-send not again`, async () => {
    await fc.assert(
      fc.asyncProperty(validMessage(type), async ({ sent, expected }) => {
        // Fresh ports each run: a shrunk counterexample reuses MessageIds, which must not meet earlier content.
        const { ports, handler } = setup();
        const receive = handler(type);
        const messageId = String(sent.MessageId).toLowerCase();
        // What the handler did, counted at the port: SendMessage calls for this MessageId, whatever the queue keeps.
        const sends = () => ports.queue.sent.filter((m) => m.deduplicationId === messageId);

        const first = await receive(proxyEvent({ path: `/${type}`, body: JSON.stringify(sent) }));
        expect([first.statusCode, JSON.parse(first.body)]).toEqual([
          200,
          { MessageId: sent.MessageId, Message: ACK_TEXT.accepted, Status: 'Success' },
        ]);
        expect(sends()).toHaveLength(1);
        const envelope = JSON.parse(sends()[0]!.body) as Envelope;
        expect(envelope.messageId).toBe(messageId);
        expect(envelope.payload).toStrictEqual(JSON.parse(JSON.stringify(expected)));
        expect(ports.store.records.get(messageId)?.state).toBe('FORWARDED');

        // The sender's re-send (keys in another order: the same message) is a duplicate and costs no second send.
        const again = Object.fromEntries(Object.entries(sent).reverse());
        const second = await receive(proxyEvent({ path: `/${type}`, body: JSON.stringify(again) }));
        expect([second.statusCode, JSON.parse(second.body)]).toEqual([
          200,
          { MessageId: sent.MessageId, Message: ACK_TEXT.duplicate, Status: 'Success' },
        ]);
        expect(sends()).toHaveLength(1);
      }),
      { numRuns: RUNS },
    );
  });

  it(`answers ${RUNS} mutated messages with Success or a named rejection, never a 5xx`, async () => {
    const { handler } = setup();
    const receive = handler(type);
    const names = Object.keys(SPEC_FIELDS[type]);
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('delete' as const), field: fc.constantFrom(...names) }),
      fc.record({ op: fc.constant('set' as const), field: fc.constantFrom(...names), value: fc.jsonValue({ maxDepth: 2 }) }),
      fc.record({ op: fc.constant('add' as const), field: fc.string({ maxLength: 10 }), value: fc.jsonValue({ maxDepth: 3 }) }),
      fc.record({ op: fc.constant('text' as const), cut: fc.nat(), junk: fc.string({ maxLength: 5 }) }),
      fc.record({ op: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
    );
    await fc.assert(
      fc.asyncProperty(validMessage(type), fc.array(mutation, { minLength: 1, maxLength: 3 }), async ({ sent }, mutations) => {
        const body: Record<string, unknown> = { ...sent };
        let text: string | Buffer | undefined;
        for (const m of mutations) {
          if (m.op === 'delete') delete body[m.field];
          else if (m.op === 'set' || m.op === 'add') body[m.field] = m.value;
          else if (m.op === 'text') text = JSON.stringify(body).slice(0, m.cut % 200) + m.junk;
          else text = Buffer.from(m.bytes);
        }
        const result = await receive(proxyEvent({ path: `/${type}`, body: text ?? JSON.stringify(body) }));
        const ack = JSON.parse(result.body) as Ack;
        expect(Object.keys(ack).sort()).toEqual(['Message', 'MessageId', 'Status']);
        expect(result.statusCode).toBeLessThan(500);
        if (result.statusCode === 200) expect(ack.Status).toBe('Success');
        else {
          expect([400, 409]).toContain(result.statusCode);
          expect(ack.Status).toBe('Failed');
          // A named reason: "Сообщение отклонено: <what>" or the conflict text.
          expect(ack.Message).toMatch(/^(Сообщение отклонено: \S.+|Сообщение с этим MessageId уже принято с другим содержимым)$/);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
