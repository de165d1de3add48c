import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AckResponse } from '../../contract/ack';
import { METRIC, UNKNOWN_TYPE } from '../../contract/observability';
import type { Clock, RejectedStore } from '../ingest/ports';
import { countOutcome, type Received, type Rejection, shown } from './received';

export interface KeepRejectedDeps {
  readonly rejectedStore: RejectedStore;
  readonly clock: Clock;
  /** Of a body, at most this many bytes are kept (the function's own limit). */
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Every request answered as a rejection (a 4xx the handler threw, answered by ack-errors.ts; a conflict; a message
 * the MIS queue refuses for good) is counted (site-wide: the Rejected alarm) and kept for inspection under rejected/
 * in the bucket. Either way one line says so, with what the site dashboard breaks rejections down by (its type,
 * status, code and reason: contract/observability.ts LOG_FIELDS). A failure to keep it is logged and counted, and
 * the ack stands.
 * After the handler, and on its errors after ack-errors.ts has answered them (use it before ackErrors: middy runs
 * `onError` middlewares last-used first).
 */
export function keepRejected(deps: KeepRejectedDeps): middy.MiddlewareObj<Received, AckResponse> {
  const { logger, metrics } = deps;
  const keepIfRejected = async (request: middy.Request<Received, AckResponse>) => {
    const { rejection } = request.event;
    if (!rejection || !request.response) return;
    countOutcome(metrics, 'rejected');
    await keep(request.event, request.response, rejection);
  };
  return { name: 'keepRejected', after: keepIfRejected, onError: keepIfRejected };

  async function keep({ event, raw, messageType }: Received, response: AckResponse, { code, reason }: Rejection) {
    const body = raw.body ? Buffer.from(raw.body, raw.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
    const kept = body.subarray(0, deps.maxBodyBytes);
    const about = {
      requestId: event.requestContext?.requestId,
      messageType: messageType ?? UNKNOWN_TYPE,
      httpStatus: response.statusCode,
      code,
      reason,
    };
    try {
      const key = await deps.rejectedStore.keep({
        receivedAt: deps.clock.now().toISOString(),
        requestId: event.requestContext?.requestId ?? '',
        httpStatus: response.statusCode,
        code,
        reason,
        messageType: messageType ?? lastSegment(event.pathParameters?.proxy ?? event.path),
        messageId: response.ack.MessageId,
        method: event.httpMethod,
        sourceIp: event.requestContext?.identity?.sourceIp,
        headers: safeHeaders(event.headers),
        bodyBytes: body.length,
        bodyTruncated: kept.length < body.length,
        bodyBase64: kept.toString('base64'),
      });
      logger.info('rejected request kept', { ...about, kept: true, key });
    } catch (error) {
      metrics.addMetric(METRIC.rejectedNotKept, MetricUnit.Count, 1);
      logger.error('rejected request not kept', { ...about, kept: false, error: error as Error });
    }
  }
}

// Only the last segment: a path may carry the site's secret segment, which must not be stored.
const lastSegment = (path: string | undefined) => shown((path ?? '').split('/').filter(Boolean).pop() ?? '');

// Credentials and session material never go into a kept rejected request.
const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie)$|token|secret|api-?key|signature|credential|password|session/i;

function safeHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name, value]) => value !== undefined && !SECRET_HEADER.test(name)) as Array<[string, string]>,
  );
}
