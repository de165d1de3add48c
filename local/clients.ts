import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ClientOverrides } from '../lambdas/adapters';
import { EMULATOR_DEADLINE, requestHandlerOptions, TOOL_DEADLINE } from '../contract/deadlines';

/*
 * SDK clients pointed at the local emulators, in one place with their quirks: fauxqs names
 * queue hosts that do not resolve (so the endpoint, not the queue URL, decides) and serves
 * buckets by path. Used by the local runner, the CLI, the load test and the tests.
 */

export const LOCAL_REGION = 'eu-central-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Region, credentials and endpoint for any SDK client talking to an emulator. */
export const localClientConfig = (endpoint: string, region = LOCAL_REGION) => ({ region, credentials: LOCAL_CREDENTIALS, endpoint });

/** The tools' clients (the CLI, the console, the tests' looks) end a hung call too, generously (TOOL_DEADLINE). */
const toolHandler = { requestHandler: requestHandlerOptions(TOOL_DEADLINE) };

export const localDynamoDb = (endpoint: string, region?: string) =>
  new DynamoDBClient({ ...localClientConfig(endpoint, region), ...toolHandler });
export const localSqs = (endpoint: string, region?: string) =>
  new SQSClient({ ...localClientConfig(endpoint, region), ...toolHandler, useQueueUrlAsEndpoint: false });
export const localS3 = (endpoint: string, region?: string) =>
  new S3Client({ ...localClientConfig(endpoint, region), ...toolHandler, forcePathStyle: true });

/**
 * What `createAwsAdapters` needs to reach the emulators (it sets the queue and bucket quirks itself), with the
 * emulators' deadlines (contract/deadlines.ts, EMULATOR_DEADLINE: they are slower than AWS on a loaded machine).
 */
export function localOverrides(
  endpoints: { dynamodb: string; sqs: string; s3: string },
  extra: { maxAttempts?: number } = {},
): ClientOverrides {
  return {
    dynamodb: { ...localClientConfig(endpoints.dynamodb), ...extra },
    sqs: { ...localClientConfig(endpoints.sqs), ...extra },
    s3: { ...localClientConfig(endpoints.s3), ...extra },
    deadlines: { dynamodb: EMULATOR_DEADLINE, sqs: EMULATOR_DEADLINE, s3: EMULATOR_DEADLINE },
  };
}
