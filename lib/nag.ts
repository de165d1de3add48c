import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { CallbackStack } from './callback-stack';

/*
 * Every cdk-nag AwsSolutions finding this stack keeps, each with the reason it is right here.
 * Findings are acknowledged on the narrowest construct that has them.
 */

const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

export function acknowledgeNagFindings(stack: CallbackStack): void {
  const { api } = stack.callbackApi;
  const bucket = stack.storage.bucket;
  const bucketArn = `<${Stack.of(bucket).getLogicalId(bucket.node.defaultChild as never)}.Arn>`;
  const siteId = stack.siteId;

  const noCallerAuth =
    'The N3.Health delivery module POSTs without credentials (the protocol has none). Callers are limited by the ' +
    'resource policy (sender CIDR allowlist), an optional secret path segment, stage throttling, and strict validation.';
  ack(api, 'AwsSolutions-APIG4', noCallerAuth);
  ack(api, 'AwsSolutions-COG4', `${noCallerAuth} There are no Cognito users on the sender side.`);
  ack(
    api,
    'AwsSolutions-APIG2',
    'Validation is done in the function on purpose: a gateway validator would answer without the protocol ack, without ' +
      'naming the field, and without keeping the refused request in quarantine.',
  );
  ack(
    api,
    'AwsSolutions-APIG3',
    'The single known sender is allowlisted by CIDR in the resource policy and the stage is throttled; a WAF web ACL per site ' +
      'can be added where the regional platform cannot give fixed addresses.',
  );
  if (!stack.executionLogs) {
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
  for (const fn of [...Object.values(stack.functions.receivers), stack.functions.fallback]) {
    ack(fn.role!, `AwsSolutions-IAM5[Resource::${bucketArn}/${siteId}/*]`, objectPrefixes);
    ack(fn.role!, `AwsSolutions-IAM5[Resource::${bucketArn}/rejected/*]`, objectPrefixes);
  }
  ack(stack.consumerPolicy, `AwsSolutions-IAM5[Resource::${bucketArn}/${siteId}/*]`, objectPrefixes);
}
