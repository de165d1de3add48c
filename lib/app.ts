import { getHeapStatistics } from 'node:v8';
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ACCOUNT_STACK_NAME, FLEET_STACK_NAME, stackName } from '../contract/names';
import { AccountStack } from './account-stack';
import { CallbackStack } from './callback-stack';
import { useParallelCloudFormationValidation } from './cfn-validate-parallel';
import { FleetStack } from './fleet-stack';
import { checkReservations, parseFleet, senderRequestsPerSecond, SiteConfigError, withFleetDefaults } from './site-config';
import { loadSites } from './site-files';

/**
 * One stack per configured site (cdk.json context `sites`, `sites/<id>.json`); `-c site=<id>` narrows to one;
 * plus, with the whole app, the once-per-account stack and the fleet stack (what every site of the account
 * and region shares). Sites marked `"example": true` (cdk.json's two) are built only when asked for:
 * `-c examples=true`, or by name with `-c site=<id>`; a deploy of your own sites never carries them along.
 * cdk-nag's AwsSolutions pack checks every stack, and every finding must be fixed or acknowledged
 * with a reason.
 *
 * No `env`: the templates are environment-agnostic (`AWS::Region`, `AWS::AccountId`), so one
 * synthesised artifact deploys to any account and region. (The CDK CLI fills CDK_DEFAULT_REGION
 * with us-east-1 when nothing is configured; pinning it would bake that into every ARN.)
 */
export function defineApp(app: App): CallbackStack[] {
  // cdk.json context `sites` and the files in `sites/` (context `sitesDir`), all validated: that is cheap; only the
  // selected stacks are constructed, which is what costs (`-c site=<id>` builds one).
  const fleetConfig = parseFleet(app.node.tryGetContext('fleet'));
  const sites = loadSites({ context: app.node.tryGetContext('sites'), sitesDir: app.node.tryGetContext('sitesDir') }).map((site) =>
    withFleetDefaults(site, fleetConfig),
  );
  const only = app.node.tryGetContext('site') as string | undefined;
  // The sites a deploy of the whole app deploys: the examples only when asked for.
  const deployed = withExamples(app) ? sites : sites.filter((site) => !site.example || site.id === only);
  // Over every deployed site, whichever is selected: a reservation fails the deploy of whichever stack comes last.
  checkReservations(deployed, fleetConfig);
  const selected = only === undefined ? deployed : sites.filter((site) => site.id === only);
  if (selected.length === 0 && only !== undefined) {
    throw new SiteConfigError(`-c site=${only}: no such site; configured: ${sites.map((s) => s.id).join(', ')}`);
  }
  if (selected.length === 0) {
    throw new SiteConfigError(
      `no site to deploy: the configured sites are examples (${sites.map((s) => s.id).join(', ')}); add your own as sites/<id>.json (sites/README.md), or ask for the examples (cdk: -c examples=true; fleet plan: --examples)`,
    );
  }
  checkHeapLimit(selected.length);
  const stacks = selected.map((site) => new CallbackStack(app, stackName(site.id), { site }));
  if (only === undefined) {
    new AccountStack(app, ACCOUNT_STACK_NAME);
    const fleet = new FleetStack(app, FLEET_STACK_NAME, {
      alarmEmails: fleetConfig.alarmEmails ?? [...new Set(deployed.flatMap((site) => site.alarmEmails))],
      siteIds: deployed.map((site) => site.id),
      senderRequestsPerSecond: senderRequestsPerSecond(deployed, fleetConfig),
    });
    // Order only (no export): `cdk deploy --all --concurrency N` deploys the fleet before any site that reads it.
    for (const stack of stacks) stack.addStackDependency(fleet, 'reads the fleet web ACL and tick');
  }
  // Acknowledgements (with their reasons) are also written into the templates, for auditors.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  // CDK's built-in CloudFormation validation, on every template as before, on one thread unless context
  // `cfnValidationThreads` asks for more (lib/cfn-validate-parallel.ts). Why one: each thread runs its own validation
  // engine, ~350 MB that it does not give back (measured: one engine over 122 templates, RSS 42 → 395 MB); a second one
  // took a 500-site synth's process tree from 1.28 GB without validation to 1.83 GB with it, for ~30 s less on 2 cores.
  useParallelCloudFormationValidation(validationThreads(app.node.tryGetContext('cfnValidationThreads')));
  return stacks;
}

/** `-c examples=true` (a string from the command line, a boolean from a test's or cdk.json's context). */
function withExamples(app: App): boolean {
  const value: unknown = app.node.tryGetContext('examples');
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new SiteConfigError(`-c examples=${String(value)}: give true or false`);
}

/** `-c cfnValidationThreads=N`: threads validating templates (each an engine of ~350 MB it keeps); default one. */
function validationThreads(value: unknown): number {
  if (value === undefined) return 1;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1)
    throw new SiteConfigError(`-c cfnValidationThreads=${String(value)}: expected a whole number ≥ 1`);
  return threads;
}

/*
 * cdk.json runs the app with a heap limit (`--max-old-space-size=1024`). Why: without one V8 lets a 500-site synth grow
 * to ~2.6 GB of mostly garbage; its live heap peaks at ~0.7 GB (--trace-gc), and with the limit V8 collects sooner
 * (500 sites, dev/bench/synth-fleet.ts: 1,024 MB → 101 s, largest process 1.6 GB; 896 MB was slower, 120 s, for 0.08 GB
 * less). A fleet too big for the limit (over ~700 sites at 1,024 MB) fails here, at once and in one line, rather than
 * minutes later with V8's out-of-memory crash. The estimate is the measured one with a margin.
 */
const HEAP_MB_BASE = 200;
const HEAP_MB_PER_SITE = 1.2;

function checkHeapLimit(sites: number): void {
  const limitMb = Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);
  const needMb = Math.ceil(HEAP_MB_BASE + HEAP_MB_PER_SITE * sites);
  if (needMb > limitMb) {
    throw new SiteConfigError(
      `${sites} sites need about ${needMb} MB of heap, over this synth's ${limitMb} MB: raise --max-old-space-size in cdk.json's "app" (about ${HEAP_MB_PER_SITE} MB a site)`,
    );
  }
}
