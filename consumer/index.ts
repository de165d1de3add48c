import { createHash } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient, type Message } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { toolClientSettings } from '../contract/deadlines';
import { ENVELOPE_VERSION, type Envelope, type PayloadRef, type Redelivery, type Simulation } from '../contract/envelope';
import { MESSAGE_TYPES, type MessageType, type Payload } from '../contract/catalog';

/*
 * The MIS side of the queue: typed handlers per MessageType on top of sqs-consumer
 * (long polling, batches, visibility heartbeat, graceful stop). Large payloads are fetched
 * from the bucket and checked (size, sha256) before a handler sees them.
 *
 * Handlers must be idempotent by MessageId: the queue delivers at least once (a consumer
 * that dies after its work but before the delete gets the message again).
 */

export { MESSAGE_TYPES, type MessageType, type Payload, type Redelivery, type Simulation };

/** One callback as the MIS gets it: the envelope's facts and the payload, resolved and typed. */
export interface CallbackMessage<T extends MessageType = MessageType> {
  readonly messageType: T;
  /** Lower-cased; the key to be idempotent on. */
  readonly messageId: string;
  readonly site: string;
  readonly receivedAt: string;
  readonly payload: Payload<T>;
  /** How many times SQS has handed this message out (1 the first time). */
  readonly receiveCount: number;
  /** Present only when the sender simulator (`n3-callback simulate`) sent it, never N3: see `isSimulation`. */
  readonly simulation?: Simulation;
  /**
   * Present only when an operator put the message on the queue again (`n3-callback replay`): it may have been
   * handled before, so be idempotent by `messageId` as for any delivery.
   */
  readonly redelivery?: Redelivery;
}

/**
 * True for a message the sender simulator sent (the envelope's `simulation`), never true for one from N3.
 * A production MIS drops these without doing its work (or sets `simulations: 'delete'`).
 */
export const isSimulation = (message: { readonly simulation?: Simulation }): boolean => message.simulation !== undefined;

export type CallbackHandlers = {
  readonly [T in MessageType]?: (message: CallbackMessage<T>) => Promise<void>;
};

export interface CallbackConsumerOptions {
  readonly queueUrl: string;
  readonly handlers: CallbackHandlers;
  /** What to do with a type that has no handler: keep it (it goes to the DLQ after 5 receives) or delete it. */
  readonly onUnhandled?: 'keep' | 'delete';
  readonly sqs?: SQSClient;
  readonly s3?: S3Client;
  /** Messages per receive, 1-10 (default 10). */
  readonly batchSize?: number;
  /** Seconds a received message stays hidden; extended by a heartbeat while handlers run (default 60). */
  readonly visibilityTimeout?: number;
  /** Long-poll wait, seconds (default 20). */
  readonly waitTimeSeconds?: number;
  /**
   * Messages the sender simulator sent (`isSimulation`): handed to the handlers like any other (the default: a
   * test MIS sees them), or deleted unhandled (`delete`: what a production MIS wants).
   */
  readonly simulations?: 'handle' | 'delete';
  /** Called for every message that failed (it stays on the queue) and for polling errors. */
  readonly onError?: (error: Error, message?: Message) => void;
}

export interface CallbackConsumer {
  start(): void;
  /** Stops polling and waits for in-flight handlers to finish. */
  stop(): Promise<void>;
  readonly sqsConsumer: Consumer;
}

export class PayloadIntegrityError extends Error {
  constructor(
    message: string,
    readonly ref: PayloadRef,
  ) {
    super(message);
    this.name = 'PayloadIntegrityError';
  }
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

export function createCallbackConsumer(options: CallbackConsumerOptions): CallbackConsumer {
  // A hung call ends (contract/deadlines.ts, TOOL_DEADLINE: longer than a long poll's 20 s); pass clients of your own to choose.
  const sqs = options.sqs ?? new SQSClient(toolClientSettings());
  const s3 = options.s3 ?? new S3Client(toolClientSettings());
  const visibilityTimeout = options.visibilityTimeout ?? 60;
  const report = (error: Error, message?: Message) => options.onError?.(error, message);

  const sqsConsumer = Consumer.create({
    queueUrl: options.queueUrl,
    sqs,
    batchSize: options.batchSize ?? 10,
    waitTimeSeconds: options.waitTimeSeconds ?? 20,
    visibilityTimeout,
    // stop() waits for the poll in flight and its handlers, so no message is taken after it resolves.
    pollingCompleteWaitTimeMs: ((options.waitTimeSeconds ?? 20) + visibilityTimeout + 5) * 1000,
    // Keeps long handlers' messages hidden; pointless (and rejected) for very short timeouts.
    heartbeatInterval: visibilityTimeout >= 3 ? Math.floor(visibilityTimeout / 3) : undefined,
    messageAttributeNames: ['All'],
    messageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
    suppressFifoWarning: true,
    // One batch, processed in the queue's order: a failure in a document's group holds back the
    // rest of that group (they would be out of order), other documents go on.
    handleMessageBatch: async (messages) => {
      const done: Message[] = [];
      const blockedGroups = new Set<string>();
      for (const message of messages) {
        const group = message.Attributes?.MessageGroupId ?? '';
        if (blockedGroups.has(group)) continue;
        try {
          if (await handle(message)) done.push(message);
        } catch (error) {
          blockedGroups.add(group);
          report(error as Error, message);
        }
      }
      return done;
    },
  });
  sqsConsumer.on('error', (error, message) => report(error, Array.isArray(message) ? undefined : message));

  /** True when the message may be deleted. */
  async function handle(message: Message): Promise<boolean> {
    const envelope = parseEnvelope(message.Body);
    if (isSimulation(envelope) && options.simulations === 'delete') return true;
    const handler = options.handlers[envelope.messageType as MessageType] as ((m: CallbackMessage) => Promise<void>) | undefined;
    if (!handler) return options.onUnhandled === 'delete';
    const payload = envelope.payloadRef ? await fetchPayload(s3, envelope.payloadRef) : envelope.payload;
    await handler({
      messageType: envelope.messageType as MessageType,
      messageId: envelope.messageId,
      site: envelope.site,
      receivedAt: envelope.receivedAt,
      payload: payload as Payload,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
      ...(envelope.simulation ? { simulation: { runId: envelope.simulation.runId } } : {}),
      ...(envelope.redelivery ? { redelivery: { replayId: String(envelope.redelivery.replayId) } } : {}),
    });
    return true;
  }

  return {
    sqsConsumer,
    start: () => sqsConsumer.start(),
    stop: () =>
      new Promise<void>((resolve) => {
        if (!sqsConsumer.status.isRunning) return resolve();
        sqsConsumer.once('stopped', () => resolve());
        sqsConsumer.stop();
      }),
  };
}

export function parseEnvelope(body: string | undefined): Envelope {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(body ?? '') as Envelope;
  } catch {
    throw new EnvelopeError('message body is not JSON');
  }
  if (envelope?.version !== ENVELOPE_VERSION) throw new EnvelopeError(`unsupported envelope version ${String(envelope?.version)}`);
  if (!MESSAGE_TYPES.includes(envelope.messageType as MessageType))
    throw new EnvelopeError(`unknown messageType ${String(envelope.messageType).slice(0, 40)}`);
  if (!envelope.payload === !envelope.payloadRef) throw new EnvelopeError('envelope must carry exactly one of payload and payloadRef');
  if (envelope.simulation !== undefined && typeof envelope.simulation?.runId !== 'string')
    throw new EnvelopeError('simulation must carry a runId');
  return envelope;
}

/** Fetches a claim-checked payload and refuses it unless size and sha256 match the reference. */
export async function fetchPayload(s3: S3Client, ref: PayloadRef): Promise<Record<string, unknown>> {
  const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  const bytes = Buffer.from(await object.Body!.transformToByteArray());
  if (bytes.length !== ref.size) throw new PayloadIntegrityError(`payload ${ref.key}: ${bytes.length} bytes, expected ${ref.size}`, ref);
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== ref.sha256) throw new PayloadIntegrityError(`payload ${ref.key}: sha256 mismatch`, ref);
  return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
}

export {
  createDocumentsClient,
  type DocumentFilter,
  type DocumentsClient,
  type DocumentsClientOptions,
  DocumentsApiError,
  type DocumentView,
  type SilentDocument,
  type Stage,
} from './documents';
