import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CallbackError, MethodNotAllowedError, UnknownMessageTypeError, ValidationError } from '../errors';
import { ingest, type IngestOutcome, type IngestSettings } from '../ingest/ingest';
import type { IngestPorts } from '../ingest/ports';
import { ackForError, ackForOutcome, echoId, type AckResponse } from '../protocol/ack';
import { findMessageType, parseMessage, type MessageType } from '../protocol/catalog';
import { decodeBody, sniffMessageId, type RawBody } from '../protocol/decode';

export interface ReceiveDeps {
  readonly ports: IngestPorts;
  readonly settings: IngestSettings;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/**
 * One handler per MessageType (the gateway routes each type to its own function), or,
 * with no type, the catch-all that resolves the type from the path and answers 404
 * with a proper ack for anything else.
 * Thin on purpose: decode → parse → ingest(ports) → ack. It never throws: every
 * failure becomes an ack, 5xx only where a retry can help.
 */
export function createReceiveHandler(boundType: MessageType | undefined, deps: ReceiveDeps): ProxyHandler {
  const { logger, metrics } = deps;

  return async (event) => {
    const raw: RawBody = {
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
      contentType: header(event, 'content-type'),
    };
    const context = { requestId: event.requestContext?.requestId, sourceIp: event.requestContext?.identity?.sourceIp };
    let messageType: MessageType | undefined = boundType;
    let messageId = '';
    let bytes: number | undefined;

    try {
      if (event.httpMethod !== 'POST') throw new MethodNotAllowedError(`метод ${event.httpMethod.slice(0, 16)} не поддерживается: используйте POST`);
      messageType ??= resolveType(event.pathParameters?.proxy ?? event.path);

      const decoded = decodeBody(raw, deps.maxBodyBytes);
      bytes = decoded.bytes;
      messageId = echoId(decoded.json.MessageId);

      const parsed = parseMessage(messageType, decoded.json);
      if (!parsed.ok) throw new ValidationError(parsed.issues);

      const outcome = await ingest(parsed.message, deps.ports, deps.settings);
      record(outcome.kind, messageType);
      metrics.addMetric(`PayloadStatus${parsed.message.status}`, MetricUnit.Count, 1);
      const log = { ...context, messageId: parsed.message.messageId, messageType, lpu: parsed.message.lpu, payloadStatus: parsed.message.status, bytes, ...details(outcome) };
      if (!details(outcome).markedForwarded) logger.warn('forwarded but not marked: the record stays RECEIVED until re-marked', log);
      else logger.info(outcome.kind, log);
      return toHttp(ackForOutcome(outcome, messageId));
    } catch (error) {
      messageId ||= sniffMessageId(raw);
      const response = ackForError(error, messageId);
      const log = { ...context, messageId, messageType, bytes, httpStatus: response.statusCode };
      if (error instanceof CallbackError && error.status < 500) {
        record('rejected', messageType);
        // Our own reasons name fields and kinds of fault, never the values sent.
        logger.warn('rejected', { ...log, code: error.code, reason: error instanceof ValidationError ? error.issues : error.message });
      } else {
        record('failed', messageType);
        logger.error('failed', { ...log, error: error as Error });
      }
      return toHttp(response);
    }
  };

  function record(outcome: string, messageType: MessageType | undefined): void {
    // One type per invocation in Lambda, so a function-wide dimension is exact.
    if (messageType) metrics.addDimension('MessageType', messageType);
    metrics.addMetric(outcome, MetricUnit.Count, 1);
  }
}

/** `[base]/T` (or `[base]//T`): exactly one segment, so nothing slips past a path prefix. */
function resolveType(path: string | undefined): MessageType {
  const segments = (path ?? '').split('/').filter(Boolean);
  const type = segments.length === 1 ? findMessageType(segments[0]!) : undefined;
  if (!type) {
    const shown = segments.join('/').replace(/[^\w./-]/g, '?').slice(0, 64);
    throw new UnknownMessageTypeError(`неизвестный тип сообщения «${shown}»`);
  }
  return type;
}

function details(outcome: IngestOutcome) {
  switch (outcome.kind) {
    case 'accepted':
      return { outcome: outcome.kind, markedForwarded: outcome.markedForwarded };
    case 'duplicate':
      return { outcome: outcome.kind, state: outcome.record.state, reforwarded: outcome.reforwarded, markedForwarded: outcome.markedForwarded };
    case 'conflict':
      return { outcome: outcome.kind, markedForwarded: true };
  }
}

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name && value !== undefined) return value;
  }
  return undefined;
}

function toHttp({ statusCode, ack }: AckResponse): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    body: JSON.stringify(ack),
  };
}
