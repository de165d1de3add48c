import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MethodNotAllowedError, UnknownMessageTypeError, ValidationError } from '../../contract/errors';
import { ingest, type IngestOutcome, type IngestSettings } from '../ingest/ingest';
import type { IngestPorts, RejectedStore } from '../ingest/ports';
import { ackForOutcome, echoId, type AckResponse, type StoredKind } from '../../contract/ack';
import { findMessageType, ownNames, parseMessage, type MessageType } from '../../contract/catalog';
import { DEFAULT_PARSE_LIMITS, decodeBody, type ParseLimits } from '../protocol/decode';
import { REASONS } from '../../contract/fields';
import { METRIC, type RequestOutcome } from '../../contract/observability';
import { SIMULATION_HEADER, SIMULATION_RUN_ID, type Simulation } from '../../contract/envelope';
import { ackErrors } from './ack-errors';
import { keepRejected } from './keep-rejected';
import { countOutcome, header, type Received, receivedFrom, shown } from './received';

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

export type ProxyHandler = (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult>;

/**
 * One handler per MessageType (the gateway routes each type to its own function), or,
 * with no type, the catch-all that resolves the type from the path and answers 404
 * with a proper ack for anything else.
 * The handler is decode → parse → ingest(ports) → ack, and throws on failure; two middlewares do the rest,
 * so that the function never throws: ack-errors.ts turns every failure into an ack (5xx only where a retry
 * can help), keep-rejected.ts keeps every rejected request under rejected/ in the bucket.
 */
export function createReceiveHandler(boundType: MessageType | undefined, deps: ReceiveDeps): ProxyHandler {
  const { logger, metrics } = deps;
  const answer = middy<Received, AckResponse>({
    // The function's deadline is asLambda's (middleware.ts), around this.
    timeoutEarlyInMillis: 0,
  })
    // middy runs `onError` middlewares last-used first: ackErrors answers the error, then keepRejected keeps it.
    .use(keepRejected({ rejectedStore: deps.rejectedStore, clock: deps.ports.clock, maxBodyBytes: deps.maxBodyBytes, logger, metrics }))
    .use(ackErrors({ logger, metrics }))
    .handler(receive);

  // One Received per request (the gateway's event itself is never written to); middy makes a context where none is given.
  return async (event, context) => toHttp(await answer(receivedFrom(event, boundType), context as Context));

  async function receive(received: Received): Promise<AckResponse> {
    const { event, raw } = received;
    if (event.httpMethod !== 'POST')
      throw new MethodNotAllowedError(`метод ${event.httpMethod.slice(0, 16)} не поддерживается: используйте POST`);
    received.messageType ??= resolveType(event.pathParameters?.proxy ?? event.path);
    const { messageType } = received;

    const limits = deps.parseLimits ?? DEFAULT_PARSE_LIMITS;
    const decoded = decodeBody(raw, deps.maxBodyBytes, { ...limits, knownKeys: ownNames(messageType) });
    received.bytes = decoded.bytes;
    received.messageId = echoId(decoded.json.MessageId);

    const parsed = parseMessage(messageType, decoded.json);
    if (!parsed.ok) throw new ValidationError(parsed.issues);
    if (deps.lpuAllowlist?.size && !deps.lpuAllowlist.has(parsed.message.lpu.toLowerCase())) {
      throw new ValidationError([{ field: 'Lpu', reason: REASONS.lpuNotServed }]);
    }

    const simulation = simulationOf(event);
    const outcome = await ingest(parsed.message, deps.ports, deps.settings, simulation ? { simulation } : {});
    const name = outcomeName(outcome);
    // A rejection (a message the queue refuses for good, or a conflict) is counted where it is kept: keep-rejected.ts.
    if (name !== 'rejected') countOutcome(metrics, name);
    // Its own alarm: a stored message the MIS will not get unless someone acts. Site-wide, as the reconciler counts it.
    if (outcome.kind === 'undeliverable' && outcome.forwarding) metrics.addMetric(METRIC.undeliverable, MetricUnit.Count, 1);
    const log = {
      ...received.origin,
      messageId: parsed.message.messageId,
      messageType,
      lpu: parsed.message.lpu,
      payloadStatus: parsed.message.status,
      bytes: received.bytes,
      outcome: name,
      ...(simulation ? { simulationRunId: simulation.runId } : {}),
      ...forwardingOf(outcome),
    };
    if (outcome.kind === 'undeliverable') logger.error('undeliverable: the queue refuses it for good; kept, not forwarded', log);
    else if (name === 'deferred') logger.warn('stored, queue unavailable: the reconciler will forward it', log);
    else if (outcome.kind !== 'conflict' && outcome.forwarding?.marked === false)
      logger.warn('forwarded but not marked: stays pending until re-marked', log);
    else logger.info(name, log);

    // A conflict is rejected (409) like any other bad request, and counted toward the Rejected alarm too.
    if (outcome.kind === 'conflict') received.rejection = { code: 'conflict', reason: `same MessageId, ${CONFLICT_REASON[outcome.on]}` };
    if (outcome.kind === 'undeliverable') {
      const refusal = outcome.forwarding?.refusal ?? outcome.record.refusal ?? 'unknown';
      received.rejection = { code: 'undeliverable', reason: `stored; the MIS queue refused it (${refusal})` };
    }
    return ackForOutcome(ackKindOf(outcome), received.messageId);
  }
}

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

function toHttp({ statusCode, ack }: AckResponse): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    body: JSON.stringify(ack),
  };
}
