import { MESSAGE_TYPES, type MessageType } from './catalog';

/*
 * The names the whole house agrees on, in one place: the stack (lib/), the functions (lambdas/), npm start
 * (local/), the CLI, fleet plan and the consumer library read them here, so no second spelling can drift
 * (test/unit/names.test.ts looks for one). Pure data: no I/O, no AWS.
 */

/** Every name this project gives an AWS resource starts with it (REST APIs, dashboards, topics, parameters). */
export const RESOURCE_PREFIX = 'n3-callback';

/** CloudFormation stack names: `N3Callback-<site id>`, and the two shared stacks. */
export const STACK_PREFIX = 'N3Callback-';
export const stackName = (siteId: string) => `${STACK_PREFIX}${siteId}`;
export const FLEET_STACK_NAME = stackName('fleet');
export const ACCOUNT_STACK_NAME = stackName('account');
/**
 * A site stack's outputs, by key: the stack declares them (lib/callback-stack.ts) and the tools find a site's
 * queue, table, bucket and APIs by them (`n3-callback --site <id>`, cli/site.ts), so both spell them here.
 */
export const SITE_OUTPUTS = {
  callbackBaseUrl: 'CallbackBaseUrl',
  queueUrl: 'QueueUrl',
  dlqUrl: 'DlqUrl',
  tableName: 'TableName',
  bucketName: 'BucketName',
  documentsApiUrl: 'DocumentsApiUrl',
  documentsTableName: 'DocumentsTableName',
  dashboardName: 'DashboardName',
  accessLogGroupName: 'AccessLogGroupName',
  consumerPolicyArn: 'ConsumerPolicyArn',
} as const;
export type SiteOutputKey = keyof typeof SITE_OUTPUTS;
/** How the CallbackBaseUrl output names a site's secret path segment: never by its value (outputs are readable). */
export const SECRET_PLACEHOLDER = '<secretPathSegment>';
/** Ids a site may not take: they name the shared stacks. */
export const RESERVED_SITE_IDS: readonly string[] = ['fleet', 'account'];

/**
 * A site id: lower-case letters, digits and dashes, 1-32, not starting or ending with a dash. It names a
 * stack, resources (bucket and API names among them, hence lower case and short) and every envelope's `site`.
 */
export const SITE_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const SITE_ID_RULE = 'lower-case letters, digits and dashes, 1-32, e.g. "mo-123"';

/** What a site's own resource names start with (npm start names its emulated table, queues and bucket so too). */
export const siteResourcePrefix = (siteId: string) => `${RESOURCE_PREFIX}-${siteId}`;
/** A site's REST API, by name (the fleet dashboard finds every site's API by the common prefix). */
export const apiName = siteResourcePrefix;
/** A site's own KMS key (encryption: 'kms'), by alias. */
export const keyAlias = (siteId: string) => `alias/${siteResourcePrefix(siteId)}`;
/** A site's own dashboard, when it asks for one. */
export const siteDashboardName = siteResourcePrefix;

/**
 * The tick's topic, by name: a site builds its ARN from its own partition, region and account, so no value
 * anyone can write (an SSM parameter) decides what a site's Sweep lets invoke it.
 */
export const TICK_TOPIC_NAME = `${RESOURCE_PREFIX}-fleet-tick`;

/**
 * What the fleet stack publishes for sites, by SSM parameter name. A site reads them when it deploys
 * (`valueForStringParameter`), not through CloudFormation exports: an export cannot change while any
 * stack imports it, and 500 sites would pin the fleet stack in place.
 */
export const FLEET_PARAMETERS = {
  /** The shared WAF web ACL every site's stage is associated with. */
  webAclArn: `/${RESOURCE_PREFIX}/fleet/web-acl-arn`,
} as const;

/**
 * The bucket's prefixes: rejected requests, each site's claim-checked payloads (`<site>/…`), and the audit trail of
 * operators' actions on the site (cli/audit.ts; no lifecycle rule: kept until someone deletes it).
 */
export const BUCKET_PREFIXES = {
  rejected: 'rejected/',
  audit: 'audit/',
  payloads: (siteId: string) => `${siteId}/`,
} as const;

/**
 * Ids a site may not take because its payloads' prefix (`<id>/`) would be one of the bucket's own prefixes: a site
 * `audit` would expire the audit trail with its payloads and give its functions and MIS consumer the trail.
 */
export const BUCKET_PREFIX_SITE_IDS: readonly string[] = [BUCKET_PREFIXES.audit, BUCKET_PREFIXES.rejected].map((p) => p.slice(0, -1));

/** The API stage every URL carries: `https://…/n3[/<secret>]/<MessageType>`. */
export const STAGE = 'n3';

/**
 * The route table, which both the API construct (lib/api.ts) and npm start's gateway (local/gateway.ts)
 * build their routing from: one POST route per MessageType under the base (`[/<secret>]`), a catch-all
 * there for anything else, and the document API at the stage root, whatever the secret.
 */
export const CALLBACK_ROUTES: readonly MessageType[] = MESSAGE_TYPES;
export const DOCUMENTS_SEGMENT = 'documents';
/** The document API's methods, as API Gateway names them in stage method settings (`<resource path>/<METHOD>`). */
export const DOCUMENT_ROUTES = [
  { path: '/documents', method: 'GET' },
  { path: '/documents/{documentId}', method: 'GET' },
  { path: '/documents/{documentId}/expectations/{stage}', method: 'PUT' },
] as const;

export type Route =
  | { readonly kind: 'callback'; readonly type: MessageType }
  | { readonly kind: 'documents' }
  | { readonly kind: 'fallback' };

/** Where a request's path segments (after the base) go: the same decision API Gateway's resources make. */
export function routeOf(segments: readonly string[]): Route {
  if (segments[0] === DOCUMENTS_SEGMENT) return { kind: 'documents' };
  const type = segments.length === 1 ? CALLBACK_ROUTES.find((candidate) => candidate === segments[0]) : undefined;
  return type ? { kind: 'callback', type } : { kind: 'fallback' };
}

/**
 * The functions' environment, by name: what lib/functions.ts sets, what lambdas/config.ts reads, and what
 * npm start and the benchmarks hand the same wiring. One type, so a name cannot be spelled two ways.
 */
export const FUNCTION_ENV = {
  siteId: 'SITE_ID',
  tableName: 'TABLE_NAME',
  documentsTableName: 'DOCUMENTS_TABLE_NAME',
  queueUrl: 'QUEUE_URL',
  bucketName: 'BUCKET_NAME',
  retentionDays: 'RETENTION_DAYS',
  lpuAllowlist: 'LPU_ALLOWLIST',
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  maxBodyBytes: 'MAX_BODY_BYTES',
  maxInlinePayloadBytes: 'MAX_INLINE_PAYLOAD_BYTES',
  reconcileGraceSeconds: 'RECONCILE_GRACE_SECONDS',
  reconcileBatch: 'RECONCILE_BATCH',
  sdkDeadlines: 'SDK_DEADLINES',
} as const;
export type FunctionEnvName = (typeof FUNCTION_ENV)[keyof typeof FUNCTION_ENV];
export type FunctionEnvironment = Partial<Record<FunctionEnvName, string>>;

/** How long a site keeps records, documents, payloads, rejected requests and logs unless it says otherwise. */
export const DEFAULT_RETENTION_DAYS = 90;
/** The longest a site may keep its records (ten years): also the widest window a replay may ask for. */
export const MAX_RETENTION_DAYS = 3650;
