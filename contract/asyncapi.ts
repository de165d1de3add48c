import { ENVELOPE_VERSION } from './envelope';
import { MAX_INLINE_PAYLOAD_BYTES } from './limits';
import { MESSAGE_TYPES, messageSpec, type MessageType } from './catalog';
import { STATUSES } from './fields';
import { envelopeSchema, type JsonSchema, payloadSchema } from './schemas';

/*
 * The site's MIS queue as AsyncAPI 3: the channel (SQS FIFO and its dead-letter queue, with their
 * settings), one message per MessageType (the envelope, its attributes, group and deduplication ids),
 * and the consumer's rules (at-least-once, the claim check, unknown versions). Schemas are the same
 * definitions as docs/schemas/ (schemas.ts). The queue's settings come from the caller (the adapters'
 * QUEUE shape, which the stack deploys), since this layer sits below the adapters.
 * `npm run contracts` writes docs/asyncapi.json.
 */

/** The queue settings the stack deploys (contract/shapes.ts QUEUE). */
export interface QueueSettings {
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly retentionSeconds: number;
  readonly deduplicationScope: 'messageGroup' | 'queue';
  readonly fifoThroughputLimit: 'perMessageGroupId' | 'perQueue';
}

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const CONSUMING = [
  'Delivery is **at least once**: the same message can arrive again (a consumer that dies after its work but before',
  "DeleteMessage, a visibility timeout that runs out, an operator's `n3-callback replay`, marked `redelivery`). Be",
  'idempotent by `messageId` (the MessageDeduplicationId, except on a re-delivery: `<messageId>:<replayId>`), e.g. a',
  'unique key in your database. The steps, by AWS SDK call:',
  '',
  '1. `ReceiveMessage` with `WaitTimeSeconds` 20 (long polling), `MaxNumberOfMessages` up to 10,',
  '   `MessageAttributeNames` [`All`], `MessageSystemAttributeNames` [`MessageGroupId`, `ApproximateReceiveCount`].',
  `2. Parse the body; read \`version\` first. A version you do not know (this document describes ${ENVELOPE_VERSION}): do **not**`,
  '   delete the message, report it (it reaches the dead-letter queue after the redrive count, which is alarmed) and',
  '   upgrade the consumer. Ignore fields you do not know, in the envelope and in the payload.',
  '3. `payload` inline, or `payloadRef` (claim check): `GetObject` (bucket, key); refuse the object unless its byte',
  '   length is `size` and the hex SHA-256 of its bytes is `sha256`; its UTF-8 JSON is the payload.',
  '4. Skip the work if `messageId` is already processed; else do it and record the id, atomically where you can. A',
  '   production MIS deletes a message carrying `simulation` (sent by the sender simulator, never by N3) without the work.',
  '5. `DeleteMessage` with the receipt handle. A message not deleted comes back after the visibility timeout;',
  '   messages of one MessageGroupId (one document) are handed out in order, one batch at a time.',
].join('\n');

function message(type: MessageType): JsonSchema {
  const spec = messageSpec(type);
  return {
    name: type,
    title: spec.title,
    summary: `${type}: ${spec.title}`,
    contentType: 'application/json',
    headers: {
      type: 'object',
      description: 'SQS message attributes (DataType String): route, filter or count without parsing the body',
      required: ['MessageType', 'Lpu', 'Status'],
      properties: {
        MessageType: { type: 'string', const: type },
        Lpu: { type: 'string', minLength: 1, description: 'The payload Lpu (the medical organisation)' },
        Status: { type: 'string', enum: [...STATUSES], description: 'The payload Status' },
      },
    },
    payload: { allOf: [schemaRef('Envelope'), { properties: { messageType: { const: type } } }] },
    correlationId: {
      description: 'The MessageId: the SQS MessageDeduplicationId and the idempotency key',
      location: '$message.payload#/messageId',
    },
    'x-sqs-message-group-id': {
      field: spec.documentKey,
      description:
        `The document the message is about: the payload's ${spec.documentKey} when it is 1-128 printable ASCII characters, ` +
        "else `sha256-` and its hex SHA-256. One document's news arrives in order; different documents flow in parallel.",
    },
    'x-sqs-message-deduplication-id': {
      location: '$message.payload#/messageId',
      description: 'The messageId; on a re-delivery (`redelivery` present) `<messageId>:<replayId>`, so FIFO deduplication keeps it',
    },
  };
}

export function buildAsyncApi(queue: QueueSettings): JsonSchema {
  const messageRefs = (channel: string) => MESSAGE_TYPES.map((type) => ({ $ref: `#/channels/${channel}/messages/${type}` }));
  const channelMessages = Object.fromEntries(MESSAGE_TYPES.map((type) => [type, { $ref: `#/components/messages/${type}` }]));
  const deadLetterQueue = { name: 'DeadLetterQueue', fifoQueue: true, messageRetentionPeriod: queue.retentionSeconds };
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'N3.Health callbacks: the MIS queue of an MIS-MO site',
      version: `${ENVELOPE_VERSION}.0.0`,
      description:
        'Each callback the site accepted from the N3.Health delivery module, once per MessageId, as a versioned JSON ' +
        `envelope (version ${ENVELOPE_VERSION}) on an SQS FIFO queue. The payload schemas are also published as JSON Schema ` +
        '2020-12 in docs/schemas/; the document API (HTTP) is in docs/openapi.json.\n\n' +
        CONSUMING,
    },
    defaultContentType: 'application/json',
    servers: {
      aws: {
        host: 'sqs.{region}.amazonaws.com',
        protocol: 'sqs',
        description:
          'AWS SQS (with S3 for claim-checked payloads), signed with SigV4 by the AWS SDK. The stack output ' +
          'ConsumerPolicyArn grants a consumer exactly what it needs: receive, delete and change visibility on the queue, ' +
          'GetObject under the site prefix of the bucket.',
        variables: { region: { default: 'eu-central-1', description: 'The region the site stack is deployed in' } },
      },
      local: {
        host: '127.0.0.1:{port}',
        protocol: 'sqs',
        description: '`npm start`: fauxqs (SQS and S3) on the port it prints (also in GET /_local/info); any credentials',
        variables: { port: { description: 'The sqsEndpoint port of /_local/info' } },
      },
    },
    channels: {
      callbacks: {
        address: '{queueName}',
        title: 'The MIS queue (FIFO)',
        description:
          'One message per accepted MessageId. MessageGroupId: the document the message is about; MessageDeduplicationId: ' +
          "the MessageId (a re-send, a concurrent delivery or the reconciler never adds a copy within SQS's 5-minute window; " +
          "consumers still de-duplicate: delivery is at least once). A re-delivery (`n3-callback replay`, the envelope's `redelivery`) " +
          'keeps the group and takes `<messageId>:<replayId>` as its deduplication id. A payload larger than ' +
          `${MAX_INLINE_PAYLOAD_BYTES} bytes (MAX_INLINE_PAYLOAD_BYTES, the default) travels by reference (payloadRef).`,
        parameters: {
          queueName: { description: 'The last segment of the stack output QueueUrl (CloudFormation names it; it ends in .fifo)' },
        },
        messages: channelMessages,
        bindings: {
          sqs: {
            queue: {
              name: 'MisQueue',
              fifoQueue: true,
              deduplicationScope: queue.deduplicationScope,
              fifoThroughputLimit: queue.fifoThroughputLimit,
              visibilityTimeout: queue.visibilityTimeoutSeconds,
              messageRetentionPeriod: queue.retentionSeconds,
              redrivePolicy: { deadLetterQueue: { name: deadLetterQueue.name }, maxReceiveCount: queue.maxReceiveCount },
            },
            deadLetterQueue,
            bindingVersion: '0.2.0',
          },
        },
        'x-delivery': 'at-least-once',
      },
      deadLetters: {
        address: '{dlqName}',
        title: 'The dead-letter queue (FIFO)',
        description:
          `Messages received ${queue.maxReceiveCount} times without being deleted (a consumer that keeps failing, or an envelope ` +
          'version it does not know). The DLQ-not-empty alarm fires; fix the consumer, then redrive them to the queue.',
        parameters: { dlqName: { description: 'The last segment of the stack output DlqUrl' } },
        messages: channelMessages,
        bindings: { sqs: { queue: deadLetterQueue, bindingVersion: '0.2.0' } },
      },
    },
    operations: {
      receiveCallbacks: {
        action: 'receive',
        channel: { $ref: '#/channels/callbacks' },
        title: 'Consume callbacks',
        description: CONSUMING,
        messages: messageRefs('callbacks'),
      },
      inspectDeadLetters: {
        action: 'receive',
        channel: { $ref: '#/channels/deadLetters' },
        title: 'Look at messages the consumer could not process',
        messages: messageRefs('deadLetters'),
      },
    },
    components: {
      messages: Object.fromEntries(MESSAGE_TYPES.map((type) => [type, message(type)])),
      schemas: {
        Envelope: envelopeSchema((type) => `#/components/schemas/${type}Payload`),
        ...Object.fromEntries(MESSAGE_TYPES.map((type) => [`${type}Payload`, payloadSchema(type, 'queue')])),
      },
    },
  };
}
