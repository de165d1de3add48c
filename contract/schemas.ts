import * as z from 'zod/mini';
import { ENVELOPE_VERSION, REPLAY_ID, SIMULATION_HEADER, SIMULATION_RUN_ID } from './envelope';
import { MAX_EXTRA_KEYS } from './limits';
import { MESSAGE_TYPES, messageSpec, type MessageType } from './catalog';

/*
 * JSON Schema (2020-12) of both sides of a message, from the one catalog: what the sender may POST
 * (OpenAPI's request bodies) and what the MIS gets on the queue (the envelope and its payload, published
 * in docs/schemas/ and embedded in the AsyncAPI document). One definition, so the published contract
 * cannot drift from the checks the endpoint runs; tests validate every message the local stack queues.
 */

export type JsonSchema = Record<string, unknown>;

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/**
 * `request`: the body as the sender may write it (either spelling of an aliased field, `null` for an
 * absent optional field, UUIDs in any letter case). `queue`: the normalised payload consumers get
 * (canonical names, UUIDs lower case, absent optional fields left out): what parseMessage produces.
 */
export type PayloadSide = 'request' | 'queue';

// uuid() in fields.ts lower-cases what it accepts (z.toLowerCase): the queue only ever carries this form.
const LOWER_CASE_UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
// int() in fields.ts accepts safe integers only (Number.isSafeInteger).
const SAFE_INTEGER = { minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };

export function payloadSchema(type: MessageType, side: PayloadSide): JsonSchema {
  const spec = messageSpec(type);
  const schema = z.toJSONSchema(spec.schema, {
    // The catalog's outputs are transforms (null → absent) that zod cannot describe; the input side is exact,
    // and the queue side is derived from it below by the same rules the transforms apply.
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: (ctx) => {
      const json = ctx.jsonSchema as JsonSchema;
      if (json['x-kind'] === 'integer') {
        json.type = 'integer';
        Object.assign(json, SAFE_INTEGER);
        delete json['x-kind'];
      }
      if (side === 'queue' && json.format === 'uuid') json.pattern = LOWER_CASE_UUID;
    },
  }) as JsonSchema;
  delete schema.$schema;
  const required = (schema.required as string[]) ?? [];
  const properties = schema.properties as Record<string, JsonSchema>;
  const aliases = Object.entries(spec.aliases);

  if (side === 'queue') {
    // Optional fields (0..1) written as null are dropped: consumers see them absent or with a value, never null.
    for (const [name, property] of Object.entries(properties)) {
      const anyOf = property.anyOf as JsonSchema[] | undefined;
      if (required.includes(name) || !anyOf) continue;
      const values = anyOf.filter((option) => option.type !== 'null');
      properties[name] = values.length === 1 ? values[0]! : { anyOf: values };
    }
    return {
      title: type,
      description:
        `${spec.title}: the payload of a ${type} envelope (inline, or the claim-checked object's JSON). ` +
        'Normalised: the canonical field names, UUIDs in lower case, absent optional fields left out (never null). ' +
        `Fields the sender adds beyond the table are kept (at most ${MAX_EXTRA_KEYS} in any one object): ignore what you do not know. ` +
        `Every string is Unicode text (no lone surrogate). FIFO group: ${spec.documentKey}.`,
      ...schema,
    };
  }

  if (aliases.length > 0) {
    // Either spelling satisfies the requirement; consumers always get the canonical one.
    schema.required = required.filter((name) => !aliases.some(([, canonical]) => canonical === name));
    schema.allOf = aliases.map(([alias, canonical]) => ({ anyOf: [{ required: [canonical] }, { required: [alias] }] }));
    for (const [alias, canonical] of aliases)
      properties[alias] = { ...properties[canonical], description: `Spelling of ${canonical} used by the specification's table` };
  }
  return {
    title: type,
    description:
      `${spec.title}. Unknown extra fields are accepted and forwarded, at most ${MAX_EXTRA_KEYS} in any one object. ` +
      `Every string and key must be Unicode text (no lone surrogate). FIFO group: ${spec.documentKey}.`,
    ...schema,
  };
}

/**
 * The queue envelope of the current version, its payload checked per `messageType` against the schema
 * `payloadRef(type)` points at (`#/$defs/…` in the published file, `#/components/schemas/…` in OpenAPI
 * and AsyncAPI). Open to added fields: a consumer ignores what it does not know (README, Versioning).
 */
export function envelopeSchema(payloadRef: (type: MessageType) => string): JsonSchema {
  return {
    title: `Envelope v${ENVELOPE_VERSION}`,
    type: 'object',
    description:
      'One SQS FIFO message body per MessageId (MessageGroupId: the document key; MessageDeduplicationId: the MessageId, ' +
      'or on a re-delivery `<messageId>:<replayId>`). ' +
      'Delivered at least once: be idempotent by messageId. Read `version` first; leave a message of an unknown version on the queue.',
    required: ['version', 'site', 'messageType', 'messageId', 'receivedAt'],
    properties: {
      version: { const: ENVELOPE_VERSION, description: 'Envelope version; a consumer that does not know it must not delete the message' },
      site: { type: 'string', minLength: 1, description: 'The MIS-MO site (stack) that received the callback' },
      messageType: { type: 'string', enum: [...MESSAGE_TYPES] },
      messageId: { type: 'string', format: 'uuid', pattern: LOWER_CASE_UUID, description: 'Lower case; the idempotency key' },
      receivedAt: { type: 'string', format: 'date-time', description: 'When the endpoint accepted it (UTC, ISO 8601)' },
      payload: { type: 'object', description: 'The normalised message, when kept inline' },
      payloadRef: {
        type: 'object',
        description:
          'Claim check: a large payload was put in the bucket instead. GetObject(bucket, key); refuse it unless its byte length ' +
          'is `size` and the hex SHA-256 of its bytes is `sha256`; its UTF-8 JSON is the payload.',
        required: ['bucket', 'key', 'size', 'sha256'],
        properties: {
          bucket: { type: 'string', minLength: 1 },
          key: { type: 'string', minLength: 1, description: '<site>/<MessageType>/<yyyy>/<mm>/<dd>/<MessageId>.<sha256>.json' },
          size: { type: 'integer', minimum: 1, description: 'Bytes of the object' },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Hex SHA-256 of the object bytes' },
        },
      },
      simulation: {
        type: 'object',
        description:
          `Present only on a message sent by the sender simulator (\`n3-callback simulate\`, header ${SIMULATION_HEADER}), never on one ` +
          'from N3: a production MIS deletes it without doing its work. `runId` is the same for every message of one simulator run.',
        required: ['runId'],
        properties: { runId: { type: 'string', pattern: SIMULATION_RUN_ID.source } },
      },
      redelivery: {
        type: 'object',
        description:
          'Present only on a message put on the queue again by `n3-callback replay` (an operator recovering what a consumer lost): ' +
          'the same envelope as first delivered, in the same MessageGroupId. Process it like any message, idempotent by `messageId` ' +
          '(skip it if that id is already done). `replayId` is the same for every message of one replay.',
        required: ['replayId'],
        properties: { replayId: { type: 'string', pattern: REPLAY_ID.source } },
      },
    },
    oneOf: [{ required: ['payload'] }, { required: ['payloadRef'] }],
    allOf: MESSAGE_TYPES.map((type) => ({
      if: { properties: { messageType: { const: type } }, required: ['messageType'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords, never awaited
      then: { properties: { payload: { $ref: payloadRef(type) } } },
    })),
  };
}

/** The published files of docs/schemas/, by name: the envelope (self-contained) and each type's payload. */
export function buildJsonSchemas(): Record<string, JsonSchema> {
  const envelope = {
    $schema: JSON_SCHEMA_DIALECT,
    ...envelopeSchema((type) => `#/$defs/${type}`),
    $defs: Object.fromEntries(MESSAGE_TYPES.map((type) => [type, payloadSchema(type, 'queue')])),
  };
  return {
    [envelopeFileName(ENVELOPE_VERSION)]: envelope,
    ...Object.fromEntries(MESSAGE_TYPES.map((type) => [`${type}.json`, { $schema: JSON_SCHEMA_DIALECT, ...payloadSchema(type, 'queue') }])),
  };
}

export const envelopeFileName = (version: number) => `envelope.v${version}.json`;
