import { toolClientSettings } from './deadlines';

/*
 * What `npm start` (local/) tells the tools that talk to it, and how they reach its emulators: the CLI, the
 * load test, the benchmarks and the consumer example read it here, so none of them imports the local stack
 * itself. Plain settings objects (no AWS SDK here): each tool builds its own clients from them.
 */

/** Which DynamoDB emulator runs: AWS's DynamoDB Local (Java), or dynalite where no Java is. */
export type DynamoEmulatorKind = 'dynamodb-local' | 'dynalite';

/** `npm start`'s description of itself, served at `/_local/info` and sent to a parent process over IPC. */
export interface LocalInfo {
  readonly baseUrl: string;
  readonly region: string;
  readonly sqsEndpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly dynamodbEndpoint: string;
  readonly dynamodbEmulator: DynamoEmulatorKind;
  readonly tableName: string;
  readonly s3Endpoint: string;
  readonly bucket: string;
  readonly documentsTableName: string;
  /** Whether documents are projected (DynamoDB Local's stream; dynalite has none). */
  readonly documentProjection: boolean;
  /** The site id the functions run as, and the `Lpu` ids they serve now (empty: any): what `rejected readmit` applies. */
  readonly siteId: string;
  readonly lpuAllowlist: readonly string[];
}

export const LOCAL_REGION = 'eu-central-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Region, credentials and endpoint for any SDK client talking to an emulator. */
export const localClientConfig = (endpoint: string, region = LOCAL_REGION) => ({ region, credentials: LOCAL_CREDENTIALS, endpoint });

/**
 * Each emulator's client settings for a tool (the CLI, the console, the tests' looks: a hung call ends, generously), quirks included: fauxqs names queue hosts that do not resolve (so
 * the endpoint, not the queue URL, decides) and serves buckets by path.
 */
export const emulatorClientConfig = {
  dynamodb: (endpoint: string, region?: string) => ({ ...localClientConfig(endpoint, region), ...toolClientSettings() }),
  sqs: (endpoint: string, region?: string) => ({
    ...localClientConfig(endpoint, region),
    ...toolClientSettings(),
    useQueueUrlAsEndpoint: false,
  }),
  s3: (endpoint: string, region?: string) => ({ ...localClientConfig(endpoint, region), ...toolClientSettings(), forcePathStyle: true }),
};
