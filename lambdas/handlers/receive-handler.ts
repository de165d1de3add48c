import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { CallbackError, MethodNotAllowedError, UnknownMessageTypeError, ValidationError } from '../../contract/errors';
import { ingest, type IngestOutcome, type IngestSettings } from '../ingest/ingest';
import type { IngestPorts, RejectedStore } from '../ingest/ports';
import { ackForError, ackForOutcome, echoId, type AckResponse, type StoredKind } from '../../contract/ack';
import { findMessageType, ownNames, parseMessage, type MessageType } from '../../contract/catalog';
import { DEFAULT_PARSE_LIMITS, decodeBody, sniffMessageId, type ParseLimits, type RawBody } from '../protocol/decode';
import { REASONS, UUID } from '../../contract/fields';
import { METRIC, UNKNOWN_TYPE, type RequestOutcome } from '../../contract/observability';
import { SIMULATION_HEADER, SIMULATION_RUN_ID, type Simulation } from '../../contract/envelope';
import { countKeyUnusable, KEY_UNUSABLE_LOG } from './key-unusable';

export interface ReceiveDeps {
  readonly ports: IngestPorts;
  readonly rejectedStore: RejectedStore;
  readonly settings: IngestSettings;
  readonly maxBodyBytes: number;
  /** The parse-cost caps (contract/limits.ts by default); `npm run bench` lifts them to measure what they bound. */
  readonly parseLimits?: Pick<ParseLimits, 'maxExtraKeys' | 'maxTokens'>;
  /** `Lpu` ids (lower case) this site serves; empty: any. */
  readonly lpuAllowlist?: ReadonlySet<string>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/**
 * One handler per MessageType (the gateway routes each type to its own function), or,
 * with no type, the catch-all that resolves the type from the path and answers 404
 * with a proper ack for anything else.
 * Thin on purpose: decode → parse → ingest(ports) → ack. It never throws: every
 * failure becomes an ack, 5xx only where a retry can help, and every rejected request
 * is kept under rejected/ in the bucket.
 */
export function createReceiveHandler(boundType: MessageType | undefined, deps: ReceiveDeps): ProxyHandler {
  const { logger, metrics } = deps;

  return async (event) => {
    const raw: RawBody = { body: event.body, isBase64Encoded: event.isBase64Encoded, contentType: header(event, 'content-type') };
    const request = { requestId: event.requestContext?.requestId ?? '', sourceIp: event.requestContext?.identity?.sourceIp };
    let messageType: MessageType | undefined = boundType;
    let messageId = '';
    let bytes: number | undefined;

    try {
      if (event.httpMethod !== 'POST')
        throw new MethodNotAllowedError(`метод ${event.httpMethod.slice(0, 16)} не поддерживается: используйте POST`);
      messageType ??= resolveType(event.pathParameters?.proxy ?? event.path);

      const limits = deps.parseLimits ?? DEFAULT_PARSE_LIMITS;
      const decoded = decodeBody(raw, deps.maxBodyBytes, { ...limits, knownKeys: ownNames(messageType) });
      bytes = decoded.bytes;
      messageId = echoId(decoded.json.MessageId);

      const parsed = parseMessage(messageType, decoded.json);
      if (!parsed.ok) throw new ValidationError(parsed.issues);
      if (deps.lpuAllowlist?.size && !deps.lpuAllowlist.has(parsed.message.lpu.toLowerCase())) {
        throw new ValidationError([{ field: 'Lpu', reason: REASONS.lpuNotServed }]);
      }

      const simulation = simulationOf(event);
      const outcome = await ingest(parsed.message, deps.ports, deps.settings, simulation ? { simulation } : {});
      const name = outcomeName(outcome);
      count(name, messageType);
      // A conflict is rejected (409) like any other bad request: it counts toward the Rejected alarm too.
      if (name === 'conflict') countRejected();
      // Its own alarm: a stored message the MIS will not get unless someone acts. Site-wide, as the reconciler counts it.
      if (outcome.kind === 'undeliverable' && outcome.forwarding)
        metrics.singleMetric().addMetric(METRIC.undeliverable, MetricUnit.Count, 1);
      metrics.addMetric(
        parsed.message.status === 'Success' ? METRIC.payloadStatusSuccess : METRIC.payloadStatusFailed,
        MetricUnit.Count,
        1,
      );
      const log = {
        ...request,
        messageId: parsed.message.messageId,
        messageType,
        lpu: parsed.message.lpu,
        payloadStatus: parsed.message.status,
        bytes,
        outcome: name,
        ...(simulation ? { simulationRunId: simulation.runId } : {}),
        ...forwardingOf(outcome),
      };
      if (outcome.kind === 'undeliverable') logger.error('undeliverable: the queue refuses it for good; kept, not forwarded', log);
      else if (name === 'deferred') logger.warn('stored, queue unavailable: the reconciler will forward it', log);
      else if (outcome.kind !== 'conflict' && outcome.forwarding?.marked === false)
        logger.warn('forwarded but not marked: stays pending until re-marked', log);
      else logger.info(name, log);

      const response = ackForOutcome(ackKindOf(outcome), messageId);
      if (outcome.kind === 'conflict')
        await keep(event, raw, response, 'conflict', `same MessageId, ${CONFLICT_REASON[outcome.on]}`, messageType);
      if (outcome.kind === 'undeliverable') {
        const refusal = outcome.forwarding?.refusal ?? outcome.record.refusal ?? 'unknown';
        await keep(event, raw, response, 'undeliverable', `stored; the MIS queue refused it (${refusal})`, messageType);
      }
      return toHttp(response);
    } catch (error) {
      messageId ||= sniffMessageId(raw);
      const response = ackForError(error, messageId);
      const log = { ...request, messageId: loggable(messageId), messageType, bytes, httpStatus: response.statusCode };
      if (error instanceof CallbackError && error.status < 500) {
        count('rejected', messageType);
        // Our own reasons name fields and kinds of fault, never the values sent.
        logger.warn('rejected', { ...log, code: error.code, reason: error instanceof ValidationError ? error.issues : error.message });
        await keep(event, raw, response, error.code, error.message, messageType);
      } else {
        count('failed', messageType);
        // The one failure an operator must fix by hand at the key, not wait out: counted for its own alarm.
        const kmsError = countKeyUnusable(error, metrics);
        if (kmsError) logger.error(`failed: ${KEY_UNUSABLE_LOG}`, { ...log, kmsError, error: error as Error });
        else logger.error('failed', { ...log, error: error as Error });
      }
      return toHttp(response);
    }
  };

  function count(outcome: RequestOutcome, messageType: MessageType | undefined): void {
    // One type per invocation in Lambda, so a function-wide dimension is exact. A request whose type
    // could not be told still counts, under its own value, so that every rejection reaches the alarm.
    // Set, not added: where nothing flushes between invocations (tests, npm start with metrics off), adding
    // the dimension again would warn on every request.
    metrics.clearDimensions();
    metrics.addDimension('MessageType', messageType ?? UNKNOWN_TYPE);
    if (outcome === 'rejected') countRejected();
    else metrics.addMetric(METRIC[outcome], MetricUnit.Count, 1);
  }

  /** By type (the dashboard) and site-wide (the alarm). A conflict is counted as one too. */
  function countRejected(): void {
    metrics.addMetric(METRIC.rejected, MetricUnit.Count, 1);
    metrics.singleMetric().addMetric(METRIC.rejectedSiteWide, MetricUnit.Count, 1);
  }

  /** Keeps a rejected request for inspection. A failure to keep it is logged and counted, and the ack stands. */
  async function keep(
    event: APIGatewayProxyEvent,
    raw: RawBody,
    response: AckResponse,
    code: string,
    reason: string,
    messageType: MessageType | undefined,
  ) {
    const body = raw.body ? Buffer.from(raw.body, raw.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
    const kept = body.subarray(0, deps.maxBodyBytes);
    try {
      const key = await deps.rejectedStore.keep({
        receivedAt: deps.ports.clock.now().toISOString(),
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
      metrics.addMetric(METRIC.rejectedKept, MetricUnit.Count, 1);
      logger.info('rejected request kept', { requestId: event.requestContext?.requestId, key });
    } catch (error) {
      metrics.addMetric(METRIC.rejectedNotKept, MetricUnit.Count, 1);
      metrics.singleMetric().addMetric(METRIC.rejectedNotKeptSiteWide, MetricUnit.Count, 1);
      logger.error('rejected request not kept', {
        requestId: event.requestContext?.requestId,
        httpStatus: response.statusCode,
        code,
        error: error as Error,
      });
    }
  }
}

/** A rejected request's MessageId may be anything the sender typed: only a real UUID goes into a log. */
const loggable = (messageId: string) => (messageId === '' || UUID.test(messageId) ? messageId : '(not a UUID)');

function outcomeName(outcome: IngestOutcome): RequestOutcome {
  // Answered Failed and kept under rejected/: a rejection, counted toward the Rejected alarm.
  if (outcome.kind === 'undeliverable') return 'rejected';
  if (outcome.kind === 'accepted' && !outcome.forwarding.forwarded) return 'deferred';
  if (outcome.kind === 'duplicate' && outcome.forwarding?.forwarded === false) return 'deferred';
  return outcome.kind;
}

function ackKindOf(outcome: IngestOutcome): StoredKind {
  if (outcome.kind === 'conflict') return outcome.on === 'type' ? 'conflictType' : 'conflict';
  return outcome.kind;
}

function forwardingOf(outcome: IngestOutcome) {
  if (outcome.kind === 'conflict') return { conflictOn: outcome.on };
  return {
    state: outcome.record.state,
    forwarded: outcome.forwarding?.forwarded,
    marked: outcome.forwarding?.marked,
    refusal: outcome.forwarding?.refusal ?? outcome.record.refusal,
  };
}

/** `[base]/T` (or `[base]//T`): exactly one segment, so nothing slips past a path prefix. */
function resolveType(path: string | undefined): MessageType {
  const segments = (path ?? '').split('/').filter(Boolean);
  const type = segments.length === 1 ? findMessageType(segments[0]!) : undefined;
  if (!type) throw new UnknownMessageTypeError(`неизвестный тип сообщения «${shown(segments.join('/'))}»`);
  return type;
}

const shown = (text: string) => text.replace(/[^\w./-]/g, '?').slice(0, 64);
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

const CONFLICT_REASON = {
  content: 'other content',
  type: 'other type',
  simulation: `marked otherwise as simulated (${SIMULATION_HEADER})`,
} as const;

/** The simulator's mark (contract/envelope.ts), when the request carries one; a malformed one is refused, named. */
function simulationOf(event: APIGatewayProxyEvent): Simulation | undefined {
  const value = header(event, SIMULATION_HEADER.toLowerCase());
  if (value === undefined) return undefined;
  const runId = value.trim();
  if (!SIMULATION_RUN_ID.test(runId)) throw new ValidationError([{ field: SIMULATION_HEADER, reason: REASONS.simulationRunId }]);
  return { runId };
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
