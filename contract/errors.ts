/*
 * Every failure the endpoint knows by name. `status` is what the sender sees; the
 * one mapping to an ack lives in protocol/ack.ts. Below 500 the reason is safe to
 * show (it names fields, never echoes values); 5xx details stay in the logs.
 */

export abstract class CallbackError extends Error {
  abstract readonly status: number;
  /** Short machine name for logs and metrics. */
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidBodyError extends CallbackError {
  readonly status = 400;
  readonly code = 'invalid_body';
}

/** One thing wrong with a message: which field, and why (never the value sent). */
export interface FieldIssue {
  readonly field: string;
  readonly reason: string;
}

export class ValidationError extends CallbackError {
  readonly status = 400;
  readonly code = 'invalid_fields';
  constructor(readonly issues: readonly FieldIssue[]) {
    super(issues.map(({ field, reason }) => `${field}: ${reason}`).join('; '));
  }
}

export class UnknownMessageTypeError extends CallbackError {
  readonly status = 404;
  readonly code = 'unknown_type';
}

export class MethodNotAllowedError extends CallbackError {
  readonly status = 405;
  readonly code = 'method_not_allowed';
}

export class PayloadTooLargeError extends CallbackError {
  readonly status = 413;
  readonly code = 'too_large';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`body of ${size} bytes exceeds ${limit}`);
  }
}

/**
 * The body holds more keys or values than the endpoint parses (contract/limits.ts): refused from a linear
 * scan, before it is parsed, so its cost stays bounded. 413: too large in what it holds, if not in bytes.
 */
export class ParseLimitError extends CallbackError {
  readonly status = 413;
  readonly code = 'too_complex';
  constructor(
    /** `extraKeys`: members of one object beyond its table's fields; `tokens`: keys and values in the body. */
    readonly limit: 'extraKeys' | 'tokens',
    readonly count: number,
    readonly cap: number,
  ) {
    super(limit === 'extraKeys' ? `${count} extra keys in one object exceed ${cap}` : `${count} JSON tokens exceed ${cap}`);
  }
}

/**
 * The message's record cannot fit the store's item limit, however often it is sent: refused once (413),
 * never answered 5xx. Names the field that takes the most room (its name, never its value).
 */
export class RecordTooLargeError extends CallbackError {
  readonly status = 413;
  readonly code = 'record_too_large';
  constructor(
    readonly size: number,
    readonly limit: number,
    readonly field: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`record of ${size} bytes exceeds ${limit}${field ? ` (largest field: ${field})` : ''}`, options);
  }
}

/** The message store could not be written or read: the sender must retry. */
export class StoreUnavailableError extends CallbackError {
  readonly status = 503;
  readonly code = 'store_unavailable';
}

/**
 * The MIS queue rejected the message. Once the message is stored this is no fault of the
 * sender's: the ack stays Success and the reconciler forwards it later.
 */
export class QueueUnavailableError extends CallbackError {
  readonly status = 503;
  readonly code = 'queue_unavailable';
}

/**
 * The MIS queue refused this message for what it is (its characters, its size), not for being
 * unavailable: sending it again can never succeed. The record is kept and marked undeliverable.
 */
export class QueueRefusedError extends CallbackError {
  readonly status = 422;
  readonly code = 'undeliverable';
  /** The queue's own error code (e.g. InvalidMessageContents): safe to log and keep, it holds no content. */
  constructor(
    readonly refusal: string,
    options?: { cause?: unknown },
  ) {
    super(`the queue refused the message: ${refusal}`, options);
  }
}

/** The payload bucket could not take a large payload: nothing is stored, the sender must retry. */
export class PayloadStoreUnavailableError extends CallbackError {
  readonly status = 503;
  readonly code = 'payload_store_unavailable';
}

/** Configuration missing or malformed at cold start: fail the init loudly rather than serve wrongly. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
