import { createHash } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { toolClientSettings } from '../contract/deadlines';
import {
  ENVELOPE_VERSION,
  type Envelope,
  type EnvelopeHead,
  type PayloadRef,
  type Redelivery,
  type Simulation,
} from '../contract/envelope';
import { MESSAGE_TYPES, type MessageType, type Payload } from '../contract/catalog';

/*
 * The MIS side of the queue: typed handlers per MessageType on top of sqs-consumer
 * (long polling, batches, visibility heartbeat), with a stop that does not wait out a long poll and a
 * backoff that does not spin on a queue it cannot reach. Large payloads are fetched
 * from the bucket and checked (size, sha256) before a handler sees them.
 *
 * Handlers must be idempotent by MessageId: the queue delivers at least once (a consumer
 * that dies after its work but before the delete gets the message again).
 */

export { MESSAGE_TYPES, type MessageType, type Payload, type Redelivery, type Simulation };

/*
 * The envelope's facts a handler gets: every field of contract/envelope.ts's EnvelopeHead but `version` (the
 * library checks it) and the payload, resolved. A field added there must be added to HEAD_FIELDS too (tsc
 * says so below): then it reaches handlers, typed, with no other change here.
 */
const HEAD_FIELDS = ['site', 'messageId', 'receivedAt', 'simulation', 'redelivery'] as const satisfies readonly (keyof EnvelopeHead)[];
type NotHandedOver = Exclude<keyof EnvelopeHead, (typeof HEAD_FIELDS)[number] | 'version' | 'messageType'>;
const everyHeadFieldHandedOver: [NotHandedOver] extends [never] ? true : `add ${NotHandedOver} to HEAD_FIELDS` = true;
void everyHeadFieldHandedOver;

/** One callback as the MIS gets it: the envelope's facts (`messageId`, lower-cased, is the key to be idempotent on) and the payload, resolved and typed. */
export type CallbackMessage<T extends MessageType = MessageType> = Omit<EnvelopeHead, 'version' | 'messageType'> & {
  readonly messageType: T;
  readonly payload: Payload<T>;
  /** How many times SQS has handed this message out (1 the first time). */
  readonly receiveCount: number;
};

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
  /** Default: region, credentials and endpoint from the environment (AWS_REGION, AWS_ENDPOINT_URL_SQS, …). */
  readonly sqs?: SQSClient;
  /** Default: as `sqs` (AWS_ENDPOINT_URL_S3). */
  readonly s3?: S3Client;
  /** Messages per receive, 1-10 (default 10). */
  readonly batchSize?: number;
  /** Seconds a received message stays hidden; extended by a heartbeat while handlers run (default 60). */
  readonly visibilityTimeout?: number;
  /** Long-poll wait, seconds (default 20). `stop()` cuts a long poll short. */
  readonly waitTimeSeconds?: number;
  /**
   * Messages the sender simulator sent (`isSimulation`): handed to the handlers like any other (the default: a
   * test MIS sees them), or deleted unhandled (`delete`: what a production MIS wants).
   */
  readonly simulations?: 'handle' | 'delete';
  /**
   * Told of every message that failed (it stays on the queue: `message` is set), and of errors reaching the
   * queue itself (receive: region, credentials, network; no `message`). Those come once per distinct error per
   * `errorReportIntervalMs`, with `repeats`: how many more of the same were not reported since the last time.
   * Default: one line on stderr each.
   */
  readonly onError?: (error: Error, message?: Message, repeats?: number) => void;
  /** Default 60 000. */
  readonly errorReportIntervalMs?: number;
  /**
   * After a failed receive, or a batch in which every message failed, the next receive waits: exponential from
   * `firstMs`, doubling up to `maxMs`, each wait drawn between half and all of it (jitter, so a fleet of
   * consumers does not retry in step). Default 500 ms up to 30 s; a success starts again from the first.
   */
  readonly backoff?: { readonly firstMs?: number; readonly maxMs?: number };
}

/** The signals `stopOnSignals` can listen to (named here, so the package's types need no @types/node). */
export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGQUIT' | 'SIGUSR1' | 'SIGUSR2';

export interface CallbackConsumer {
  start(): void;
  /**
   * Stops within a second: a long poll in flight with more than a second to go is cut short, the message in
   * its handler is finished (deleted or left, as its handler decides), the rest of its batch is handed back to
   * the queue at once, unhandled. Resolves then.
   */
  stop(): Promise<void>;
  /**
   * On SIGINT or SIGTERM (or the `signals` given): says so on `log` (default stderr), stops as `stop()` does,
   * says `stopped`, and ends the process (exit code 0; 1 if stopping failed). A second signal ends it at once
   * (the messages in hand come back after their visibility timeout). For a process that only consumes: one
   * that serves other work stops its consumer from its own shutdown instead.
   */
  stopOnSignals(options?: { readonly signals?: readonly StopSignal[]; readonly log?: (line: string) => void }): void;
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

const defaultOnError = (error: Error, message?: Message, repeats = 0) =>
  console.error(
    `n3-callback consumer: ${message ? `message ${message.MessageId} left on the queue: ` : ''}${error.message.split('\n')[0]}` +
      (repeats ? ` (${repeats} more like it since the last report)` : ''),
  );

export function createCallbackConsumer(options: CallbackConsumerOptions): CallbackConsumer {
  // A hung call ends (contract/deadlines.ts, TOOL_DEADLINE: longer than a long poll's 20 s); pass clients of your own to choose.
  const sqs = options.sqs ?? new SQSClient(toolClientSettings());
  const s3 = options.s3 ?? new S3Client(toolClientSettings());
  const visibilityTimeout = options.visibilityTimeout ?? 60;
  const onError = options.onError ?? defaultOnError;
  const reportQueueError = queueErrorReporter(onError, options.errorReportIntervalMs ?? 60_000);
  const backoff = backoffSchedule(options.backoff?.firstMs ?? 500, options.backoff?.maxMs ?? 30_000);

  let stopping = false;
  // Aborts the receive in flight, and only it: a batch in hand keeps its deletes (sqs-consumer's own abort would cancel those too).
  let receiveAbort = new AbortController();
  let wakeFromBackoff: (() => void) | undefined;
  // The current cycle (backoff, receive, batch): stop() waits for it.
  let cycle: { done: Promise<void>; end: () => void } | undefined;
  const endCycle = () => {
    cycle?.end();
    cycle = undefined;
  };
  // When the receive in flight ends at the latest, as the long poll goes.
  let receiveEndsBy = 0;
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const receivingSqs = Object.create(sqs, {
    send: {
      value: (command: Parameters<SQSClient['send']>[0], sendOptions?: { abortSignal?: AbortSignal }) => {
        if (!(command instanceof ReceiveMessageCommand)) return sqs.send(command, sendOptions);
        receiveEndsBy = Date.now() + waitTimeSeconds * 1000;
        return sqs.send(command, {
          ...sendOptions,
          abortSignal: sendOptions?.abortSignal ? AbortSignal.any([sendOptions.abortSignal, receiveAbort.signal]) : receiveAbort.signal,
        });
      },
    },
  }) as SQSClient;

  const sqsConsumer = Consumer.create({
    queueUrl: options.queueUrl,
    sqs: receivingSqs,
    batchSize: options.batchSize ?? 10,
    waitTimeSeconds,
    visibilityTimeout,
    // Our backoff decides every wait (sqs-consumer would add 10 s of its own after a 403 or a connection error).
    authenticationErrorTimeout: 0,
    // Keeps long handlers' messages hidden; pointless (and rejected) for very short timeouts.
    heartbeatInterval: visibilityTimeout >= 3 ? Math.floor(visibilityTimeout / 3) : undefined,
    messageAttributeNames: ['All'],
    messageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
    suppressFifoWarning: true,
    preReceiveMessageCallback: async () => {
      let end!: () => void;
      cycle = { done: new Promise<void>((resolve) => (end = resolve)), end };
      const wait = backoff.next();
      if (wait > 0 && !stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wakeFromBackoff = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeFromBackoff = undefined;
      }
    },
    // One batch, processed in the queue's order: a failure in a document's group holds back the
    // rest of that group (they would be out of order), other documents go on.
    handleMessageBatch: async (messages) => {
      const done: Message[] = [];
      const handBack: Message[] = [];
      const blockedGroups = new Set<string>();
      let failed = 0;
      for (const message of messages) {
        if (stopping) {
          handBack.push(message);
          continue;
        }
        const group = message.Attributes?.MessageGroupId ?? '';
        if (blockedGroups.has(group)) continue;
        try {
          if (await handle(message)) done.push(message);
        } catch (error) {
          failed++;
          blockedGroups.add(group);
          onError(error as Error, message);
        }
      }
      if (failed > 0 && done.length === 0) backoff.failed();
      else backoff.succeeded();
      if (handBack.length) await release(handBack);
      return done;
    },
  });
  sqsConsumer.on('error', (error, message) => {
    if (message !== undefined) return onError(error, Array.isArray(message) ? undefined : message);
    // No message: the receive failed (or was cut short by stop()); the cycle is over.
    if (!stopping) {
      backoff.failed();
      reportQueueError(error);
    }
    endCycle();
  });
  sqsConsumer.on('empty', () => {
    backoff.succeeded();
    endCycle();
  });
  sqsConsumer.on('response_processed', endCycle);

  /** Messages taken but not started when stop() came: visible again now, not after the visibility timeout. */
  async function release(messages: Message[]): Promise<void> {
    try {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    } catch (error) {
      // They come back after the visibility timeout instead.
      reportQueueError(error as Error);
    }
  }

  /** True when the message may be deleted. */
  async function handle(message: Message): Promise<boolean> {
    const envelope = parseEnvelope(message.Body);
    if (isSimulation(envelope) && options.simulations === 'delete') return true;
    const handler = options.handlers[envelope.messageType as MessageType] as ((m: CallbackMessage) => Promise<void>) | undefined;
    if (!handler) return options.onUnhandled === 'delete';
    const payload = envelope.payloadRef ? await fetchPayload(s3, envelope.payloadRef) : envelope.payload;
    const head = Object.fromEntries(HEAD_FIELDS.filter((field) => envelope[field] !== undefined).map((field) => [field, envelope[field]]));
    await handler({
      ...(head as Omit<EnvelopeHead, 'version' | 'messageType'>),
      ...(envelope.simulation ? { simulation: { runId: envelope.simulation.runId } } : {}),
      messageType: envelope.messageType as MessageType,
      payload: payload as Payload,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
      ...(envelope.redelivery ? { redelivery: { replayId: String(envelope.redelivery.replayId) } } : {}),
    });
    return true;
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (!sqsConsumer.status.isRunning) return stopped ?? Promise.resolve();
    stopping = true;
    sqsConsumer.stop();
    wakeFromBackoff?.();
    // A long poll cut short may still, on the queue's side, take a message that arrives in that instant (hidden
    // until its visibility timeout): so only one with more than a second to go is cut; a shorter one is waited for.
    if (receiveEndsBy - Date.now() > 1000) receiveAbort.abort();
    stopped = cycle?.done ?? Promise.resolve();
    return stopped;
  };

  return {
    sqsConsumer,
    start: () => {
      if (sqsConsumer.status.isRunning) return;
      stopping = false;
      receiveAbort = new AbortController();
      sqsConsumer.start();
    },
    stop,
    stopOnSignals: ({ signals = ['SIGINT', 'SIGTERM'], log = (line: string) => console.error(line) } = {}) => {
      let received = false;
      const onSignal = (signal: StopSignal) => {
        if (received) {
          log(`${signal} again: exiting now; messages in hand return to the queue after their visibility timeout`);
          process.exit(130);
        }
        received = true;
        log(`${signal}: stopping after the message in hand…`);
        stop().then(
          () => {
            log('stopped');
            process.exit(0);
          },
          (error: Error) => {
            log(`stopping failed: ${error.message}`);
            process.exit(1);
          },
        );
      };
      for (const signal of signals) process.on(signal, onSignal);
    },
  };
}

/** Exponential backoff with jitter: the wait before the next receive. */
function backoffSchedule(firstMs: number, maxMs: number) {
  let failures = 0;
  return {
    next: () => {
      if (failures === 0) return 0;
      const ceiling = Math.min(maxMs, firstMs * 2 ** (failures - 1));
      return ceiling / 2 + Math.random() * (ceiling / 2);
    },
    failed: () => {
      // Past the cap the exponent stops growing (and never overflows).
      if (firstMs * 2 ** failures <= maxMs * 2) failures++;
    },
    succeeded: () => {
      failures = 0;
    },
  };
}

/** Reports an error reaching the queue once per distinct error per interval, counting the ones it holds back. */
function queueErrorReporter(onError: NonNullable<CallbackConsumerOptions['onError']>, intervalMs: number) {
  const seen = new Map<string, { reportedAt: number; repeats: number }>();
  return (error: Error) => {
    const key = `${error.name}: ${error.message}`;
    const now = Date.now();
    const last = seen.get(key);
    if (last && now - last.reportedAt < intervalMs) {
      last.repeats++;
      return;
    }
    if (seen.size > 100) for (const [k, v] of seen) if (now - v.reportedAt >= intervalMs) seen.delete(k);
    seen.set(key, { reportedAt: now, repeats: 0 });
    onError(error, undefined, last?.repeats ?? 0);
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
