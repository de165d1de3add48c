import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { TOOL_DEADLINE, toolClientSettings } from '../contract/deadlines';
import { printableJson } from '../contract/printable';
import { SITE_ID_PATTERN, SITE_ID_RULE, SITE_OUTPUTS, type SiteOutputKey, stackName } from '../contract/names';
import { UsageError } from './errors';

/*
 * `--site <id>`: a deployed site's stack outputs, read from CloudFormation with the operator's ordinary AWS
 * credentials and region (AWS_PROFILE, AWS_REGION, … as for the AWS CLI), so nobody copies queue URLs and table
 * names by hand for each of 500 sites. The stack name and the output keys have one home (contract/names.ts),
 * which the stack declares them by. AWS_ENDPOINT_URL_CLOUDFORMATION (the SDK's own variable) points it elsewhere:
 * the tests' fake of the CloudFormation API.
 */

export type SiteOutputs = Partial<Record<SiteOutputKey, string>>;

export interface ResolvedSite {
  readonly siteId: string;
  readonly stackName: string;
  readonly region: string;
  /** The AWS account the stack lives in (from its StackId ARN), shown by the console. */
  readonly account?: string;
  readonly outputs: SiteOutputs;
}

export async function resolveSite(siteId: string, client?: CloudFormationClient): Promise<ResolvedSite> {
  if (!SITE_ID_PATTERN.test(siteId)) throw new UsageError(`--site takes a site id (${SITE_ID_RULE}), got ${printableJson(siteId)}`);
  const cfn = client ?? new CloudFormationClient(toolClientSettings());
  const name = stackName(siteId);
  let region: string;
  try {
    region = await cfn.config.region();
  } catch {
    throw new UsageError(`--site needs an AWS region: set AWS_REGION (or AWS_PROFILE with a region) to where ${name} is deployed`);
  }
  try {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: name }), {
      // Retries included: a throttled DescribeStacks backs off, but the command still ends.
      abortSignal: AbortSignal.timeout(2 * TOOL_DEADLINE.attemptMs),
    });
    const stack = Stacks?.[0];
    if (!stack) throw notDeployed(name, region);
    const byKey = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    const outputs: SiteOutputs = {};
    for (const [field, key] of Object.entries(SITE_OUTPUTS) as [SiteOutputKey, string][]) {
      const value = byKey.get(key);
      if (value) outputs[field] = value;
    }
    const account = stack.StackId?.split(':')[4];
    return { siteId, stackName: name, region, ...(account ? { account } : {}), outputs };
  } catch (error) {
    // CloudFormation says "Stack with id … does not exist" as a ValidationError.
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) throw notDeployed(name, region);
    throw error;
  } finally {
    if (!client) cfn.destroy();
  }
}

/** The output a command needs, or one line naming the stack and the output that is missing. */
export function siteOutput(site: ResolvedSite, field: SiteOutputKey): string {
  const value = site.outputs[field];
  if (!value)
    throw new UsageError(
      `${site.stackName} (${site.region}) has no output ${SITE_OUTPUTS[field]}: redeploy it with this version (npm run cdk -- deploy ${site.stackName})`,
    );
  return value;
}

const notDeployed = (name: string, region: string) =>
  new UsageError(`no stack ${name} in ${region}: check the site id, AWS_REGION and AWS_PROFILE (npm run cdk -- deploy ${name} creates it)`);
