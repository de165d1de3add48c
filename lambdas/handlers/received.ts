import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { MessageType } from '../../contract/catalog';
import { COUNTED_OUTCOMES, type CountedOutcome, METRIC, type RequestOutcome } from '../../contract/observability';
import type { RawBody } from '../protocol/decode';

/**
 * One callback request as the receiving function got it, and what the handler learned of it before it answered
 * or failed: the middlewares (ack-errors.ts, keep-rejected.ts) answer, log, count and keep the request with it.
 * One per invocation, made before the handler runs (the gateway's event itself is never written to).
 */
export interface Received {
  readonly event: APIGatewayProxyEvent;
  readonly raw: RawBody;
  /** What every log line of the request carries: the gateway's request id and the sender's address. */
  readonly origin: { readonly requestId: string; readonly sourceIp: string | undefined };
  /** The function's own type, or the catch-all's once it has told it from the path. */
  messageType: MessageType | undefined;
  /** As sent (echoed in the ack), once the body is decoded; '' until then. */
  messageId: string;
  /** The decoded body's size. */
  bytes: number | undefined;
  /** Set when the request is answered as a rejection: it is counted and kept under rejected/ (keep-rejected.ts). */
  rejection: Rejection | undefined;
}

/** Why a request was rejected, as kept with it: a short machine code and a reason that names no value sent. */
export interface Rejection {
  readonly code: string;
  readonly reason: string;
}

export function receivedFrom(event: APIGatewayProxyEvent, boundType: MessageType | undefined): Received {
  return {
    event,
    raw: { body: event.body, isBase64Encoded: event.isBase64Encoded, contentType: header(event, 'content-type') },
    origin: { requestId: event.requestContext?.requestId ?? '', sourceIp: event.requestContext?.identity?.sourceIp },
    messageType: boundType,
    messageId: '',
    bytes: undefined,
    rejection: undefined,
  };
}

/**
 * Counts the request's outcome where it is one that needs someone (contract/observability.ts COUNTED_OUTCOMES),
 * site-wide: the metric an alarm or the fleet dashboard reads. The breakdown by type, and the accepted and duplicate
 * requests, are the log line's (`messageType`, `outcome`: LOG_FIELDS), not metrics: a custom metric is billed per
 * series for every hour it is sent.
 */
export function countOutcome(metrics: Metrics, outcome: RequestOutcome): void {
  if (isCounted(outcome)) metrics.addMetric(METRIC[outcome], MetricUnit.Count, 1);
}
const isCounted = (outcome: RequestOutcome): outcome is CountedOutcome => (COUNTED_OUTCOMES as readonly string[]).includes(outcome);

export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name && value !== undefined) return value;
  }
  return undefined;
}

/** Part of a path as it may be logged, answered or stored: safe characters only, at most 64. */
export const shown = (text: string) => text.replace(/[^\w./-]/g, '?').slice(0, 64);
