import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDocumentStore } from '../../../lambdas/adapters/dynamodb-documents';
import { fromStreamImage } from '../../../lambdas/adapters/record-item';
import { loadConfig } from '../../../lambdas/config';
import { METRICS_NAMESPACE, SERVICE } from '../../../contract/observability';
import { asLambda } from '../../../lambdas/handlers/middleware';
import { createProjectHandler } from '../../../lambdas/handlers/project-handler';

/*
 * Measurement only, never deployed: the projector with the one SDK client it calls (DynamoDB), instead of
 * createAwsAdapters' three. Beside the deployed `project` entry it shows what splitting the adapters (not only
 * the entry) would save a function that needs neither SQS nor S3 (M1, M2).
 */

const config = loadConfig(process.env);
const logger = new Logger({ serviceName: SERVICE, persistentKeys: { site: config.SITE_ID } });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE, defaultDimensions: { site: config.SITE_ID } });
// As createAwsAdapters builds its DynamoDB client.
const dynamodb = new DynamoDBClient({ requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 }, maxAttempts: 3 });
const documents = new DynamoDbDocumentStore(dynamodb, config.DOCUMENTS_TABLE_NAME ?? '');

export const Project = asLambda(
  createProjectHandler({ documents, recordOf: fromStreamImage, clock: { now: () => new Date() }, logger, metrics }),
  { logger, metrics },
);
