import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalInfo } from '../local/stack';

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
  readonly bucket?: string;
}

export const DEFAULT_BASE = 'http://127.0.0.1:3000/';

export async function resolveTarget(flags: TargetFlags, env = process.env): Promise<Target> {
  const baseUrl = withSlash(flags.base ?? env.N3_CALLBACK_BASE ?? DEFAULT_BASE);
  const info = await localInfo(baseUrl);
  if (info) {
    const local = { region: info.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    return {
      baseUrl,
      queueUrl: flags['queue-url'] ?? info.queueUrl,
      dlqUrl: flags['dlq-url'] ?? info.dlqUrl,
      tableName: flags.table ?? info.tableName,
      bucket: flags.bucket ?? info.bucket,
      s3: new S3Client({ ...local, endpoint: info.s3Endpoint, forcePathStyle: true }),
      sqs: new SQSClient({ ...local, endpoint: info.sqsEndpoint, useQueueUrlAsEndpoint: false }),
      dynamodb: new DynamoDBClient({ ...local, endpoint: info.dynamodbEndpoint }),
      local: true,
    };
  }
  return {
    baseUrl,
    queueUrl: flags['queue-url'] ?? env.N3_QUEUE_URL,
    dlqUrl: flags['dlq-url'] ?? env.N3_DLQ_URL,
    tableName: flags.table ?? env.N3_TABLE_NAME,
    bucket: flags.bucket ?? env.N3_BUCKET_NAME,
    s3: new S3Client({}),
    sqs: new SQSClient({}),
    dynamodb: new DynamoDBClient({}),
    local: false,
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

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

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
