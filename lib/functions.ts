import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  Architecture,
  Code,
  FilterCriteria,
  FilterRule,
  Function as LambdaFunction,
  type FunctionProps,
  Runtime,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { Grant, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MESSAGE_TYPES, type MessageType } from '../contract/catalog';
import { DOCUMENTS, TABLE } from '../contract/shapes';
import { BUCKET_PREFIXES, FUNCTION_ENV, type FunctionEnvironment } from '../contract/names';
import { RECEIVER_TIMEOUT_MS, SWEEP } from '../contract/deadlines';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { buildLambdaCodeSync, type LambdaEntry } from './bundling';
import { retentionFor } from './logs';
import type { Storage } from './storage';

export interface FunctionsProps {
  readonly siteId: string;
  readonly storage: Storage;
  readonly retentionDays: number;
  readonly lpuAllowlist: readonly string[];
  /**
   * Reserved concurrency of each function the API invokes (the receivers, Fallback, Documents): the site's cap on
   * the account's concurrency (site-config.ts `reservedConcurrency`).
   * @default none: they draw on the account's unreserved pool
   */
  readonly reservedConcurrency?: number;
}

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The functions' code (lib/bundling.ts: one esbuild run, an entry per kind of function, shared chunks): one asset.
 * One Code object per stack, bound by all its functions (a Code binds to one stack), so a site stages the asset once,
 * not once per function; its hash is its output's, the same for every site, so the fleet uploads it once. CDK bundles
 * it once per synth (its staging cache is keyed by these options) and only for the stacks it bundles
 * (`aws:cdk:bundling-stacks`), as it did NodejsFunction's; esbuild runs in this process, never in Docker.
 */
function lambdaCode(): Code {
  return Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling below always succeeds or throws.
      image: DockerImage.fromRegistry('local-esbuild-only'),
      local: {
        tryBundle(outputDir) {
          buildLambdaCodeSync(outputDir);
          return true;
        },
      },
    },
  });
}

/**
 * Ten functions from one code asset: one per MessageType (from the catalog), the catch-all
 * `Fallback`, `Sweep` on the fleet's tick, `Project` on the table's stream and `Documents` for the
 * document API. Four roles, one per set of permissions: the seven receiving functions do the same
 * thing and share `IngestRole`; each other function has its own. A role holds exactly what its
 * functions use (IAM roles are the account quota a fleet meets first: 1,000 by default).
 */
export class Functions extends Construct {
  readonly receivers: Readonly<Record<MessageType, LambdaFunction>>;
  readonly fallback: LambdaFunction;
  /** Every minute, on the fleet's tick: forwards what waits in the table, counts silent documents. */
  readonly sweep: LambdaFunction;
  /** The message table's stream → documents. */
  readonly projector: LambdaFunction;
  /** The document API (IAM-authorised routes under /documents). */
  readonly documentsApi: LambdaFunction;
  /** The functions that encrypt with the site's own key (encryption: 'kms'); empty without one. */
  readonly keyWriters: readonly LambdaFunction[];

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { storage, siteId } = props;

    const environment = {
      [FUNCTION_ENV.siteId]: siteId,
      [FUNCTION_ENV.tableName]: storage.table.tableName,
      [FUNCTION_ENV.documentsTableName]: storage.documents.tableName,
      [FUNCTION_ENV.queueUrl]: storage.queue.queueUrl,
      [FUNCTION_ENV.bucketName]: storage.bucket.bucketName,
      [FUNCTION_ENV.retentionDays]: String(props.retentionDays),
      [FUNCTION_ENV.lpuAllowlist]: props.lpuAllowlist.join(','),
      NODE_OPTIONS: '--enable-source-maps',
    } satisfies FunctionEnvironment & { NODE_OPTIONS: string };

    const code = lambdaCode();
    const lambdaRole = (name: string) => new Role(this, `${name}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    /** A function whose handler is the export `name` of the entry `entry` (lib/bundling.ts LAMBDA_ENTRIES). */
    const make = (name: string, entry: LambdaEntry, extra: Partial<FunctionProps> = {}, role = lambdaRole(name)) => {
      const logGroup = new LogGroup(this, `${name}Logs`, {
        retention: retentionFor(props.retentionDays),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // Allowed to write the log groups of its own functions only (not the managed basic-execution policy's any group).
      logGroup.grantWrite(role);
      return new LambdaFunction(this, name, {
        role,
        code,
        handler: `${entry}.${name}`,
        runtime: Runtime.NODEJS_24_X,
        architecture: Architecture.ARM_64,
        memorySize: 512,
        // The gateway gives up after 29 s; the SDK clients time out far sooner.
        timeout: Duration.millis(RECEIVER_TIMEOUT_MS),
        environment,
        logGroup,
        ...extra,
      });
    };

    // The six types and the catch-all run the same code path with the same grants: one role, seven log groups.
    // Each function the API invokes has the site's cap where it has one: API Gateway throttles each method on its
    // own, so only Lambda's reservation bounds what the site can hold of the account's concurrency.
    const capped: Partial<FunctionProps> =
      props.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrency };
    const ingestRole = lambdaRole('Ingest');
    const receivers = Object.fromEntries(MESSAGE_TYPES.map((type) => [type, make(type, 'receive', capped, ingestRole)])) as Record<
      MessageType,
      LambdaFunction
    >;
    this.receivers = receivers;
    this.fallback = make('Fallback', 'receive', capped, ingestRole);
    // At most one run per site, without reserved concurrency (on a new account, quota 10 or 50, reserving even 1
    // fails the stack): a timeout below the one-minute tick, no asynchronous retries and a short event age, so a
    // run has ended before the next tick starts one, whatever hangs (contract/deadlines.ts, SWEEP). Were two to
    // overlap, they would send a message with the same deduplication id, and the FIFO queue keeps one.
    this.sweep = make('Sweep', 'sweep', {
      timeout: Duration.seconds(SWEEP.timeoutSeconds),
      retryAttempts: SWEEP.retryAttempts,
      maxEventAge: Duration.seconds(SWEEP.maxEventAgeSeconds),
    });

    // Exact actions on exact resources: the L2 grants add index/* and action wildcards we do not use.
    const allow = (grantee: IGrantable, actions: string[], resourceArns: string[]) =>
      Grant.addToPrincipal({ grantee, actions, resourceArns });
    const { table, queue, bucket } = storage;
    allow(ingestRole, ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], [table.tableArn]);
    queue.grantSendMessages(ingestRole);
    allow(ingestRole, ['s3:PutObject', 's3:DeleteObject'], [bucket.arnForObjects(`${BUCKET_PREFIXES.payloads(siteId)}*`)]);
    allow(ingestRole, ['s3:PutObject'], [bucket.arnForObjects(`${BUCKET_PREFIXES.rejected}*`)]);
    // Sweep, job one (reconcile): the pending index, the records it forwards, the queue.
    allow(this.sweep, ['dynamodb:Query'], [`${table.tableArn}/index/${TABLE.pendingIndex.name}`]);
    allow(this.sweep, ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'], [table.tableArn]);
    queue.grantSendMessages(this.sweep);

    const { documents } = storage;
    this.projector = make('Project', 'project', { timeout: Duration.seconds(60) });
    this.projector.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        // A failing batch is split to find the record at fault, retried, then handed to the failure queue.
        bisectBatchOnError: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(storage.projectionFailures),
        // Only new records are news about a document; marking one forwarded is not.
        filters: [FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT') })],
      }),
    );
    allow(this.projector, ['dynamodb:GetItem', 'dynamodb:PutItem'], [documents.tableArn]);

    this.documentsApi = make('Documents', 'documents', capped);
    allow(this.documentsApi, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:BatchGetItem'], [documents.tableArn]);
    allow(
      this.documentsApi,
      ['dynamodb:Query'],
      [`${documents.tableArn}/index/${DOCUMENTS.updatedIndex.name}`, `${documents.tableArn}/index/${DOCUMENTS.dueIndex.name}`],
    );

    // Sweep, job two (silent documents): the due index and the documents it names; reads only.
    allow(this.sweep, ['dynamodb:Query'], [`${documents.tableArn}/index/${DOCUMENTS.dueIndex.name}`]);
    allow(this.sweep, ['dynamodb:BatchGetItem'], [documents.tableArn]);

    // The site's own key, where it has one: to the functions that read or write its tables and bucket (the
    // queue and stream grants above add theirs themselves), with DescribeKey as the tables' own L2 grants
    // give it. Nothing else in the account is granted it but the consumer policy (callback-stack.ts).
    this.keyWriters = storage.key ? [this.fallback, this.sweep, this.projector, this.documentsApi] : [];
    for (const fn of this.keyWriters) {
      storage.key!.grantEncryptDecrypt(fn);
      storage.key!.grant(fn, 'kms:DescribeKey');
    }
    // A retiring key (encryption: 'kms-retiring') encrypts nothing new: decrypt only, to every role that read the
    // site's data with it, for what was written while the site was `kms`.
    if (storage.retiringKey) {
      for (const grantee of [ingestRole, this.sweep, this.projector, this.documentsApi]) {
        storage.retiringKey.grant(grantee, 'kms:Decrypt', 'kms:DescribeKey');
      }
    }
  }

  get all(): LambdaFunction[] {
    return [...Object.values(this.receivers), this.fallback, this.sweep, this.projector, this.documentsApi];
  }
}
