import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/*
 * Measurement only: the floor of any Lambda doing this job with the AWS SDK v3 bundled — the three
 * clients a receiver uses (DynamoDB, SQS, S3), built at init, and nothing else. Bundled with the
 * stack's settings (M1) and started like ours (M2), it is what the SDK alone costs.
 */

const clients = { dynamodb: new DynamoDBClient({}), sqs: new SQSClient({}), s3: new S3Client({}) };

export const handler = async () => Object.keys(clients).length;
