import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Bucket } from 'aws-cdk-lib/aws-s3';

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
  /** The stream-fed document projector and the queue of batches it gave up on. */
  readonly projector: IFunction;
  readonly projectionFailures: IConstruct;
}

export function acknowledgeNagFindings(subjects: NagSubjects): void {
  const { api, bucket, siteId } = subjects;
  const bucketArn = `<${Stack.of(bucket).getLogicalId(bucket.node.defaultChild as never)}.Arn>`;

  const noCallerAuth =
    'The N3.Health delivery module POSTs without credentials (the protocol has none). Callers are limited by the ' +
    'resource policy (sender CIDR allowlist), an optional secret path segment, stage throttling, and strict validation.';
  ack(api, 'AwsSolutions-APIG4', noCallerAuth);
  ack(api, 'AwsSolutions-COG4', `${noCallerAuth} There are no Cognito users on the sender side.`);
  ack(
    api,
    'AwsSolutions-APIG2',
    'Validation is done in the function on purpose: a gateway validator would answer without the protocol ack, without ' +
      'naming the field, and without keeping the rejected request under rejected/.',
  );
  ack(
    api,
    'AwsSolutions-APIG3',
    'The single known sender is allowlisted by CIDR in the resource policy and the stage is throttled; a WAF web ACL per site ' +
      'can be added where the regional platform cannot give fixed addresses.',
  );
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
  for (const fn of subjects.bucketWriters) {
    ack(fn.role!, `AwsSolutions-IAM5[Resource::${bucketArn}/${siteId}/*]`, objectPrefixes);
    ack(fn.role!, `AwsSolutions-IAM5[Resource::${bucketArn}/rejected/*]`, objectPrefixes);
  }
  ack(subjects.consumerPolicy, `AwsSolutions-IAM5[Resource::${bucketArn}/${siteId}/*]`, objectPrefixes);
  const apiId = `<${Stack.of(api).getLogicalId(api.node.defaultChild as never)}>`;
  for (const method of ['GET', 'PUT']) {
    ack(
      subjects.consumerPolicy,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${apiId}/n3/${method}/documents/*]`,
      'Document ids are path parameters (/documents/{documentId}…): the routes can only be granted by prefix, and only these methods of this stage.',
    );
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
