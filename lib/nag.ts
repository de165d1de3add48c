import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { BUCKET_PREFIXES } from '../contract/names';
import { addressCount, parseCidr } from './cidr';

/*
 * Every cdk-nag AwsSolutions finding this stack keeps, each with the reason it is right here.
 * Findings are acknowledged on the narrowest construct that has them.
 */

const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

/** What a site stack hands over to be checked: the constructs that carry acknowledged findings. */
export interface NagSubjects {
  readonly siteId: string;
  readonly api: RestApi;
  readonly bucket: Bucket;
  /** Functions that write payloads and rejected requests under the bucket's prefixes. */
  readonly bucketWriters: readonly IFunction[];
  readonly consumerPolicy: IManagedPolicy & IConstruct;
  readonly executionLogs: boolean;
  /** Who may call the callback routes, as the site configures it: the reasons below say exactly this. */
  readonly access: CallerAccess;
  /** Functions granted encryption with the site's own KMS key (encryption: 'kms'); empty without one. */
  readonly keyWriters: readonly IFunction[];
  /** The stream-fed document projector and the queue of batches it gave up on. */
  readonly projector: IFunction;
  readonly projectionFailures: IConstruct;
}

export interface CallerAccess {
  readonly senderCidrs: readonly string[];
  readonly allowAnySender: boolean;
  readonly secretPathSegment: boolean;
  readonly maxRequestsPerSecond: number;
  readonly oversizeGuard: boolean;
}

/** What limits the callers of the callback routes, in words, from the site's real settings. */
export function callerLimits(access: CallerAccess): string {
  const gate = access.allowAnySender
    ? 'Any source address may call (the site sets allowAnySender): the secret path segment is the only gate, so it must stay secret.'
    : `Callers are limited to ${access.senderCidrs.join(', ')} by the resource policy (${allowed(access.senderCidrs)}; an explicit deny for every other source address)${
        access.secretPathSegment ? ' and must also know the secret path segment' : ''
      }.`;
  return `${gate} Every call is throttled (${access.maxRequestsPerSecond} requests a second) and validated strictly.`;
}

/**
 * How many addresses the allowlist holds, as the reason's evidence: synth refuses a range wider than a /16, a
 * special range and host bits (lib/cidr.ts), and a range that slipped past it would show here for what it is.
 */
function allowed(cidrs: readonly string[]): string {
  const total = cidrs.reduce((sum, text) => {
    const { cidr } = parseCidr(text);
    return sum + (cidr ? addressCount(cidr) : 0);
  }, 0);
  return `${total.toLocaleString('en-US')} addresses in all`;
}

export function acknowledgeNagFindings(subjects: NagSubjects): void {
  const { api, bucket, siteId, access } = subjects;
  const bucketArn = `<${Stack.of(bucket).getLogicalId(bucket.node.defaultChild as never)}.Arn>`;

  const noCallerAuth = `The N3.Health delivery module POSTs without credentials (the protocol has none). ${callerLimits(access)}`;
  ack(api, 'AwsSolutions-APIG4', noCallerAuth);
  ack(api, 'AwsSolutions-COG4', `${noCallerAuth} There are no Cognito users on the sender side.`);
  ack(
    api,
    'AwsSolutions-APIG2',
    'Validation is done in the function on purpose: a gateway validator would answer without the protocol ack, without ' +
      'naming the field, and without keeping the rejected request under rejected/.',
  );
  if (!access.oversizeGuard) {
    ack(
      api,
      'AwsSolutions-APIG3',
      `The site turned the WAF oversize guard off (oversizeGuard: false). ${callerLimits(access)} Bodies over the limit get the ` +
        "function's own 413 ack, or the gateway's 5xx above what Lambda takes.",
    );
  }
  if (!subjects.executionLogs) {
    ack(
      api.deploymentStage,
      'AwsSolutions-APIG6',
      'Access logs record every request (time, IP, route, status, size). Execution logs need the account-wide API Gateway ' +
        "CloudWatch role, which a site stack must not own: deploy N3Callback-account once, then set the site's executionLogs.",
    );
  }

  const objectPrefixes =
    "Object keys are made per message (MessageId and content hash) under this site's prefix, so object ARNs can only be " +
    'granted by prefix; the prefix is the tightest scope.';
  // The receiving functions share one role: acknowledged once on it.
  for (const role of new Set(subjects.bucketWriters.map((fn) => fn.role!))) {
    ack(role, `AwsSolutions-IAM5[Resource::${bucketArn}/${BUCKET_PREFIXES.payloads(siteId)}*]`, objectPrefixes);
    ack(role, `AwsSolutions-IAM5[Resource::${bucketArn}/${BUCKET_PREFIXES.rejected}*]`, objectPrefixes);
  }
  ack(subjects.consumerPolicy, `AwsSolutions-IAM5[Resource::${bucketArn}/${BUCKET_PREFIXES.payloads(siteId)}*]`, objectPrefixes);
  const apiId = `<${Stack.of(api).getLogicalId(api.node.defaultChild as never)}>`;
  for (const method of ['GET', 'PUT']) {
    ack(
      subjects.consumerPolicy,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${apiId}/n3/${method}/documents/*]`,
      'Document ids are path parameters (/documents/{documentId}…): the routes can only be granted by prefix, and only these methods of this stage.',
    );
  }
  for (const fn of subjects.keyWriters) {
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      ack(
        fn.role!,
        `AwsSolutions-IAM5[Action::${action}]`,
        "The L2 grants of the site's own KMS key (SQS sends, table and bucket writes) name the variants of GenerateDataKey and " +
          'ReEncrypt; they are allowed on that one key only, which no principal outside this site is granted.',
      );
    }
  }
  ack(
    subjects.projector.role!,
    'AwsSolutions-IAM5[Resource::*]',
    "dynamodb:ListStreams, which Lambda's event source mapping needs, has no resource-level permission; every other action is on this table's stream.",
  );
  ack(
    subjects.projectionFailures,
    'AwsSolutions-SQS3',
    "This queue is itself the failure destination of the projector's stream mapping (its dead-letter queue), and it is alarmed.",
  );
}
