import { didYouMean, flagsNamedIn } from '../contract/suggest';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { FLEET_STACK_NAME, stackName, TICK_TOPIC_NAME } from '../contract/names';

/*
 * `npm run fleet -- doctor [--repair] [--site <id>]... [--json] [--no-invocations]`: is every configured site's
 * Sweep still on the fleet's tick? A site subscribes to the tick topic by a built ARN (lib/callback-stack.ts): if
 * the topic is deleted (by hand, or the fleet stack replaced) every subscription goes with it, and redeploying
 * reports "no changes" because no template changed. The doctor finds those sites, says so in one line each and,
 * with --repair, subscribes each Sweep again.
 *
 * Re-subscribing is the whole repair: the Sweep's Lambda permission for sns.amazonaws.com (in the site stack) names
 * the topic by that same built ARN, not by a reference to the topic, so it outlives the topic and allows the new
 * subscription (test/infra/fleet-doctor.test.ts reads it from the template).
 *
 * Every AWS read and the one write sit behind the ports below (fleet/doctor-aws.ts implements them with the SDK),
 * so that the logic here is tested against the emulated SNS API and templates, never against AWS.
 */

/** The logical id CDK gives the resource at `path` (construct ids under the stack): a function of the path only. */
function logicalIdAt(...path: string[]): string {
  const stack = new Stack(new App(), 'LogicalIds');
  let scope: Construct = stack;
  for (const id of path.slice(0, -1)) scope = new Construct(scope, id);
  return stack.getLogicalId(new CfnResource(scope, path.at(-1)!, { type: 'N3::Doctor::Probe' }));
}

/** The Sweep in every site stack: CallbackStack → `Functions` → `Sweep` (lib/callback-stack.ts, lib/functions.ts). */
export const SWEEP_LOGICAL_ID = logicalIdAt('Functions', 'Sweep', 'Resource');
/** The tick topic in the fleet stack: FleetStack → `Tick` (lib/fleet-stack.ts). */
export const TICK_LOGICAL_ID = logicalIdAt('Tick', 'Resource');

/** How far back "has it run" looks: the SweepNotRunning alarm's 15 minutes (lib/site-alarms.ts). */
export const RUN_WINDOW_MINUTES = 15;

/** CloudFormation calls at once: DescribeStackResource is throttled per account, and the SDK retries what is. */
export const DEFAULT_PARALLEL = 8;

// --- Ports -------------------------------------------------------------------------------------------------------

export interface StackResource {
  /** The stack's ARN: its partition, region and account are the function's. */
  readonly stackId: string;
  readonly type: string;
  /** A function's name; a topic's ARN. */
  readonly physicalId: string;
}

/** CloudFormation, read only. */
export interface StackResources {
  /** A resource of a deployed stack by logical id; null when the stack, or that resource in it, does not exist. */
  describe(stack: string, logicalId: string): Promise<StackResource | null>;
}

export interface Subscription {
  readonly subscriptionArn: string;
  readonly protocol: string;
  readonly endpoint: string;
}

/** SNS: the tick topic. */
export interface TickTopic {
  exists(topicArn: string): Promise<boolean>;
  /** Every subscription of the topic (all pages). */
  subscriptions(topicArn: string): Promise<Subscription[]>;
  /** The only write the doctor makes: idempotent (the same topic, protocol and endpoint give the same subscription). */
  subscribeLambda(topicArn: string, functionArn: string): Promise<string>;
}

/** CloudWatch: AWS/Lambda Invocations summed over the last `minutes`, per function name (absent: none). */
export interface Invocations {
  count(functionNames: readonly string[], minutes: number): Promise<Map<string, number>>;
}

export interface DoctorPorts {
  readonly stacks: StackResources;
  readonly topic: TickTopic;
  /** Omitted: whether each Sweep ran is not checked (--no-invocations). */
  readonly invocations?: Invocations;
}

// --- The check ---------------------------------------------------------------------------------------------------

export type SiteState =
  /** Subscribed, and ran in the window (or not asked). */
  | 'healthy'
  /** Was not subscribed; subscribed now. */
  | 'resubscribed'
  /** Not subscribed, left so (check only, or the subscribe failed). */
  | 'unsubscribed'
  /** Subscribed, but no invocation in the window. */
  | 'not-running'
  /** No stack, or no Sweep in it. */
  | 'not-deployed'
  /** An AWS call failed: the site's state is unknown. */
  | 'error';

export interface SiteReport {
  readonly siteId: string;
  readonly stack: string;
  readonly state: SiteState;
  readonly sweepArn?: string;
  readonly subscriptionArn?: string;
  /** Sweep invocations in the window; absent when not checked. */
  readonly invocations?: number;
  /** One line: what is wrong, what the doctor did, what to do. Absent when healthy. */
  readonly message?: string;
}

export interface DoctorReport {
  readonly repair: boolean;
  readonly fleetStack: string;
  readonly topicArn: string | null;
  /** A fleet-wide problem that stops the per-site checks: no fleet stack, no topic. */
  readonly fleetProblem: string | null;
  readonly sites: readonly SiteReport[];
  /** Lambda subscriptions of the tick that name no checked site's Sweep (left alone: another fleet's, or a deleted site's). */
  readonly strays: readonly Subscription[];
  readonly summary: Readonly<Record<SiteState, number>>;
  /** Anything unhealthy and not repaired: the command's exit code is 1. */
  readonly unhealthy: boolean;
}

export interface DoctorOptions {
  /** Configured site ids to check. */
  readonly siteIds: readonly string[];
  readonly repair: boolean;
  /** Whether every configured site is checked (strays are only strays then). */
  readonly wholeFleet?: boolean;
  readonly parallel?: number;
  /** Called after each site's stack is read: (done, total). */
  readonly progress?: (done: number, total: number) => void;
}

const HEALTHY_STATES: ReadonlySet<SiteState> = new Set(['healthy', 'resubscribed']);
const REPAIR = 'npm run fleet -- doctor --repair';
const FLEET_FIRST = `redeploy ${FLEET_STACK_NAME} first (npm run cdk -- deploy ${FLEET_STACK_NAME}), then ${REPAIR}`;

/** `arn:aws:lambda:eu-central-1:123456789012:function:<name>` from a stack's ARN and the function's name. */
export function functionArn(stackId: string, functionName: string): string {
  const [arn, partition, , region, account] = stackId.split(':');
  if (arn !== 'arn' || !partition || !region || !account) throw new Error(`not a stack ARN: ${stackId}`);
  return `arn:${partition}:lambda:${region}:${account}:function:${functionName}`;
}

/** The first line of an error, for a one-line report (never a payload: these are AWS API errors). */
const oneLine = (error: unknown) => {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${String(e.message ?? error).split('\n')[0]}`;
};

/** Runs `work` over `items`, at most `limit` at once, in order of the items in the result. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>, done?: (n: number) => void) {
  const results = new Array<R>(items.length);
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
      done?.(++finished);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

function summarise(
  options: DoctorOptions,
  topicArn: string | null,
  fleetProblem: string | null,
  sites: SiteReport[],
  strays: Subscription[],
): DoctorReport {
  const summary: Record<SiteState, number> = {
    healthy: 0,
    resubscribed: 0,
    unsubscribed: 0,
    'not-running': 0,
    'not-deployed': 0,
    error: 0,
  };
  for (const site of sites) summary[site.state]++;
  return {
    repair: options.repair,
    fleetStack: FLEET_STACK_NAME,
    topicArn,
    fleetProblem,
    sites,
    strays,
    summary,
    unhealthy: fleetProblem !== null || sites.some((s) => !HEALTHY_STATES.has(s.state)),
  };
}

export async function runDoctor(ports: DoctorPorts, options: DoctorOptions): Promise<DoctorReport> {
  const tick = await ports.stacks.describe(FLEET_STACK_NAME, TICK_LOGICAL_ID);
  if (tick === null) {
    return summarise(
      options,
      null,
      `${FLEET_STACK_NAME} is not deployed (no tick topic in it): every Sweep is stopped; ${FLEET_FIRST}`,
      [],
      [],
    );
  }
  const topicArn = tick.physicalId;
  if (!(await ports.topic.exists(topicArn))) {
    // The stack still lists it, so it was deleted by hand: CloudFormation does not recreate what it believes exists.
    return summarise(
      options,
      topicArn,
      `the tick topic ${TICK_TOPIC_NAME} does not exist though ${FLEET_STACK_NAME} lists it (deleted outside CloudFormation): every Sweep is stopped; redeploy ${FLEET_STACK_NAME} first, with --revert-drift since a plain deploy changes nothing (npm run cdk -- deploy ${FLEET_STACK_NAME} --revert-drift; README, "The tick stopped"), then ${REPAIR}`,
      [],
      [],
    );
  }
  const subscriptions = (await ports.topic.subscriptions(topicArn)).filter((s) => s.protocol === 'lambda');
  // A subscription still being created or deleted has no ARN yet ("PendingConfirmation"): it delivers nothing.
  const byEndpoint = new Map(subscriptions.filter((s) => s.subscriptionArn.startsWith('arn:')).map((s) => [s.endpoint, s]));

  const total = options.siteIds.length;
  const checked = await mapBounded(
    options.siteIds,
    options.parallel ?? DEFAULT_PARALLEL,
    async (siteId): Promise<SiteReport & { wasSubscribed?: boolean; functionName?: string }> => {
      const stack = stackName(siteId);
      let sweep: StackResource | null;
      try {
        sweep = await ports.stacks.describe(stack, SWEEP_LOGICAL_ID);
      } catch (error) {
        return { siteId, stack, state: 'error', message: `${siteId}: reading ${stack} failed (${oneLine(error)}): run the doctor again` };
      }
      if (sweep === null || sweep.type !== 'AWS::Lambda::Function' || sweep.physicalId === '') {
        return {
          siteId,
          stack,
          state: 'not-deployed',
          message: `${siteId}: ${stack} is not deployed (no Sweep in it): nothing to subscribe; deploy it (npm run cdk -- deploy -c site=${siteId})`,
        };
      }
      const sweepArn = functionArn(sweep.stackId, sweep.physicalId);
      const existing = byEndpoint.get(sweepArn);
      if (existing)
        return {
          siteId,
          stack,
          state: 'healthy',
          sweepArn,
          subscriptionArn: existing.subscriptionArn,
          wasSubscribed: true,
          functionName: sweep.physicalId,
        };
      if (!options.repair) {
        return {
          siteId,
          stack,
          state: 'unsubscribed',
          sweepArn,
          message: `${siteId}: its Sweep is not subscribed to the tick, so it never runs: left as is (check only); ${REPAIR}`,
        };
      }
      try {
        const subscriptionArn = await ports.topic.subscribeLambda(topicArn, sweepArn);
        return {
          siteId,
          stack,
          state: 'resubscribed',
          sweepArn,
          subscriptionArn,
          message: `${siteId}: its Sweep was not subscribed to the tick: subscribed it again; it runs at the next minute`,
        };
      } catch (error) {
        return {
          siteId,
          stack,
          state: 'unsubscribed',
          sweepArn,
          message: `${siteId}: its Sweep is not subscribed to the tick, and subscribing failed (${oneLine(error)}): give the doctor sns:Subscribe on ${TICK_TOPIC_NAME} and run it again`,
        };
      }
    },
    (done) => options.progress?.(done, total),
  );

  // Ran recently? Only for the sites that were subscribed before this run: one subscribed a moment ago has not yet.
  const subscribedBefore = checked.filter((s) => s.wasSubscribed);
  let counts: Map<string, number> | undefined;
  let countsError: string | undefined;
  if (ports.invocations && subscribedBefore.length > 0) {
    try {
      counts = await ports.invocations.count(
        subscribedBefore.map((s) => s.functionName!),
        RUN_WINDOW_MINUTES,
      );
    } catch (error) {
      countsError = oneLine(error);
    }
  }
  const sites: SiteReport[] = checked.map(({ wasSubscribed, functionName, ...site }) => {
    if (!wasSubscribed) return site;
    if (countsError !== undefined) {
      return {
        ...site,
        state: 'error',
        message: `${site.siteId}: subscribed; whether its Sweep ran is unknown (CloudWatch: ${countsError}): give the doctor cloudwatch:GetMetricData, or run it with --no-invocations`,
      };
    }
    if (!counts) return site;
    const invocations = counts.get(functionName!) ?? 0;
    if (invocations > 0) return { ...site, invocations };
    return {
      ...site,
      state: 'not-running',
      invocations,
      message: `${site.siteId}: subscribed, but its Sweep has not run for ${RUN_WINDOW_MINUTES} minutes: nothing the doctor can change; check that ${FLEET_STACK_NAME}'s tick rule is enabled, and the Sweep's errors, throttles and its permission for sns.amazonaws.com (drift of ${site.stack})`,
    };
  });

  const ours = new Set(sites.map((s) => s.sweepArn).filter((arn) => arn !== undefined));
  const strays = options.wholeFleet ? subscriptions.filter((s) => !ours.has(s.endpoint)) : [];
  return summarise(options, topicArn, null, sites, strays);
}

// --- Command line ------------------------------------------------------------------------------------------------

export const DOCTOR_USAGE = 'usage: npm run fleet -- doctor [--repair] [--site <id>]... [--json] [--no-invocations] [--parallel N]';

export class DoctorUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DoctorUsageError';
  }
}

export interface DoctorArgs {
  readonly repair: boolean;
  readonly json: boolean;
  readonly sites: readonly string[];
  readonly invocations: boolean;
  readonly parallel: number;
}

export function parseDoctorArgs(argv: readonly string[]): DoctorArgs {
  let repair = false;
  let json = false;
  let invocations = true;
  let parallel = DEFAULT_PARALLEL;
  const sites: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--repair') repair = true;
    else if (flag === '--json') json = true;
    else if (flag === '--no-invocations') invocations = false;
    else if (flag === '--site') {
      const id = argv[++i];
      if (id === undefined || id.startsWith('--')) throw new DoctorUsageError('--site needs a site id, e.g. --site mo-city-hospital-1');
      sites.push(id);
    } else if (flag === '--parallel') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 64)
        throw new DoctorUsageError('--parallel needs a whole number from 1 to 64, e.g. --parallel 8');
      parallel = n;
    } else throw new DoctorUsageError(`unknown option "${flag}"${didYouMean(flag, flagsNamedIn(DOCTOR_USAGE))}; ${DOCTOR_USAGE}`);
  }
  return { repair, json, sites, invocations, parallel };
}

/** The configured ids to check: all, or those named by --site (each must be configured). */
export function selectSites(configured: readonly string[], named: readonly string[]): string[] {
  if (named.length === 0) return [...configured];
  const unknown = named.filter((id) => !configured.includes(id));
  if (unknown.length > 0) throw new DoctorUsageError(`--site ${unknown.join(', ')}: no such site; configured: ${configured.join(', ')}`);
  return [...new Set(named)];
}

/** One line per site that is not healthy (and per repair), then one line of totals. Healthy sites are only counted. */
export function renderDoctor(report: DoctorReport): string {
  if (report.fleetProblem !== null) return `doctor: ${report.fleetProblem}`;
  const lines = report.sites.filter((s) => s.message !== undefined).map((s) => s.message!);
  if (report.strays.length > 0) {
    const shown = report.strays.slice(0, 3).map((s) => s.endpoint);
    lines.push(
      `${report.strays.length} tick subscription(s) name no configured site's Sweep (${shown.join(', ')}${report.strays.length > 3 ? ', …' : ''}): left alone; a deleted site's may be removed with aws sns unsubscribe`,
    );
  }
  const s = report.summary;
  const counts = [
    `${s.healthy} healthy`,
    s.resubscribed && `${s.resubscribed} subscribed again`,
    s.unsubscribed && `${s.unsubscribed} not subscribed`,
    s['not-running'] && `${s['not-running']} not running`,
    s['not-deployed'] && `${s['not-deployed']} not deployed`,
    s.error && `${s.error} unknown (errors)`,
  ].filter(Boolean);
  lines.push(
    `doctor: ${report.sites.length} site(s) on ${TICK_TOPIC_NAME}: ${counts.join(', ')}${report.unhealthy ? '' : '; nothing left to do'}${report.repair ? '' : ' (check only)'}`,
  );
  return lines.join('\n');
}

export interface DoctorIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Progress on a terminal only: `\r`-overwritten counts would be noise in a log or a pipe. */
  readonly progress?: (text: string) => void;
}

/**
 * The command: the configured sites (cdk.json context `sites` and `sites/<id>.json`, as `cdk` and `fleet plan`
 * read them), the ports, the report. Exit code 0: every checked site healthy or repaired; 1: something is not
 * healthy and was not repaired; 2: the doctor could not check (usage, configuration, AWS setup).
 */
export async function doctorCommand(
  argv: readonly string[],
  configuredSites: () => readonly string[],
  ports: (args: DoctorArgs) => Promise<DoctorPorts>,
  io: DoctorIo,
): Promise<number> {
  let args: DoctorArgs;
  let siteIds: string[];
  let configured: readonly string[];
  try {
    args = parseDoctorArgs(argv);
    configured = configuredSites();
    siteIds = selectSites(configured, args.sites);
  } catch (error) {
    io.err(`fleet doctor: ${(error as Error).message.split('\n').join('; ')}`);
    return 2;
  }
  let resolved: DoctorPorts;
  try {
    resolved = await ports(args);
  } catch (error) {
    io.err(`fleet doctor: ${(error as Error).message.split('\n')[0]}`);
    return 2;
  }
  let report: DoctorReport;
  let progressed = false;
  try {
    report = await runDoctor(resolved, {
      siteIds,
      repair: args.repair,
      wholeFleet: siteIds.length === configured.length,
      parallel: args.parallel,
      progress:
        io.progress &&
        ((done, total) => {
          progressed = true;
          io.progress!(`\rfleet doctor: ${done}/${total} sites read`);
        }),
    });
  } catch (error) {
    if (progressed) io.progress!('\n');
    io.err(
      `fleet doctor: could not check (${oneLine(error)}): check AWS_PROFILE / AWS_REGION and the doctor's permissions, then run it again`,
    );
    return 2;
  }
  if (progressed) io.progress!('\n');
  io.out(args.json ? JSON.stringify(report, null, 2) : renderDoctor(report));
  return report.unhealthy ? 1 : 0;
}
