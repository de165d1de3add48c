import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { baseUrlFrom } from '../contract/base-url';
import { toolClientSettings } from '../contract/deadlines';
import { emulatorClientConfig, type LocalInfo } from '../contract/local';

/*
 * Where the CLI points: a base URL (the callback endpoint), and for the commands that look
 * behind it, the queue and table. `npm start` describes itself at /_local/info, so against
 * it nothing else is needed; against AWS, pass the stack outputs (or their env variables).
 */

export interface Target {
  readonly baseUrl: string;
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  readonly tableName?: string;
  readonly documentsTableName?: string;
  readonly bucket?: string;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly local: boolean;
}

export interface TargetFlags {
  readonly base?: string;
  readonly 'queue-url'?: string;
  readonly 'dlq-url'?: string;
  readonly table?: string;
  readonly 'documents-table'?: string;
  readonly bucket?: string;
}

export async function resolveTarget(flags: TargetFlags, env = process.env): Promise<Target> {
  const baseUrl = baseUrlFrom(flags.base, env);
  const info = await localInfo(baseUrl);
  // Flags first; then what `npm start` says of itself, or else the environment (a deployed stack's outputs).
  return {
    baseUrl,
    queueUrl: flags['queue-url'] ?? (info ? info.queueUrl : env.N3_QUEUE_URL),
    dlqUrl: flags['dlq-url'] ?? (info ? info.dlqUrl : env.N3_DLQ_URL),
    tableName: flags.table ?? (info ? info.tableName : env.N3_TABLE_NAME),
    documentsTableName: flags['documents-table'] ?? (info ? info.documentsTableName : env.N3_DOCUMENTS_TABLE_NAME),
    bucket: flags.bucket ?? (info ? info.bucket : env.N3_BUCKET_NAME),
    // A hung call ends (contract/deadlines.ts, TOOL_DEADLINE): generous, nobody waits on an ack here.
    s3: new S3Client(info ? emulatorClientConfig.s3(info.s3Endpoint, info.region) : toolClientSettings()),
    sqs: new SQSClient(info ? emulatorClientConfig.sqs(info.sqsEndpoint, info.region) : toolClientSettings()),
    dynamodb: new DynamoDBClient(info ? emulatorClientConfig.dynamodb(info.dynamodbEndpoint, info.region) : toolClientSettings()),
    local: info !== undefined,
  };
}

export function requireValue<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`${what} is not known: pass it, or point --base at \`npm start\``);
  return value;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

async function localInfo(baseUrl: string): Promise<LocalInfo | undefined> {
  try {
    const response = await fetch(new URL('_local/info', baseUrl), { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return undefined;
    const info = (await response.json()) as LocalInfo;
    return typeof info?.queueUrl === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}
