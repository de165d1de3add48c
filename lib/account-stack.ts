import { Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * What API Gateway needs once per account and region, not once per site: the role it writes
 * execution logs with. It is a single account-wide setting, so it lives in its own small stack,
 * deployed once (`npx cdk deploy N3Callback-account`) before any site that sets `executionLogs`.
 * Site stacks never touch it: one site's deploy or delete cannot break another's logging.
 */
export class AccountStack extends Stack {
  readonly role: Role;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'N3.Health callback endpoints: account-level API Gateway logging role (once per account and region)',
      ...props,
    });
    this.role = new Role(this, 'ApiGatewayCloudWatchRole', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    new CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: this.role.roleArn });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: "API Gateway's account-level logging role: AWS's own policy is the documented way to let the service write execution logs.",
    });
  }
}
