/*
 * Every deadline of an AWS call the functions make, and the answers they add up to, in one place.
 *
 * Each SDK client has two bounds:
 *   - per attempt: `connectMs` to connect, `attemptMs` from the request's start to the answer's headers (the
 *     Node handler's `requestTimeout`, with `throwOnRequestTimeout`: without it this SDK only logs a warning
 *     and waits for ever), and `attemptMs` of silence on the socket while the answer's body streams;
 *   - per operation: `overallMs` across every attempt and the back-off between them (an AbortSignal on each
 *     send, lambdas/adapters/aws.ts), so a service that hangs costs one known amount, whatever the retries.
 * `attempts` is the SDK's `maxAttempts`: retries help against fast failures (a reset, a 500, throttling);
 * against a hang the overall bound ends the call first.
 *
 * The receivers run with a 15 s timeout (lib/functions.ts) behind API Gateway's 29 s. What a receiver answers
 * when one service hangs (tested against a black-hole and a slow server, test/integration/deadlines.test.ts):
 *   - the queue (SQS) hangs: the record is stored, the ack is "deferred" Success, the Sweep forwards it later;
 *   - the table (DynamoDB) hangs: 503, nothing stored, the sender retries;
 *   - the bucket (S3) hangs: a large payload gets 503 (nothing stored, the sender retries); a rejected request
 *     keeps its 4xx ack, is not kept under rejected/, and counts toward the RejectedNotKept alarm.
 * Not bounded by these alone: a chain where every service is slow but each answers just inside its bound can
 * outlast the function; Lambda then ends it and the gateway answers 5xx, and the sender's retry is idempotent.
 */

export interface CallDeadline {
  /** TCP (and TLS) connect, per attempt. */
  readonly connectMs: number;
  /** One attempt: from the request's start to the answer's headers; also the longest silence while a body streams. */
  readonly attemptMs: number;
  /** The SDK's maxAttempts. */
  readonly attempts: number;
  /** The whole operation, every attempt and back-off included. */
  readonly overallMs: number;
}

export const SDK_DEADLINES = {
  /**
   * DynamoDB answers in milliseconds (a 400 KB item included); 1.5 s per attempt leaves room for a cold TLS
   * connection and a slow partition. 4 s overall: a receiver whose table hangs answers 503 within 5 s, a
   * third of its timeout, and the sender's retry comes sooner than if we had waited.
   */
  dynamodb: { connectMs: 1_000, attemptMs: 1_500, attempts: 3, overallMs: 4_000 },
  /**
   * SendMessage answers in tens of milliseconds (a KMS data key included). 4 s overall, so that a receiver whose
   * queue hangs, after its record is stored, still answers the deferred Success within 5 s.
   */
  sqs: { connectMs: 1_000, attemptMs: 2_000, attempts: 3, overallMs: 4_000 },
  /**
   * The bucket takes payloads up to 4 MiB (MAX_BODY_BYTES): in region that is well under a second, so 3 s per
   * attempt. 6 s overall: a large payload whose bucket hangs is answered 503 within 7 s.
   */
  s3: { connectMs: 1_000, attemptMs: 3_000, attempts: 3, overallMs: 6_000 },
} as const satisfies Record<string, CallDeadline>;

export type DeadlineService = keyof typeof SDK_DEADLINES;

/**
 * For the local emulators (`npm start`, the tests), not AWS: DynamoDB Local (Java) and fauxqs share a developer's
 * or CI's few cores with everything else, and under load answer in seconds what AWS answers in milliseconds; the
 * deployed bounds would turn that into 503s AWS never gives. A hang still ends, inside the local gateway's 29 s.
 * The deadline tests give the service they make hang the deployed bounds, and the healthy ones these.
 */
export const EMULATOR_DEADLINE: CallDeadline = { connectMs: 5_000, attemptMs: 20_000, attempts: 3, overallMs: 25_000 };

/** The receivers' function timeout (lib/functions.ts): every answer below comes well before it. */
export const RECEIVER_TIMEOUT_MS = 15_000;

/**
 * Room for the calls that do answer and the handler's own work, on top of the one call that hangs: a stated
 * answer deadline is the hanging client's `overallMs` plus this.
 */
export const HEALTHY_CALLS_MS = 1_000;

/** When a receiver gives its designed answer, at the latest, while one service hangs (the README's table). */
export const ANSWER_WITHIN_MS = {
  /** Deferred Success: the record is stored, the Sweep forwards it. */
  queueHangs: SDK_DEADLINES.sqs.overallMs + HEALTHY_CALLS_MS,
  /** 503: nothing stored, the sender retries. */
  tableHangs: SDK_DEADLINES.dynamodb.overallMs + HEALTHY_CALLS_MS,
  /** 503 for a large payload (nothing stored); a rejected request's own 4xx ack, the request not kept. */
  bucketHangs: SDK_DEADLINES.s3.overallMs + HEALTHY_CALLS_MS,
} as const;

/**
 * The Sweep, on the fleet's one-minute tick (lib/fleet-stack.ts TICK_RATE). Its timeout is below the tick, and it
 * has no asynchronous retries and a short event age (lib/functions.ts), so a run has ended before the next
 * tick starts one: at most one Sweep per site at a time, whatever hangs.
 */
export const SWEEP = {
  /** Below the 60 s tick, with room for an invocation that starts a few seconds late. */
  timeoutSeconds: 40,
  /** Lambda's smallest: a tick that could not be delivered within a minute is dropped; the next one replaces it. */
  maxEventAgeSeconds: 60,
  /** A failed run is not retried: the next tick is the retry. */
  retryAttempts: 0,
} as const;

/** What publishing the run's metrics and returning take at the end of a run. */
const FLUSH_MS = 1_000;

/**
 * The reconciler starts no new message with less time left than this: the worst its send and mark can take
 * (the queue's and the table's overall bounds), the count of what stays pending after it, and the flush. So
 * a run whose calls all hang still returns, with its report and metrics, before the function's timeout.
 */
export const RECONCILE_RESERVE_MS = SDK_DEADLINES.sqs.overallMs + 2 * SDK_DEADLINES.dynamodb.overallMs + FLUSH_MS;

/** The Node HTTP handler's options for one client's deadline: plain options, so no SDK import is needed here. */
export function requestHandlerOptions(deadline: Pick<CallDeadline, 'connectMs' | 'attemptMs'>) {
  return {
    connectionTimeout: deadline.connectMs,
    requestTimeout: deadline.attemptMs,
    socketTimeout: deadline.attemptMs,
    // Without it the SDK logs "exceeded the configured requestTimeout" and keeps waiting.
    throwOnRequestTimeout: true,
  } as const;
}

/**
 * For the tools an operator or the MIS runs against AWS (the CLI, the consumer library), where nobody waits on an
 * ack: generous, but a hang still ends. `attemptMs` must exceed a long poll's wait (SQS: up to 20 s).
 */
export const TOOL_DEADLINE = { connectMs: 5_000, attemptMs: 40_000 } as const;

/** An SDK client's settings for such a tool (spread into its config): its requests end at TOOL_DEADLINE. */
export const toolClientSettings = () => ({ requestHandler: requestHandlerOptions(TOOL_DEADLINE) });
