import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ClientOverrides } from '../lambdas/adapters';
import { EMULATOR_DEADLINE } from '../contract/deadlines';
import { emulatorClientConfig, LOCAL_CREDENTIALS, LOCAL_REGION, localClientConfig } from '../contract/local';

/*
 * SDK clients pointed at the local emulators, with their quirks (contract/local.ts holds the settings, which
 * the CLI reads too). Used by the local runner, the load test, the benchmarks and the tests.
 */

export { LOCAL_CREDENTIALS, LOCAL_REGION, localClientConfig };

export const localDynamoDb = (endpoint: string, region?: string) => new DynamoDBClient(emulatorClientConfig.dynamodb(endpoint, region));
export const localSqs = (endpoint: string, region?: string) => new SQSClient(emulatorClientConfig.sqs(endpoint, region));
export const localS3 = (endpoint: string, region?: string) => new S3Client(emulatorClientConfig.s3(endpoint, region));

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
