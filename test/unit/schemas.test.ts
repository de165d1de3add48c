import { describe, expect, it } from 'vitest';
import { ENVELOPE_VERSION, type Envelope } from '../../contract/envelope';
import { toQueueMessage } from '../../lambdas/ingest/envelope';
import { ingest, type IngestMarks, type IngestSettings } from '../../lambdas/ingest/ingest';
import { MESSAGE_TYPES, type MessageType, parseMessage } from '../../contract/catalog';
import { buildJsonSchemas, envelopeFileName } from '../../contract/schemas';
import { InMemoryPayloads, InMemoryQueue, InMemoryStore, fixedClock } from '../../testing/fakes';
import { freshMessage } from '../../testing/messages';
import { publishedSchemas, queueValidator } from '../support/queue-schemas';

// The spec table's spelling of StatusCode, with a Cyrillic С.
const TABLE_STATUS_CODE = 'Status\u0421ode';

/*
 * The queue contract as JSON Schema 2020-12: committed as generated, valid for ajv's 2020-12 validator,
 * and true to what the endpoint's own code puts on a queue (parseMessage → ingest → the envelope).
 * test/e2e/queue-schema.test.ts checks the same against the running local stack.
 */

const { ajv, envelopeErrors, payloadErrors } = queueValidator();

/** Bodies a sender may legally POST, each normalised differently by the catalog. */
function senderVariants(type: MessageType): Array<[string, Record<string, unknown>]> {
  const variants: Array<[string, Record<string, unknown>]> = [
    ['the spec example', freshMessage(type)],
    ['upper-case UUIDs', upperCaseUuids(freshMessage(type))],
    ['an unknown extra field', freshMessage(type, { AddedBySenderLater: { nested: [1, 'два', null] } })],
  ];
  const optional = { CDAStatus: 'CDA', REMDStatus: 'RemdRegNumber', MseResultData: 'Data' } as Partial<Record<MessageType, string>>;
  if (optional[type]) variants.push([`${optional[type]} null`, freshMessage(type, { [optional[type]]: null })]);
  if (type === 'VimisResult') {
    const { IdSource, StatusCode, ...rest } = freshMessage(type);
    variants.push(['the table spellings IdSourse and StatusСode', { ...rest, IdSourse: IdSource, [TABLE_STATUS_CODE]: StatusCode }]);
  }
  return variants;
}

const upperCaseUuids = (body: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' && /^[0-9a-f-]{36}$/.test(v) ? v.toUpperCase() : v]));

async function queued(type: MessageType, body: Record<string, unknown>, maxInlinePayloadBytes: number, marks: IngestMarks = {}) {
  const parsed = parseMessage(type, body);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const queue = new InMemoryQueue();
  const payloads = new InMemoryPayloads();
  const settings: IngestSettings = { site: 'mo-123', retentionDays: 30, maxInlinePayloadBytes };
  await ingest(parsed.message, { store: new InMemoryStore(), queue, payloads, clock: fixedClock() }, settings, marks);
  expect(queue.sent).toHaveLength(1);
  return { body: JSON.parse(queue.sent[0]!.body) as Envelope, objects: payloads.objects };
}

describe('queue JSON Schemas', () => {
  it('are committed as generated (run `npm run contracts` after changing the catalog or the envelope)', () => {
    expect(publishedSchemas()).toEqual(buildJsonSchemas());
  });

  it('publish one envelope schema per version that can be on a queue (today 1) and one payload schema per type', () => {
    expect(Object.keys(publishedSchemas()).sort()).toEqual(
      [envelopeFileName(ENVELOPE_VERSION), ...MESSAGE_TYPES.map((t) => `${t}.json`)].sort(),
    );
  });

  it.each(Object.entries(publishedSchemas()))('%s is valid JSON Schema 2020-12 (meta-schema, strict compile)', (_name, schema) => {
    expect(ajv.validateSchema(schema), ajv.errorsText(ajv.errors)).toBe(true);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  describe.each(MESSAGE_TYPES)('%s, as the endpoint queues it', (type) => {
    it.each(senderVariants(type))('inline, from %s: the envelope and its payload validate', async (_variant, body) => {
      const { body: envelope } = await queued(type, body, 256 * 1024);
      expect(envelope.payload).toBeDefined();
      expect(envelopeErrors(envelope)).toBe('');
      expect(payloadErrors(type, envelope.payload)).toBe('');
    });

    it('claim-checked: the envelope with payloadRef validates, and so does the object it points at', async () => {
      const { body: envelope, objects } = await queued(type, freshMessage(type), 1);
      expect(envelope.payloadRef).toBeDefined();
      expect(envelopeErrors(envelope)).toBe('');
      expect(payloadErrors(type, JSON.parse(objects.get(envelope.payloadRef!.key)!))).toBe('');
    });
  });

  describe('refuse what the queue never carries', () => {
    const inline = async (type: MessageType = 'REMDStatus') => structuredClone((await queued(type, freshMessage(type), 256 * 1024)).body);
    const ref = { bucket: 'b', key: 'k', size: 10, sha256: 'a'.repeat(64) };

    it('an unknown envelope version', async () => {
      expect(envelopeErrors({ ...(await inline()), version: ENVELOPE_VERSION + 1 })).toMatch(/version/);
    });

    it('both payload and payloadRef, or neither', async () => {
      const envelope = await inline();
      expect(envelopeErrors({ ...envelope, payloadRef: ref })).toMatch(/oneOf/);
      const { payload: _, ...neither } = envelope;
      expect(envelopeErrors(neither)).toMatch(/oneOf/);
    });

    it('a payload that breaks its own type (checked through messageType)', async () => {
      const envelope = await inline('REMDStatus');
      delete (envelope.payload as Record<string, unknown>).IdFedRequest;
      expect(envelopeErrors(envelope)).toMatch(/IdFedRequest/);
      // The same payload under another type's name is checked by that type's schema instead.
      expect(envelopeErrors({ ...envelope, messageType: 'MseResult' })).toMatch(/IdMSEMis/);
    });

    it('null for an absent optional field, upper-case UUIDs, a non-integer int, a bad claim-check hash', async () => {
      const envelope = await inline('REMDStatus');
      const payload = envelope.payload as Record<string, unknown>;
      expect(payloadErrors('REMDStatus', { ...payload, RemdRegNumber: null })).toMatch(/RemdRegNumber/);
      expect(payloadErrors('REMDStatus', { ...payload, IdFedRequest: String(payload.IdFedRequest).toUpperCase() })).toMatch(/IdFedRequest/);
      expect(payloadErrors('REMDStatus', { ...payload, MedDocumentType: 33.5 })).toMatch(/MedDocumentType/);
      expect(envelopeErrors({ ...envelope, messageId: envelope.messageId.toUpperCase() })).toMatch(/messageId/);
      const { payload: _, ...head } = envelope;
      expect(envelopeErrors({ ...head, payloadRef: { ...ref, sha256: 'ABC' } })).toMatch(/sha256/);
    });
  });

  it("describe the simulator's mark, an optional field of version 1: a marked envelope validates, a mark without its run id not", async () => {
    const { body: envelope } = await queued('REMDStatus', freshMessage('REMDStatus'), 256 * 1024, { simulation: { runId: 'sim-1' } });
    expect(envelope.simulation).toEqual({ runId: 'sim-1' });
    expect(envelope.version).toBe(1);
    expect(envelopeErrors(envelope)).toBe('');
    expect(envelopeErrors({ ...envelope, simulation: {} })).toMatch(/runId/);
  });

  it('describe a re-delivery (`n3-callback replay`), an optional field of version 1: a replayed envelope validates, inline or claim-checked; one without its replay id not', async () => {
    for (const inlineLimit of [256 * 1024, 100]) {
      const parsed = parseMessage('CDAStatus', freshMessage('CDAStatus'));
      if (!parsed.ok) throw new Error('invalid example');
      const store = new InMemoryStore();
      const settings: IngestSettings = { site: 'mo-123', retentionDays: 30, maxInlinePayloadBytes: inlineLimit };
      await ingest(parsed.message, { store, queue: new InMemoryQueue(), payloads: new InMemoryPayloads(), clock: fixedClock() }, settings);
      const replayed = JSON.parse(
        toQueueMessage(store.records.get(parsed.message.messageId)!, { replayId: 'r-20261125T100000Z-abcdef' }).body,
      );
      expect(replayed.redelivery).toEqual({ replayId: 'r-20261125T100000Z-abcdef' });
      expect(replayed.version).toBe(1);
      expect(envelopeErrors(replayed)).toBe('');
      expect(envelopeErrors({ ...replayed, redelivery: {} })).toMatch(/replayId/);
      expect(envelopeErrors({ ...replayed, redelivery: { replayId: 'a b' } })).toMatch(/replayId/);
    }
  });

  it('accept fields added later, in the envelope and in a payload (consumers ignore what they do not know)', async () => {
    const { body: envelope } = await queued('SEMDStatus', freshMessage('SEMDStatus'), 256 * 1024);
    const later = { ...envelope, traceId: 'abc', payload: { ...envelope.payload, IdNewField: 7 } };
    expect(envelopeErrors(later)).toBe('');
  });
});
