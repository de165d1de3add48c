/*
 * What the MIS's consumers receive: one versioned JSON envelope per MessageId. The one contract
 * between the endpoint (ingest writes it), the consumer library (reads it), and the OpenAPI
 * document (describes it). Consumers read `version` first; new fields may be added, never renamed.
 */

export const ENVELOPE_VERSION = 1;

/** A payload kept in the bucket (claim check): consumers fetch it and check size and sha256. */
export interface PayloadRef {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
}

/*
 * A simulated message: one that `n3-callback simulate` sent, never N3. The sender marks each request with
 * the header below (its value: the simulator's run id); the endpoint keeps the mark with the message and
 * puts it in the envelope as `simulation`, an optional field (added without a new version: README,
 * Versioning). A production MIS deletes a marked message without doing its work.
 * The mark is part of what a MessageId names: the same MessageId with and without it (or with another run
 * id) is a conflict (409, kept under rejected/), never a duplicate, so a marked copy sent first can never
 * make a real message look simulated. Only a sender the gateway lets through (the site's sender range and
 * secret path) can set it: one who could inject false news anyway.
 */
export const SIMULATION_HEADER = 'X-N3-Simulation';
/** A run id: 1-64 letters, digits and `._:-`, starting with a letter or digit (a UUID fits). */
export const SIMULATION_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export interface Simulation {
  /** The simulator's run: every message of one `n3-callback simulate` run carries the same. */
  readonly runId: string;
}

/*
 * A re-delivery: a message `n3-callback replay` put on the queue again, from the stored record, after it was
 * forwarded once (typically because a consumer took it and dropped it). The envelope is the original's, plus
 * `redelivery` (an optional field, added without a new version: docs/consumers.md, Versioning) naming the replay;
 * its MessageGroupId is the original's (order within a document is kept) and its MessageDeduplicationId is
 * `<messageId>:<replayId>`, so FIFO deduplication does not drop it as the original's copy, while a replay resumed
 * after an interruption repeats it exactly (deduplicated within SQS's five minutes). Consumers stay idempotent
 * by `messageId`: a re-delivery of something already processed is skipped like any duplicate.
 */
/** A replay id: 1-64 letters, digits and `._:-`, starting with a letter or digit (as a simulator run id). */
export const REPLAY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export interface Redelivery {
  /** The replay that sent it: every message of one `n3-callback replay` (resumed or not) carries the same. */
  readonly replayId: string;
}

export interface EnvelopeHead {
  readonly version: typeof ENVELOPE_VERSION;
  readonly site: string;
  readonly messageType: string;
  readonly messageId: string;
  readonly receivedAt: string;
  /** Present only on a message `n3-callback simulate` sent: a production MIS drops it. */
  readonly simulation?: Simulation;
  /** Present only on a message `n3-callback replay` sent again: the same message, delivered before. */
  readonly redelivery?: Redelivery;
}

/** The payload inline, or (claim check) where to fetch it: never both. */
export type Envelope = EnvelopeHead &
  (
    | { readonly payload: Record<string, unknown>; readonly payloadRef?: never }
    | { readonly payloadRef: PayloadRef; readonly payload?: never }
  );
