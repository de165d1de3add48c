import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { createAwsAdapters } from '../../lambdas/adapters/aws';
import { MAX_INLINE_PAYLOAD_BYTES } from '../../contract/limits';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import type { Ack } from '../../contract/ack';
import type { MessageType } from '../../contract/catalog';
import { localOverrides } from '../../local/clients';
import { provision, type Resources } from '../../local/provision';
import { dynamoClient, s3Client, sqsClient } from './aws';
import { proxyEvent } from '../../testing/events';

/*
 * One site on the run's emulators (AWS's DynamoDB Local, or dynalite without Java, and fauxqs for SQS
 * and S3): its own table, queue and bucket, the real receive and reconcile handlers over the real
 * adapters. For tests that try the receive path as an attacker or an unlucky operator would.
 */

const UNREACHABLE = 'http://127.0.0.1:9'; // discard port: nothing listens, every call fails fast

export interface ReceiveSite {
  readonly resources: Resources;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /**
   * The handler's answer to one POST of `body` (a string is sent as it is) to `/<type>`; with
   * `queueDown`, through adapters whose queue endpoint does not answer (the send fails as in an outage).
   */
  post(type: MessageType, body: unknown, options?: { queueDown?: boolean }): Promise<{ status: number; ack: Ack }>;
  /** One run of the reconciler with no grace period. */
  reconcile(): ReturnType<ReturnType<typeof createReconcileHandler>>;
  close(): void;
}

export async function receiveSite(label: string): Promise<ReceiveSite> {
  const emulators = inject('emulators');
  const endpoints = { dynamodb: emulators.dynamodb, sqs: emulators.sqs, s3: emulators.sqs };
  const resources = await provision(endpoints, { prefix: `${label}-${randomUUID().slice(0, 8)}` });
  const adaptersFor = (sqs: string) =>
    createAwsAdapters(
      { TABLE_NAME: resources.tableName, QUEUE_URL: resources.queueUrl, BUCKET_NAME: resources.bucket, S3_FORCE_PATH_STYLE: true },
      localOverrides({ ...endpoints, sqs }, { maxAttempts: 1 }),
    );
  const adapters = adaptersFor(endpoints.sqs);
  const queueDown = adaptersFor(UNREACHABLE);
  const logger = new Logger({ serviceName: 'hostile', logLevel: 'SILENT' });
  // Disabled in the test run (vitest.config.ts): a test that counts metrics spies on Metrics.prototype.addMetric.
  const metrics = new Metrics({ namespace: 'hostile', serviceName: 'hostile' });
  const handlers = new Map<string, ReturnType<typeof createReceiveHandler>>();
  const handler = (type: MessageType, down: boolean) => {
    let found = handlers.get(`${type}${down}`);
    if (!found) {
      found = createReceiveHandler(type, {
        ...(down ? queueDown : adapters),
        settings: { site: label, retentionDays: 7, maxInlinePayloadBytes: MAX_INLINE_PAYLOAD_BYTES },
        maxBodyBytes: 4 * 1024 * 1024,
        logger,
        metrics,
      });
      handlers.set(`${type}${down}`, found);
    }
    return found;
  };
  const reconciler = createReconcileHandler({
    ports: adapters.ports,
    settings: { graceSeconds: 0, batch: 100 },
    logger,
    metrics,
  });
  const dynamodb = dynamoClient(endpoints.dynamodb);
  const sqs = sqsClient(endpoints.sqs);
  const s3 = s3Client(endpoints.s3);
  return {
    resources,
    dynamodb,
    sqs,
    s3,
    async post(type, body, options = {}) {
      const result = await handler(
        type,
        options.queueDown === true,
      )(proxyEvent({ path: `/${type}`, body: typeof body === 'string' ? body : JSON.stringify(body) }));
      return { status: result.statusCode, ack: JSON.parse(result.body) as Ack };
    },
    reconcile: () => reconciler(),
    close() {
      dynamodb.destroy();
      sqs.destroy();
      s3.destroy();
    },
  };
}
