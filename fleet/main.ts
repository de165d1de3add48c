import { didYouMean, flagsNamedIn } from '../contract/suggest';
import { SiteConfigError } from '../lib/site-config';
import { loadSites } from '../lib/site-files';
import { cdkContext } from './count';
import { DOCTOR_USAGE, doctorCommand } from './doctor';
import { type FleetPlan, FleetPlanError, planFleet } from './plan-fleet';
import type { ModelInputs } from './plan';
import { type CountKey, QUOTAS } from './quotas';

/*
 * `npm run fleet -- plan [--sites N] [--json] [--existing-roles N] [--existing <quota>=N]
 *   [--idle-custom-metrics N] [--callbacks N] [--log-bytes N] [--insights-views N] [--account-concurrency N]`: what a fleet of sites uses of the account's
 * quotas and concurrency and costs idle, from synthesised templates and the committed price table. Progress goes
 * to stderr, the plan to stdout.
 * `npm run fleet -- doctor …`: is every site's Sweep on the fleet's tick, and --repair what is not (fleet/doctor.ts).
 */

const USAGE =
  'usage: npm run fleet -- plan [--sites N] [--json] [--examples] [--existing-roles N] [--existing <quota>=N] [--idle-custom-metrics N] [--callbacks N] [--log-bytes N] [--insights-views N] [--account-concurrency N]';

export interface Args {
  readonly sites?: number;
  readonly json: boolean;
  readonly existing: Partial<Record<CountKey, number>>;
  readonly model: Partial<ModelInputs>;
  /** The account's Lambda concurrent executions; undefined: cdk.json `fleet.accountConcurrency`, else 1,000. */
  readonly accountConcurrency?: number;
  /** Plan cdk.json's example sites too, as `-c examples=true` builds them. */
  readonly examples?: boolean;
}

export function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'plan') {
    throw new FleetPlanError(
      command === undefined
        ? `${USAGE}; or ${DOCTOR_USAGE.slice(7)}`
        : `unknown command "${command}"${didYouMean(command, ['plan', 'doctor'])}; ${USAGE}; or ${DOCTOR_USAGE.slice(7)}`,
    );
  }
  let sites: number | undefined;
  let json = false;
  let examples = false;
  let accountConcurrency: number | undefined;
  const existing: Partial<Record<CountKey, number>> = {};
  const model: Partial<Record<keyof ModelInputs, number>> = {};
  const count = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < 0) throw new FleetPlanError(`${flag} needs a whole number, e.g. ${flag} 5`);
    return n;
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    if (flag === '--json') json = true;
    else if (flag === '--examples') examples = true;
    else if (flag === '--sites') sites = count(flag, rest[++i]);
    else if (flag === '--existing-roles') existing.iamRoles = count(flag, rest[++i]);
    else if (flag === '--idle-custom-metrics') model.idleCustomMetricsPerSite = count(flag, rest[++i]);
    else if (flag === '--callbacks') model.callbacksPerSiteMonth = count(flag, rest[++i]);
    else if (flag === '--log-bytes') model.logBytesPerCallback = count(flag, rest[++i]);
    else if (flag === '--insights-views') model.logsInsightsViewsPerDay = count(flag, rest[++i]);
    else if (flag === '--account-concurrency') accountConcurrency = count(flag, rest[++i]);
    else if (flag === '--existing') {
      const [key, value] = (rest[++i] ?? '').split('=');
      if (!QUOTAS.some((q) => q.key === key)) {
        throw new FleetPlanError(`--existing <quota>=N: quota is one of ${QUOTAS.map((q) => q.key).join(', ')}`);
      }
      existing[key as CountKey] = count(`--existing ${key}=`, value);
    } else throw new FleetPlanError(`unknown option "${flag}"${didYouMean(flag, flagsNamedIn(USAGE))}; ${USAGE}`);
  }
  if (sites === 0) throw new FleetPlanError('--sites needs at least 1 site');
  if (accountConcurrency === 0) throw new FleetPlanError('--account-concurrency needs the quota, at least 1 (AWS default 1000)');
  return {
    sites,
    json,
    existing,
    model,
    ...(accountConcurrency === undefined ? {} : { accountConcurrency }),
    ...(examples ? { examples } : {}),
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const usd = (n: number) => `$${n.toFixed(2)}`;
const amount = (n: number | null, unit?: 'bytes') =>
  n === null ? 'unknown' : unit === 'bytes' ? `${(n / 1024 ** 2).toLocaleString('en-US', { maximumFractionDigits: 1 })} MB` : int(n);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function render(p: FleetPlan): string {
  const lines: string[] = [];
  const sitesLabel =
    p.mode === 'generated'
      ? `${int(p.sites)} generated sites (copies of ${p.resources.perSite[0]!.siteId})`
      : `${p.sites} configured sites`;
  lines.push(`Fleet plan: ${sitesLabel}; shared: ${p.resources.shared.map((s) => s.stack).join(', ') || 'none'}`);
  const siteResources = [...new Set(p.resources.perSite.map((s) => s.resources))].join('/');
  lines.push(
    `Resources: ${siteResources} per site, ${p.resources.shared.map((s) => `${s.stack} ${s.resources}`).join(', ')}; ${int(p.resources.total)} in all`,
  );
  lines.push('');
  lines.push(
    table([
      ['quota', 'per site', 'shared', 'baseline', `at ${int(p.sites)}`, 'default', 'first site over', 'raise'],
      ...p.quotas.map((q) => [
        q.name,
        amount(q.perSite, q.unit),
        amount(q.shared, q.unit),
        amount(q.baseline, q.unit),
        amount(q.total, q.unit),
        q.limit === null ? 'none' : amount(q.limit, q.unit),
        q.firstSite === null
          ? q.limit === null
            ? '—'
            : q.total === null
              ? 'unknown'
              : 'never'
          : `#${int(q.firstSite)}${q.extrapolated ? '*' : ''}`,
        q.raisable ? (q.limit === null ? '' : `yes${q.code ? ` ${q.code}` : ''}`) : 'NO: more accounts or regions',
      ]),
    ]),
  );
  const first = p.firstDefaultQuotaSite;
  lines.push('');
  lines.push(
    first
      ? `First default quota met: ${first.quota} at site #${int(first.site)} (${first.raisable ? 'raisable' : 'not raisable'})`
      : 'First default quota met: none',
  );
  if (p.quotas.some((q) => q.extrapolated)) lines.push(`* beyond the ${int(p.sites)} planned sites: more sites like the last one`);
  const baselines = p.quotas.filter((q) => q.baseline > 0).map((q) => `${q.name} ${q.baseline} (${q.baselineNote})`);
  if (baselines.length > 0) lines.push(`Baselines: ${baselines.join('; ')}`);
  const api = p.rates.apiGateway;
  const lambda = p.rates.lambdaConcurrency;
  lines.push(
    `Rates (shared, oversubscribed not failed): API Gateway ${int(api.sumAtPlan)} req/s of stage throttles vs the account's ${int(api.limit)} (${api.oversubscription.toFixed(api.oversubscription < 1 ? 2 : 1)}×; over from site #${api.firstOversubscribedSite === null ? '—' : int(api.firstOversubscribedSite)}); mean load at ${int(p.cost.atVolume.callbacksPerSiteMonth)} callbacks/site/month: ${api.meanRequestsPerSecondAtVolume.toFixed(1)} req/s`,
  );
  lines.push(
    lambda.receiveMs === null
      ? `Lambda concurrency: ${int(lambda.limit)} shared; receive time unknown (no M7)`
      : `Lambda concurrency: ${int(lambda.limit)} shared; receiving at every stage's throttle needs ≈ ${int(lambda.atFullThrottle!)}, at the mean load ≈ ${lambda.atVolumeMean!.toFixed(1)} (receive ${lambda.receiveMs.toFixed(1)} ms, measured on emulators)`,
  );
  lines.push(
    `Tick burst: the fleet's one-minute tick starts ${int(lambda.tickBurst)} Sweep invocations at once (${((100 * lambda.tickBurst) / lambda.limit).toFixed(0)} % of ${int(lambda.limit)}), each for a moment, beside the receivers`,
  );
  lines.push(...renderConcurrency(p));
  lines.push('');
  const idle = p.cost.idleUsdPerSiteMonth;
  lines.push(
    `Idle USD per site per month: ${Object.entries(idle)
      .map(([n, v]) => `${usd(v)} at ${int(Number(n))}`)
      .join(', ')}`,
  );
  const own = p.cost.idleAtPlan.perSite;
  lines.push(
    `  per site at ${int(p.sites)}: WAF ${usd(own.waf)}, alarms ${usd(own.alarms)}, dashboards ${usd(own.dashboards)}, KMS ${usd(own.kms)}, scheduled runs ${usd(own.scheduled)}, custom metrics ${usd(own.customMetrics)}; shared ${usd(p.cost.idleAtPlan.sharedPerSite)}`,
  );
  if (p.mode === 'configured') lines.push(`  by site: ${p.cost.bySite.map((s) => `${s.siteId} ${usd(s.usd)}`).join(', ')}`);
  const v = p.cost.atVolume;
  lines.push(
    v.usdPerSiteMonth === null
      ? 'At volume: unknown (docs/benchmarks.json has no M7 cost)'
      : `At ${int(v.callbacksPerSiteMonth)} callbacks/site/month (a model): ${usd(v.usdPerSiteMonth)} per site = idle + traffic ${usd(v.traffic!)} + ${v.customMetrics.atMix} custom metrics ${usd(v.customMetrics.usd)} + logs ${usd(v.logs.ingestionUsd)} + Logs Insights ${usd(v.logs.insightsUsd)}${v.wafRequests ? ` + WAF requests ${usd(v.wafRequests)}` : ''}`,
  );
  if (v.source) lines.push(`  traffic: ${v.source}`);
  lines.push(`Code size: ${p.bundle.source}`);
  lines.push(`Inputs: ${p.cost.inputs.prices}`);
  for (const assumption of p.cost.inputs.assumptions) lines.push(`  - ${assumption}`);
  return lines.join('\n');
}

/** Each site's share of the account's concurrency, the sum, what is left for a burst, and one line per warning. */
export function renderConcurrency(p: FleetPlan): string[] {
  const c = p.rates.lambdaConcurrency;
  const lines = [`Concurrency shares (account: ${int(c.limit)} concurrent executions, ${c.limitSource}; --account-concurrency N):`];
  for (const s of c.perSite) {
    const what = s.capped
      ? `capped: ${s.apiFunctions} functions reserve ${int(s.reserved)}`
      : `uncapped: ${s.apiFunctions} functions behind ${s.apiMethods} throttled methods, each burst + rate × timeout`;
    lines.push(`  ${s.siteId}${s.copies > 1 ? ` × ${int(s.copies)}` : ''}: ${int(s.share)} (${what})`);
  }
  const left = c.left >= 0 ? `${int(c.left)} left for a burst` : `none left for a burst (${int(-c.left)} over)`;
  lines.push(`  sum ${int(c.sum)} of ${int(c.limit)}: ${left}`);
  if (c.overQuota) {
    lines.push(
      `WARNING: the sites' concurrency shares (${int(c.sum)}) exceed the account's ${int(c.limit)}: one site's callers can throttle every other site; set reservedConcurrency (README, Capacity) or raise the quota`,
    );
  }
  if (!c.reservationsFit) {
    lines.push(
      `WARNING: the sites reserve ${int(c.reserved)}, over the ${int(c.limit - 100)} an account of ${int(c.limit)} can reserve (Lambda keeps 100 unreserved): the deploy that crosses it fails`,
    );
  }
  return lines;
}

export function main(argv: readonly string[]): number {
  try {
    const args = parseArgs(argv);
    const result = planFleet({
      sites: args.sites,
      existing: args.existing,
      model: args.model,
      accountConcurrency: args.accountConcurrency,
      examples: args.examples,
      progress: (line) => console.error(line),
    });
    console.log(args.json ? JSON.stringify(result, null, 2) : render(result));
    return 0;
  } catch (error) {
    // The user's to fix: one line, what to do; anything else is a bug and keeps its stack.
    if (error instanceof FleetPlanError || error instanceof SiteConfigError) {
      console.error(`fleet: ${error.message.split('\n').join('; ')}`);
      return 1;
    }
    throw error;
  }
}

/** The configured sites' ids, read as `cdk` reads them (cdk.json context `sites`, then `sites/<id>.json`). */
function configuredSiteIds(): string[] {
  const context = cdkContext();
  // The deployed sites: an example is deployed only when asked for (lib/app.ts), so it has no Sweep to check.
  return loadSites({ context: context.sites, sitesDir: context.sitesDir as string | undefined })
    .filter((site) => !site.example)
    .map((site) => site.id);
}

function doctor(argv: readonly string[]): Promise<number> {
  return doctorCommand(
    argv,
    configuredSiteIds,
    // Loaded here, not at the top: `fleet plan` stays offline and never loads the SDK.
    async (args) => (await import('./doctor-aws')).awsDoctorPorts({ invocations: args.invocations }),
    {
      out: (text) => console.log(text),
      err: (text) => console.error(text),
      progress: process.stderr.isTTY ? (text) => process.stderr.write(text) : undefined,
    },
  );
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const argv = process.argv.slice(2);
  if (argv[0] === 'doctor') doctor(argv.slice(1)).then((code) => (process.exitCode = code));
  else process.exitCode = main(argv);
}
