import { readFileSync } from 'node:fs';
import { Parser, type AsyncAPIDocumentInterface } from '@asyncapi/parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { QUEUE } from '../../contract/shapes';
import { ENVELOPE_VERSION } from '../../contract/envelope';
import { ingest } from '../../lambdas/ingest/ingest';
import type { QueueMessage } from '../../lambdas/ingest/ports';
import { buildAsyncApi } from '../../contract/asyncapi';
import { MESSAGE_TYPES, type MessageType, parseMessage } from '../../contract/catalog';
import { InMemoryPayloads, InMemoryQueue, InMemoryStore, fixedClock } from '../../testing/fakes';
import { freshMessage } from '../../testing/messages';

/*
 * The MIS queue as AsyncAPI 3: parsed by the official parser (@asyncapi/parser) with no diagnostic at all,
 * committed as generated, true to the deployed queue settings, and its message schemas (as the parser
 * resolves them) accept what the endpoint's own code queues, type by type.
 */

const built = buildAsyncApi(QUEUE);
const committed = JSON.parse(readFileSync(new URL('../../docs/asyncapi.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** What ingest really sends for a type: inline, or by reference when the inline limit is 1 byte. */
async function queued(type: MessageType, maxInlinePayloadBytes: number): Promise<QueueMessage> {
  const parsed = parseMessage(type, freshMessage(type));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const queue = new InMemoryQueue();
  const ports = { store: new InMemoryStore(), queue, payloads: new InMemoryPayloads(), clock: fixedClock() };
  await ingest(parsed.message, ports, { site: 'mo-123', retentionDays: 30, maxInlinePayloadBytes });
  return queue.sent[0]!;
}

describe('asyncapi', () => {
  let document: AsyncAPIDocumentInterface;

  beforeAll(async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(committed));
    // No error, warning, info or hint: the document is what the official tooling expects, as it is.
    expect(diagnostics.map((d) => `${d.severity} ${d.code} ${d.path.join('.')}: ${d.message}`)).toEqual([]);
    document = parsed!;
  }, 60_000);

  it('is committed as generated (run `npm run contracts` after changing the catalog, the envelope or the queue)', () => {
    expect(committed).toEqual(built);
  });

  it('is an AsyncAPI 3 document of the envelope version on the queue', () => {
    expect(document.version()).toMatch(/^3\./);
    expect(document.info().version()).toBe(`${ENVELOPE_VERSION}.0.0`);
  });

  it('describes the FIFO queue as the stack deploys it, with its dead-letter queue after the redrive count', () => {
    const callbacks = document.channels().get('callbacks')!;
    const sqs = callbacks.bindings().get('sqs')!.value() as {
      queue: Record<string, unknown> & { redrivePolicy: { deadLetterQueue: { name: string }; maxReceiveCount: number } };
      deadLetterQueue: { name: string; fifoQueue: boolean };
    };
    expect(sqs.queue).toMatchObject({
      fifoQueue: true,
      deduplicationScope: QUEUE.deduplicationScope,
      fifoThroughputLimit: QUEUE.fifoThroughputLimit,
      visibilityTimeout: QUEUE.visibilityTimeoutSeconds,
      messageRetentionPeriod: QUEUE.retentionSeconds,
    });
    expect(sqs.queue.redrivePolicy).toEqual({
      deadLetterQueue: { name: sqs.deadLetterQueue.name },
      maxReceiveCount: QUEUE.maxReceiveCount,
    });
    expect(sqs.deadLetterQueue.fifoQueue).toBe(true);
    expect(document.channels().get('deadLetters')!.messages().all()).toHaveLength(MESSAGE_TYPES.length);
    expect(callbacks.extensions().get('x-delivery')?.value()).toBe('at-least-once');
  });

  it('has one message per MessageType on the channel, received by the consumer operation', () => {
    const callbacks = document.channels().get('callbacks')!;
    expect(
      callbacks
        .messages()
        .all()
        .map((m) => m.name())
        .sort(),
    ).toEqual([...MESSAGE_TYPES].sort());
    const receive = document.operations().get('receiveCallbacks')!;
    expect(receive.action()).toBe('receive');
    expect(receive.channels().all()[0]!.id()).toBe('callbacks');
    expect(receive.description()).toMatch(/at least once[\s\S]*DeleteMessage/);
  });

  describe('its message schemas, as the parser resolves them, accept what the endpoint queues', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const schemasOf = (type: MessageType) => {
      const message = document.components().messages().get(type)!;
      return { payload: ajv.compile(message.payload()!.json()), headers: ajv.compile(message.headers()!.json()) };
    };
    const attributes = (sent: QueueMessage) => sent.attributes as Record<string, string>;

    it.each(MESSAGE_TYPES)('%s: the envelope (inline and claim-checked) and its attributes; not as another type', async (type) => {
      const { payload, headers } = schemasOf(type);
      for (const sent of [await queued(type, 256 * 1024), await queued(type, 1)]) {
        const envelope = JSON.parse(sent.body) as Record<string, unknown>;
        expect(payload(envelope), ajv.errorsText(payload.errors)).toBe(true);
        expect(headers(attributes(sent)), ajv.errorsText(headers.errors)).toBe(true);
        expect(sent.deduplicationId).toBe(envelope.messageId);
      }
      const other = MESSAGE_TYPES.find((t) => t !== type)!;
      const foreign = await queued(other, 256 * 1024);
      expect(payload(JSON.parse(foreign.body))).toBe(false);
      expect(headers(attributes(foreign))).toBe(false);
    });

    it('the group id names the document field of each type', async () => {
      for (const type of MESSAGE_TYPES) {
        const message = document.components().messages().get(type)!;
        const field = message.extensions().get('x-sqs-message-group-id')!.value<{ field: string }>().field;
        const sent = await queued(type, 256 * 1024);
        const envelope = JSON.parse(sent.body) as { payload: Record<string, string> };
        expect(sent.groupId).toBe(envelope.payload[field]);
      }
    });
  });
});
