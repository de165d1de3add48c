import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Ack } from '../../../contract/ack';
import { findMessageType } from '../../../contract/catalog';
import { FUNCTION_ENV } from '../../../contract/names';
import { METRICS_NAMESPACE, SERVICE } from '../../../contract/observability';
import { loadConfig } from '../../config';
import { createReceiveHandler } from '../receive-handler';
import type { IngestPorts, MessageRecord, MessageStore, PayloadStore, RejectedRequest, RejectedStore } from '../../ingest/ports';
import { type SiteClients, sitePorts } from '../../adapters';

/*
 * `n3-callback rejected readmit`: a request kept under rejected/ run again through the receiving function's own
 * handler (decode, parse, the site's Lpu allowlist, ingest, keep-rejected), as if it arrived now, with the site's
 * ports built from the operator's clients. So what decides is the code that decided the first time, under the
 * site's settings as they are now. What passes is stored (its record says it was readmitted, from which kept
 * request, first arrived when) and forwarded once: the conditional write by MessageId makes a second readmission
 * a duplicate. What fails again is kept again, as a new object with its new reason (the original stays, as the
 * evidence of the first answer). A dry run runs the same handler over ports that read but never write.
 */

/** The site's settings the receiving function runs under (its environment, contract/names.ts FUNCTION_ENV). */
export interface ReadmitSite {
  readonly siteId: string;
  /** `Lpu` ids the site serves now; empty: any. */
  readonly lpuAllowlist: readonly string[];
  /** Unset: the functions' default. */
  readonly retentionDays?: number;
}

export interface ReadmitTarget extends SiteClients {
  readonly site: ReadmitSite;
}

export type ReadmitOutcome =
  /** Stored now and on the queue (a dry run: would be). */
  | 'admitted'
  /** Stored now; the queue was unavailable, so the reconciler forwards it. */
  | 'deferred'
  /** Its MessageId was stored already (an earlier readmission, or a later send that passed): nothing forwarded. */
  | 'duplicate'
  /** Refused again: kept again with its new reason. */
  | 'rejected'
  /** Not run: the kept body was cut at the size limit, so it is not the request that came. */
  | 'skipped';

export interface ReadmitResult {
  readonly key: string;
  readonly outcome: ReadmitOutcome;
  readonly messageType: string;
  readonly messageId: string;
  /** When it first arrived. */
  readonly arrivedAt: string;
  /** rejected: the new reason; skipped: why. */
  readonly code?: string;
  readonly reason?: string;
  /** rejected (not in a dry run): where it is kept now. */
  readonly keptAs?: string;
}

export interface Readmitter {
  readmit(key: string): Promise<ReadmitResult>;
}

export function createReadmitter(target: ReadmitTarget, options: { dryRun: boolean }): Readmitter {
  // The site's metrics are the functions' (EMF in their logs); an operator's machine emits none, and prints none.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const config = loadConfig({
    [FUNCTION_ENV.siteId]: target.site.siteId,
    [FUNCTION_ENV.tableName]: target.tableName,
    [FUNCTION_ENV.queueUrl]: target.queueUrl,
    [FUNCTION_ENV.bucketName]: target.bucket,
    [FUNCTION_ENV.lpuAllowlist]: target.site.lpuAllowlist.join(','),
    ...(target.site.retentionDays !== undefined ? { [FUNCTION_ENV.retentionDays]: String(target.site.retentionDays) } : {}),
  });
  const real = sitePorts(target);
  // A dry run's records, so that two kept copies of one message count as one admission and one duplicate.
  const wouldStore = new Map<string, MessageRecord>();
  const logger = new Logger({ serviceName: SERVICE, logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE });

  return {
    async readmit(key) {
      const kept = await real.readKept(key);
      const facts = { key, messageType: kept.messageType ?? '', messageId: kept.messageId, arrivedAt: kept.receivedAt };
      if (kept.bodyTruncated) {
        const keptBytes = Buffer.from(kept.bodyBase64, 'base64').length;
        return { ...facts, outcome: 'skipped', code: 'truncated', reason: `only ${keptBytes} of its ${kept.bodyBytes} bytes were kept` };
      }

      const seen: { created?: boolean; forwarded?: boolean; rejection?: RejectedRequest; keptAs?: string } = {};
      const readmitted = { from: key, arrivedAt: kept.receivedAt };
      const store: MessageStore = options.dryRun ? dryStore(real.store, wouldStore, seen) : markingStore(real.store, readmitted, seen);
      const ports: IngestPorts = {
        store,
        queue: {
          send: async (message) => {
            if (!options.dryRun) await real.queue.send(message);
            seen.forwarded = true;
          },
        },
        payloads: options.dryRun ? dryPayloads(real.payloads) : real.payloads,
        clock: { now: () => new Date() },
      };
      const rejectedStore: RejectedStore = {
        keep: async (request) => {
          seen.rejection = request;
          if (!options.dryRun) seen.keptAs = await real.rejected.keep(request);
          return seen.keptAs ?? '';
        },
      };
      const handler = createReceiveHandler(findMessageType(kept.messageType ?? ''), {
        ports,
        rejectedStore,
        settings: { site: config.SITE_ID, retentionDays: config.RETENTION_DAYS, maxInlinePayloadBytes: config.MAX_INLINE_PAYLOAD_BYTES },
        maxBodyBytes: config.MAX_BODY_BYTES,
        lpuAllowlist: config.LPU_ALLOWLIST,
        logger,
        metrics,
      });
      const answer = await handler(eventOf(kept));
      const ack = JSON.parse(answer.body) as Ack;
      const messageId = ack.MessageId || facts.messageId;
      if (seen.rejection)
        return {
          ...facts,
          messageId,
          outcome: 'rejected',
          code: seen.rejection.code,
          reason: seen.rejection.reason,
          ...(seen.keptAs ? { keptAs: seen.keptAs } : {}),
        };
      if (ack.Status !== 'Success')
        // A failure the sender would retry (5xx): nothing was kept, nothing stored for good. Said, not hidden.
        return {
          ...facts,
          messageId,
          outcome: 'rejected',
          code: `http_${answer.statusCode}`,
          reason: 'the site could not take it now: run readmit again',
        };
      if (!seen.created) return { ...facts, messageId, outcome: 'duplicate' };
      return { ...facts, messageId, outcome: seen.forwarded ? 'admitted' : 'deferred' };
    },
  };
}

/** The request as the gateway gave it to the function, from what was kept (secret headers were never kept). */
function eventOf(kept: RejectedRequest): APIGatewayProxyEvent {
  const type = (kept.messageType ?? '').replace(/[^\w]/g, '');
  return {
    httpMethod: kept.method,
    path: `/${type}`,
    resource: '/{proxy+}',
    pathParameters: { proxy: type },
    headers: { ...kept.headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: kept.bodyBase64,
    isBase64Encoded: true,
    // Its own request id, tied to the first: the new rejected/ key (if any) says it is a readmission of that one.
    // One `readmit-` however often it is readmitted: the id stays whole, so a window still counts it with its original.
    requestContext: {
      requestId: `readmit-${kept.requestId.replace(/^(readmit-)+/, '')}`.slice(0, 64),
      identity: { sourceIp: kept.sourceIp },
    },
  } as unknown as APIGatewayProxyEvent;
}

/** The site's store, with each new record marked as readmitted. */
function markingStore(
  store: MessageStore,
  readmitted: NonNullable<MessageRecord['readmitted']>,
  seen: { created?: boolean },
): MessageStore {
  return Object.assign(Object.create(store) as MessageStore, {
    putIfAbsent: async (record: MessageRecord) => {
      const result = await store.putIfAbsent({ ...record, readmitted });
      seen.created = result.created;
      return result;
    },
  });
}

/** Reads the site's store; writes nothing (what it would have written is remembered for the rest of the run). */
function dryStore(store: MessageStore, wouldStore: Map<string, MessageRecord>, seen: { created?: boolean }): MessageStore {
  return Object.assign(Object.create(store) as MessageStore, {
    putIfAbsent: async (record: MessageRecord) => {
      const existing = wouldStore.get(record.messageId) ?? (await store.find(record.messageId));
      seen.created = existing === undefined;
      if (existing) return { created: false as const, existing };
      wouldStore.set(record.messageId, { ...record, state: 'FORWARDED' });
      return { created: true as const };
    },
    find: async (messageId: string) => wouldStore.get(messageId) ?? store.find(messageId),
    markForwarded: async () => {},
    markUndeliverable: async () => {},
  });
}

function dryPayloads(payloads: PayloadStore): PayloadStore {
  return {
    bucket: payloads.bucket,
    put: async (key, body, sha256) => ({ bucket: payloads.bucket, key, size: Buffer.byteLength(body, 'utf8'), sha256 }),
    discard: async () => {},
  };
}
