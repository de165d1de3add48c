import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { loadConfig } from '../../lambdas/config';
import { METRICS_NAMESPACE, SERVICE } from '../../lambdas/contract/observability';
import { asLambda } from '../../lambdas/handlers/middleware';
import { createReceiveHandler, type ReceiveDeps } from '../../lambdas/handlers/receive-handler';
import type { MessageType } from '../../lambdas/protocol/catalog';

/*
 * Measurement only, never deployed: lambdas/handlers/index.ts cut down to the seven receiving functions
 * (the six types and Fallback), wired exactly as index.ts wires them, from the same modules. Bundled with
 * the stack's settings it shows what a per-function entry would save a receiver (M1, M2): the projector,
 * the document API and the silence sweep stay out.
 */

const config = loadConfig(process.env);
const logger = new Logger({ serviceName: SERVICE, persistentKeys: { site: config.SITE_ID } });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE, defaultDimensions: { site: config.SITE_ID } });
const { ports, rejectedStore } = createAwsAdapters(config);
const deps: ReceiveDeps = {
  ports,
  rejectedStore,
  settings: { site: config.SITE_ID, retentionDays: config.RETENTION_DAYS, maxInlinePayloadBytes: config.MAX_INLINE_PAYLOAD_BYTES },
  maxBodyBytes: config.MAX_BODY_BYTES,
  lpuAllowlist: config.LPU_ALLOWLIST,
  logger,
  metrics,
};
const entry = (type: MessageType | undefined) => asLambda(createReceiveHandler(type, deps), deps);

export const CDAStatus = entry('CDAStatus');
export const SEMDStatus = entry('SEMDStatus');
export const REMDStatus = entry('REMDStatus');
export const MseResult = entry('MseResult');
export const MseResultData = entry('MseResultData');
export const VimisResult = entry('VimisResult');
export const Fallback = entry(undefined);
