import { DOCUMENT_LIMITS, STAGE_STATES, STAGES } from './documents';
import { SIMULATION_HEADER, SIMULATION_RUN_ID } from './envelope';
import { MAX_EXTRA_KEYS, MAX_JSON_TOKENS } from './limits';
import { ACK_TEXT } from './ack';
import { MESSAGE_TYPES, messageSpec } from './catalog';
import { STATUSES } from './fields';
import { envelopeSchema, type JsonSchema, payloadSchema } from './schemas';

/*
 * The callback service as OpenAPI 3.1, generated from the one catalog: what the sender may
 * POST per type, what it gets back, and (for MIS teams) the queue envelope and payloads (the same
 * definitions as docs/schemas/ and the AsyncAPI document: contract/schemas.ts).
 * `npm run openapi` writes docs/openapi.json; `npm start` serves it at /_local/openapi.json.
 */

const ACK: JsonSchema = {
  type: 'object',
  description: 'The MIS acknowledgement (spec §6). Without Status=Success the sender re-sends.',
  required: ['MessageId', 'Message', 'Status'],
  properties: {
    MessageId: { type: 'string', description: 'The acknowledged MessageId as sent; empty when it could not be read' },
    Message: { type: 'string', examples: [ACK_TEXT.accepted] },
    Status: { type: 'string', enum: [...STATUSES] },
  },
  additionalProperties: false,
};

const ackResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Ack' } } },
});

const STAGE_STATE = {
  type: 'object',
  required: ['state', 'message', 'updatedAt'],
  properties: { state: { type: 'string' }, message: { type: 'string' }, updatedAt: { type: 'string', format: 'date-time' } },
};
const DOCUMENT = {
  type: 'object',
  description: "A document's state per stage, derived from every callback about it (see README, Document status).",
  required: ['documentId', 'timeline', 'updatedAt'],
  properties: {
    documentId: { type: 'string' },
    cda: {
      ...STAGE_STATE,
      properties: { ...STAGE_STATE.properties, state: { enum: [...STAGE_STATES.cda] }, idMedDocument: { type: 'integer' } },
    },
    semd: { ...STAGE_STATE, properties: { ...STAGE_STATE.properties, state: { enum: [...STAGE_STATES.semd] } } },
    remd: {
      ...STAGE_STATE,
      properties: {
        ...STAGE_STATE.properties,
        state: { enum: [...STAGE_STATES.remd] },
        regNumber: { type: 'string' },
        idFedRequest: { type: 'string' },
      },
    },
    mse: {
      ...STAGE_STATE,
      properties: { ...STAGE_STATE.properties, state: { enum: [...STAGE_STATES.mse] }, idResultMse: { type: 'string' } },
    },
    vimis: {
      type: 'array',
      items: {
        ...STAGE_STATE,
        properties: {
          ...STAGE_STATE.properties,
          state: { enum: [...STAGE_STATES.vimis] },
          recipientSystem: { type: 'string' },
          docType: { type: 'integer' },
          statusCode: { type: 'integer' },
        },
      },
    },
    expectations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['stage', 'expectedBy'],
        properties: {
          stage: { enum: [...STAGES] },
          expectedBy: { type: 'string', format: 'date-time' },
          metAt: { type: 'string', format: 'date-time' },
        },
      },
    },
    timeline: {
      type: 'array',
      items: {
        type: 'object',
        required: ['messageId', 'messageType', 'status', 'receivedAt'],
        properties: {
          messageId: { type: 'string' },
          messageType: { enum: [...MESSAGE_TYPES] },
          status: { enum: ['Success', 'Failed'] },
          receivedAt: { type: 'string', format: 'date-time' },
        },
      },
    },
    timelineTruncated: {
      type: 'boolean',
      description: `True when older messages are left out of timeline (it keeps the newest ${DOCUMENT_LIMITS.timeline})`,
    },
    updatedAt: { type: 'string' },
  },
};
const ERROR = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } };
const jsonResponse = (description: string, schema: JsonSchema) => ({ description, content: { 'application/json': { schema } } });
const iam = [{ sigv4: [] }];

/** The document API (IAM auth, SigV4; open on loopback in `npm start`). */
const DOCUMENT_PATHS = {
  '/documents': {
    get: {
      operationId: 'listDocuments',
      summary:
        'Documents written since (default 1d), optionally in one stage state; or, with silent=true, the silent documents; or, with ladder=true, the age ladder',
      security: iam,
      parameters: [
        { name: 'stage', in: 'query', schema: { enum: [...STAGES] } },
        { name: 'state', in: 'query', schema: { type: 'string' }, description: 'Needs stage' },
        {
          name: 'since',
          in: 'query',
          schema: { type: 'string' },
          description: "30s, 15m, 24h, 2d, or an ISO time; at most the site's retentionDays back",
        },
        { name: 'silent', in: 'query', schema: { enum: ['true'] }, description: 'List [{documentId, stage, expectedBy}] past due instead' },
        {
          name: 'ladder',
          in: 'query',
          schema: { enum: ['true'] },
          description:
            'The age ladder instead: {at, total, rungs, byStage, oldest} — documents awaiting a final answer by how long they have waited (5m, 1h, 1d, 7d, 15d, none)',
        },
      ],
      responses: {
        '200': jsonResponse('Documents (or silent documents)', { type: 'array', items: { $ref: '#/components/schemas/Document' } }),
        '400': jsonResponse('A bad filter, named', ERROR),
      },
    },
  },
  '/documents/{documentId}': {
    get: {
      operationId: 'getDocument',
      security: iam,
      parameters: [{ name: 'documentId', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': jsonResponse('The document', { $ref: '#/components/schemas/Document' }),
        '400': jsonResponse('The path is not valid percent-encoded UTF-8', ERROR),
        '404': jsonResponse('Nothing about it', ERROR),
      },
    },
  },
  '/documents/{documentId}/expectations/{stage}': {
    put: {
      operationId: 'expectAnswer',
      summary: 'The MIS expects a final answer for this stage in time; past it, the document is silent',
      security: iam,
      parameters: [
        { name: 'documentId', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'stage', in: 'path', required: true, schema: { enum: [...STAGES] } },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              oneOf: [
                { type: 'object', required: ['within'], properties: { within: { type: 'string' } } },
                { type: 'object', required: ['expectedBy'], properties: { expectedBy: { type: 'string', format: 'date-time' } } },
              ],
            },
          },
        },
      },
      responses: {
        '200': jsonResponse('The document', { $ref: '#/components/schemas/Document' }),
        '400': jsonResponse('A bad stage or time', ERROR),
      },
    },
  },
};

export function buildOpenApi(): JsonSchema {
  const paths = Object.fromEntries(
    MESSAGE_TYPES.map((type) => [
      `/${type}`,
      {
        post: {
          operationId: `receive${type}`,
          summary: messageSpec(type).title,
          parameters: [
            {
              name: SIMULATION_HEADER,
              in: 'header',
              required: false,
              schema: { type: 'string', pattern: SIMULATION_RUN_ID.source },
              description:
                'Sent only by the sender simulator (`n3-callback simulate`), never by N3: its run id. The message reaches the queue ' +
                'marked (`simulation` in the envelope) for the MIS to drop; the same MessageId with and without it is a conflict (409).',
            },
          ],
          requestBody: {
            required: true,
            description:
              'JSON, any content type and charset; a UTF-8 BOM is allowed. At most 4 MiB, ' +
              `${MAX_JSON_TOKENS.toLocaleString('en')} JSON tokens (every key and every value) and ${MAX_EXTRA_KEYS} fields beyond the type's table in any one object. ` +
              'Every string and key must be Unicode text: a lone surrogate (escaped or not) is refused.',
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${type}` } } },
          },
          responses: {
            '200': ackResponse('Accepted, or a re-send of an accepted message: Status=Success'),
            '400': ackResponse('Invalid body or fields (a lone surrogate included): Status=Failed, Message names each field and why'),
            '409': ackResponse('The MessageId was accepted before with other content, or as another type: Status=Failed'),
            '413': ackResponse(
              `Body over 4 MiB, over ${MAX_JSON_TOKENS.toLocaleString('en')} JSON tokens or ${MAX_EXTRA_KEYS} fields beyond the table in one object (Message says which, the count and the cap), ` +
                'or fields (CDA and Data aside) too large to store: Status=Failed',
            ),
            '422': ackResponse(
              'Stored, but the MIS queue refuses it for good (kept as undeliverable): Status=Failed, sending again gives the same answer',
            ),
            '503': ackResponse('Store temporarily unavailable: Status=Failed, send again'),
            '500': ackResponse('Internal error: Status=Failed, send again'),
          },
        },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'N3.Health callback service of an MIS-MO site',
      version: '1.0.0',
      description:
        'Receives the callback messages of the N3.Health delivery module (POST [base]/[MessageType]) and answers each with the ack. ' +
        'Any other path answers 404 with a Failed ack.',
    },
    servers: [{ url: '{base}', variables: { base: { default: 'http://127.0.0.1:3000', description: 'The site callback base URL' } } }],
    paths: { ...paths, ...DOCUMENT_PATHS },
    components: {
      securitySchemes: { sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', description: 'AWS Signature Version 4 (IAM)' } },
      schemas: {
        Document: DOCUMENT,
        ...Object.fromEntries(MESSAGE_TYPES.map((type) => [type, payloadSchema(type, 'request')])),
        Ack: ACK,
        Envelope: envelopeSchema((type) => `#/components/schemas/${type}Payload`),
        ...Object.fromEntries(MESSAGE_TYPES.map((type) => [`${type}Payload`, payloadSchema(type, 'queue')])),
      },
    },
  };
}
