import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CallbackStack } from './callback-stack';
import { parseSites, SiteConfigError } from './site-config';

export const stackName = (siteId: string) => `N3Callback-${siteId}`;

/**
 * One stack per configured site; `-c site=<id>` narrows to one. cdk-nag's AwsSolutions pack
 * checks every stack, and every finding must be fixed or acknowledged with a reason.
 */
export function defineApp(app: App): CallbackStack[] {
  const sites = parseSites(app.node.tryGetContext('sites'));
  const only = app.node.tryGetContext('site') as string | undefined;
  const selected = only === undefined ? sites : sites.filter((site) => site.id === only);
  if (selected.length === 0) {
    throw new SiteConfigError(`-c site=${only}: no such site; configured: ${sites.map((s) => s.id).join(', ')}`);
  }
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stacks = selected.map((site) => new CallbackStack(app, stackName(site.id), { site, env }));
  // Acknowledgements (with their reasons) are also written into the templates, for auditors.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  return stacks;
}
