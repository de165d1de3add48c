import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { baseUrlFrom } from '../contract/base-url';
import { toolClientSettings } from '../contract/deadlines';
import { emulatorClientConfig, type LocalInfo } from '../contract/local';
import { SECRET_PLACEHOLDER } from '../contract/names';
import { UsageError } from './errors';
import { type ResolvedSite, resolveSite } from './site';

/*
 * Where the CLI points: a base URL (the callback endpoint), and for the commands that look
 * behind it, the queue and table. `npm start` describes itself at /_local/info, so against
 * it nothing else is needed; against AWS, `--site <id>` reads the site stack's outputs from
 * CloudFormation (cli/site.ts), or pass them (flags, or their env variables). Flags always win.
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
  /** Where `/documents` lives: --api, N3_DOCUMENTS_API, the site's DocumentsApiUrl, else the base URL. */
  readonly documentsApiUrl: string;
  /** The deployed site `--site` named, with its stack outputs. */
  readonly site?: ResolvedSite;
  /** `npm start`'s description of itself, when it is the target. */
  readonly localInfo?: LocalInfo;
}

export interface TargetFlags {
  readonly base?: string;
  readonly 'queue-url'?: string;
  readonly 'dlq-url'?: string;
  readonly table?: string;
  readonly 'documents-table'?: string;
  readonly bucket?: string;
  readonly site?: string;
  readonly api?: string;
}

export async function resolveTarget(flags: TargetFlags, env = process.env): Promise<Target> {
  if (flags.site !== undefined) return siteTarget(flags, await resolveSite(flags.site), env);
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
    documentsApiUrl: flags.api ?? env.N3_DOCUMENTS_API ?? baseUrl,
    ...(info ? { localInfo: info } : {}),
  };
}

/**
 * A deployed site: its outputs, under the flags. The clients are the SDK's defaults (credentials, region and
 * AWS_ENDPOINT_URL_<SERVICE> from the environment, as for the AWS CLI) with the tools' deadlines; where an
 * endpoint is overridden (an emulator standing in for the site), buckets are addressed by path, which AWS serves
 * as well.
 */
function siteTarget(flags: TargetFlags, site: ResolvedSite, env: NodeJS.ProcessEnv): Target {
  const { outputs } = site;
  const published = outputs.callbackBaseUrl;
  // The published URL names a secret segment by placeholder (never its value): the sender's URL needs --base.
  const baseUrl = flags.base ?? (env.N3_CALLBACK_BASE || published) ?? '';
  const settings = toolClientSettings();
  return {
    baseUrl,
    queueUrl: flags['queue-url'] ?? outputs.queueUrl,
    dlqUrl: flags['dlq-url'] ?? outputs.dlqUrl,
    tableName: flags.table ?? outputs.tableName,
    documentsTableName: flags['documents-table'] ?? outputs.documentsTableName,
    bucket: flags.bucket ?? outputs.bucketName,
    s3: new S3Client({ ...settings, forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL) }),
    sqs: new SQSClient({ ...settings, useQueueUrlAsEndpoint: false }),
    dynamodb: new DynamoDBClient(settings),
    local: false,
    documentsApiUrl: flags.api ?? env.N3_DOCUMENTS_API ?? outputs.documentsApiUrl ?? baseUrl,
    site,
  };
}

/** The callback base URL for a command that POSTs to it: not one that still names the secret by placeholder. */
export function postableBaseUrl(target: Target): string {
  if (!target.baseUrl) throw new UsageError(`${target.site?.stackName ?? 'the site'} has no CallbackBaseUrl output: pass --base`);
  if (target.baseUrl.includes(SECRET_PLACEHOLDER))
    throw new UsageError(`this site's URL has a secret path segment: pass --base with it (or N3_CALLBACK_BASE), as the sender has it`);
  return target.baseUrl;
}

export function requireValue<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '')
    throw new UsageError(`${what} is not known: pass it, or --site <id> (a deployed site), or point --base at \`npm start\``);
  return value;
}

export { UsageError };

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
