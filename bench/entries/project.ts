import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { fromStreamImage } from '../../lambdas/adapters/record-item';
import { loadConfig } from '../../lambdas/config';
import { METRICS_NAMESPACE, SERVICE } from '../../lambdas/contract/observability';
import { asLambda } from '../../lambdas/handlers/middleware';
import { createProjectHandler } from '../../lambdas/handlers/project-handler';

/*
 * Measurement only, never deployed: lambdas/handlers/index.ts cut down to the projector (`Project`),
 * wired as index.ts wires it, from the same modules: what a per-function entry would make of it (M1, M2).
 */

const config = loadConfig(process.env);
const logger = new Logger({ serviceName: SERVICE, persistentKeys: { site: config.SITE_ID } });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE, defaultDimensions: { site: config.SITE_ID } });
const { ports, documents } = createAwsAdapters(config);
if (!documents) throw new Error('DOCUMENTS_TABLE_NAME is not set');

export const Project = asLambda(createProjectHandler({ documents, recordOf: fromStreamImage, clock: ports.clock, logger, metrics }), {
  logger,
  metrics,
});
