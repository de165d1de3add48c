import { z } from 'zod';
import { didYouMean } from '../contract/suggest';
import {
  ACCOUNT_STACK_NAME,
  DEFAULT_RETENTION_DAYS,
  MAX_RETENTION_DAYS,
  FLEET_STACK_NAME,
  BUCKET_PREFIX_SITE_IDS,
  RESERVED_SITE_IDS,
  SITE_ID_PATTERN,
  SITE_ID_RULE,
} from '../contract/names';
import { QUEUE } from '../contract/shapes';
import { MESSAGE_TYPES } from '../contract/catalog';
import { DOCUMENTATION_RANGES, isDocumentationRange, senderCidrProblem } from './cidr';

/*
 * One MIS-MO site = one stack, its own URL, table, queue, bucket and dashboard (the spec
 * requires a unique callback address per site). Sites live in cdk.json context `sites` and/or one file
 * per site, `sites/<id>.json` (read by site-files.ts; this module stays free of I/O).
 */

// Syntax, width, special ranges and host bits, entry by entry (lib/cidr.ts says why each); documentation ranges
// depend on the site's `example`, so the site-wide check below refuses those.
const cidr = z.string().superRefine((value, context) => {
  const problem = senderCidrProblem(value, { example: true });
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/**
 * The shortest retention that outlives every message pointing at a payload: a message waits up to 14 days in
 * the FIFO queue, and a FIFO dead-letter queue restarts its age on arrival (SQS developer guide, "Setting-up
 * dead-letter queue retention"), so up to 14 more there; one day more for a message sent after its payload
 * was stored (the reconciler's sends).
 */
const QUEUE_DAYS = Math.ceil(QUEUE.retentionSeconds / 86_400);
export const MIN_RETENTION_DAYS = 2 * QUEUE_DAYS + 1;

/** The document routes' default steady rate: the MIS's reads, far below what the sender needs. */
export const DEFAULT_DOCUMENT_REQUESTS_PER_SECOND = 10;

export const siteFields = z.strictObject({
  /** Stack `N3Callback-<id>`, resource names, the envelope's `site`. */
  id: z
    .string()
    .regex(SITE_ID_PATTERN, SITE_ID_RULE)
    // N3Callback-fleet and N3Callback-account are the shared stacks: a site by that name would replace one.
    .refine(
      (id) => !RESERVED_SITE_IDS.includes(id),
      `"fleet" and "account" name the shared stacks (${FLEET_STACK_NAME}, ${ACCOUNT_STACK_NAME}): choose another id`,
    )
    // Its payloads live under `<id>/` in its bucket, beside audit/ and rejected/: the prefixes must not meet.
    .refine((id) => !BUCKET_PREFIX_SITE_IDS.includes(id), {
      error: (issue) =>
        `"${String(issue.input)}" names a prefix of the site’s bucket (${BUCKET_PREFIX_SITE_IDS.map((p) => `${p}/`).join(', ')}), where its payloads’ prefix <id>/ would overlap it: choose another id`,
    }),
  displayName: z.string().min(1, 'required'),
  /**
   * Only these source addresses may call the callback routes: the regional N3 operator's egress, which only
   * that operator can give. Required unless `allowAnySender`.
   */
  senderCidrs: z.array(cidr).default([]),
  /**
   * The explicit opt-out of the address allowlist, where the operator cannot give fixed addresses: then a
   * `secretPathSegment` is required, and it is the only gate.
   * @default false
   */
  allowAnySender: z.boolean().default(false),
  /**
   * The site only illustrates (the README's, cdk.json's and the tests' sites): its `senderCidrs` are
   * documentation ranges (RFC 5737), which no sender has, so it accepts no callback from anywhere. Only such a
   * site may list them: a real site that kept an example's addresses would deploy and refuse every callback.
   * @default false
   */
  example: z.boolean().default(false),
  /** An unguessable first path segment: `https://…/n3/<secret>/CDAStatus`. */
  secretPathSegment: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,64}$/, '16-64 letters, digits, "-" or "_"')
    .optional(),
  alarmEmails: z.array(z.email('must be an e-mail address')).default([]),
  /** How long records, payloads and rejected requests are kept. */
  retentionDays: z
    .number()
    .int()
    .min(
      MIN_RETENTION_DAYS,
      `at least ${MIN_RETENTION_DAYS}: a message can wait ${QUEUE_DAYS} days in the queue and ${QUEUE_DAYS} more in its dead-letter queue, and the payload it points to must outlive it`,
    )
    .max(MAX_RETENTION_DAYS)
    .default(DEFAULT_RETENTION_DAYS),
  /** MO ids (`Lpu`) this site serves; others are rejected. Empty: any. */
  lpuAllowlist: z.array(z.string().min(1)).default([]),
  /**
   * API Gateway execution logs (errors only), kept `retentionDays`. Needs the account's API Gateway
   * CloudWatch role: deploy the `N3Callback-account` stack once per account and region first.
   */
  executionLogs: z.boolean().default(false),
  /** A WAF web ACL answering bodies over 4 MiB with a 413 ack (about 6 USD a month plus 0.60 per million requests). */
  oversizeGuard: z.boolean().default(true),
  /**
   * The stage's steady request rate (burst: twice it). A hospital needs far less; a regional hub or a
   * re-send storm more: the first limit a site meets (README, Capacity). API Gateway's account default is 10,000.
   */
  maxRequestsPerSecond: z.number().int().min(1).max(10_000).default(100),
  /**
   * The document routes' (`/documents…`, the MIS's reads) own steady rate (burst: twice it), at most
   * `maxRequestsPerSecond`. API Gateway limits each method on its own, but all of a region's APIs share the
   * account's request quota and all functions the account's Lambda concurrency: a busy MIS client must not
   * spend what the sender needs.
   * @default the smaller of 10 and maxRequestsPerSecond
   */
  documentRequestsPerSecond: z.number().int().min(1).max(10_000).optional(),
  /**
   * Reserved concurrency of each function the site's API invokes (the six receivers, Fallback, Documents): each
   * runs at most this many at once, so the site can never hold more than 8× it of the account's
   * concurrent executions, and those stay kept for it. Why a setting and not a default: a reservation fails the
   * deploy where it would leave the account under 100 unreserved (a new account's quota is 10), and it is taken
   * from the account whether used or not. README, Capacity: how to choose it.
   * @default the fleet's `reservedConcurrency`, else none: the site draws on the account's unreserved pool, uncapped
   */
  reservedConcurrency: z.number().int().min(1).max(10_000).optional(),
  /**
   * `kms`: one customer-managed KMS key of the site's own (rotated yearly) encrypts the tables, the queues
   * and the bucket, usable only through the site's functions and its consumer policy; every use is in
   * CloudTrail. `aws-managed`: each service's own encryption (DynamoDB's AWS-managed key, SSE-SQS, SSE-S3).
   *
   * `kms` is a one-way door, and `kms-retiring` the only way back through it: new data is encrypted as with
   * `aws-managed`, while the key stays, with decrypt-only grants, for what it still encrypts (queued messages up
   * to 28 days, payloads `retentionDays`, point-in-time backups 35 days). Going from `kms` straight to
   * `aws-managed` would drop those grants: the MIS consumer could no longer receive the queued messages or read
   * the payloads. Synth cannot see that a deployed site had a key, so it cannot refuse that switch: README,
   * Security, says how to leave `kms`.
   * @default 'aws-managed'
   */
  encryption: z.enum(['aws-managed', 'kms', 'kms-retiring']).default('aws-managed'),
  /**
   * A CloudWatch dashboard of the site's own ($3 a month beyond an account's first three). Every site is on
   * the fleet dashboard (its site selector) without one.
   * @default false
   */
  dashboard: z.boolean().default(false),
  /** Minutes silent documents may stay above zero before the alarm fires (swept every minute). */
  silentAlarmMinutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .default(60),
  /**
   * Keep version 1's `byDay` index for one deploy while the new `arrivals` index is added (DynamoDB adds
   * or removes one index per update): see README, Moving from version 1.
   */
  v1DayIndex: z.boolean().default(false),
});

export const siteSchema = siteFields
  .superRefine((site, context) => {
    const problem = (field: keyof typeof site, message: string) => context.addIssue({ code: 'custom', path: [field], message });
    // Secure by default: an unrestricted callback URL takes forged acks from anyone who finds it.
    if (site.senderCidrs.length === 0 && !site.allowAnySender) {
      problem(
        'senderCidrs',
        'required: list the egress addresses of the regional N3 operator (ask them), or set "allowAnySender": true with a secretPathSegment',
      );
    }
    if (site.allowAnySender && site.senderCidrs.length > 0) {
      problem('allowAnySender', 'contradicts senderCidrs: remove one (with senderCidrs, only those addresses may call)');
    }
    // Each entry's other problems were told by the field; here only the documentation ranges of a real site.
    site.senderCidrs.forEach((value, index) => {
      if (site.example || !isDocumentationRange(value) || senderCidrProblem(value, { example: true })) return;
      context.addIssue({ code: 'custom', path: ['senderCidrs', index], message: senderCidrProblem(value, { example: false })! });
    });
    // A valid public range (an invalid one was told above) or no allowlist at all: a real site's settings.
    const real = site.senderCidrs.some((value) => !isDocumentationRange(value) && !senderCidrProblem(value, { example: true }));
    if (site.example && (site.allowAnySender || real)) {
      problem(
        'example',
        `an example site lists only documentation ranges (${DOCUMENTATION_RANGES.join(', ')}), which no sender has: remove "example" from a real site`,
      );
    }
    if (site.allowAnySender && site.secretPathSegment === undefined) {
      problem('secretPathSegment', 'required with "allowAnySender": true, where it is the only gate: 16-64 letters, digits, "-" or "_"');
    }
    if (site.documentRequestsPerSecond !== undefined && site.documentRequestsPerSecond > site.maxRequestsPerSecond) {
      problem(
        'documentRequestsPerSecond',
        `at most maxRequestsPerSecond (${site.maxRequestsPerSecond}): the MIS's reads must not out-draw the sender`,
      );
    }
  })
  .transform((site) => ({
    ...site,
    documentRequestsPerSecond: site.documentRequestsPerSecond ?? Math.min(DEFAULT_DOCUMENT_REQUESTS_PER_SECOND, site.maxRequestsPerSecond),
  }));

export type SiteConfig = z.output<typeof siteSchema>;

/** cdk.json context `fleet`: what the fleet stack (lib/fleet-stack.ts) needs. Optional as a whole. */
export const fleetSchema = z
  .strictObject({
    /**
     * Who is told when the shared WAF guard refuses callbacks (sites' own alarms go to their `alarmEmails`).
     * @default every site's `alarmEmails`: a refusal by WAF is kept nowhere else, so someone must hear of it
     */
    alarmEmails: z.array(z.email('must be an e-mail address')).optional(),
    /**
     * Every site's `reservedConcurrency` where the site sets none (see there).
     * @default none: no site reserves concurrency (a new account's quota of 10 could not take any reservation)
     */
    reservedConcurrency: z.number().int().min(1).max(10_000).optional(),
    /**
     * The account's Lambda concurrent executions in this region (Service Quotas, AWS Lambda, "Concurrent
     * executions", L-B99A9384): synthesis refuses reservations that would leave under the 100 Lambda keeps
     * unreserved, rather than letting the deploy fail half-way through a fleet.
     * @default 1,000, AWS's default (a new account may be at 10: then reserve nothing)
     */
    accountConcurrency: z.number().int().min(10).max(1_000_000).default(1_000),
    /**
     * The WAF rate-based rule's limit: requests a second one source address may send to one site (its own host),
     * averaged over a minute; beyond it WAF answers 429 with an ack and the sender retries. Per address and site,
     * not per address: N3's sender is one egress range for every site of a region.
     * @default the largest `maxRequestsPerSecond` of the sites: no site's own throttle is cut
     */
    senderRequestsPerSecond: z.number().int().min(1).max(100_000).optional(),
  })
  .prefault({});

export type FleetConfig = z.output<typeof fleetSchema>;

/** The functions of a site that its API invokes and that `reservedConcurrency` caps: the receivers, Fallback, Documents. */
export const RESERVING_FUNCTIONS = MESSAGE_TYPES.length + 2;
/** Lambda refuses a reservation that leaves fewer unreserved concurrent executions in the account and region. */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/** A site with the fleet's defaults applied where it sets none. */
export function withFleetDefaults(site: SiteConfig, fleet: FleetConfig): SiteConfig {
  return { ...site, reservedConcurrency: site.reservedConcurrency ?? fleet.reservedConcurrency };
}

/** The concurrent executions a site (fleet defaults applied) takes out of the account's pool by reservation. */
export const siteReservation = (site: SiteConfig): number => RESERVING_FUNCTIONS * (site.reservedConcurrency ?? 0);

/**
 * Refuses, in one line, reservations the account cannot hold: Lambda keeps 100 unreserved, and a reservation beyond
 * that fails the stack that asks for it (after the sites before it deployed). Sites: fleet defaults applied.
 */
export function checkReservations(sites: readonly SiteConfig[], fleet: FleetConfig): void {
  const reserved = sites.reduce((sum, site) => sum + siteReservation(site), 0);
  const room = fleet.accountConcurrency - LAMBDA_UNRESERVED_MINIMUM;
  if (reserved <= room) return;
  const n = (x: number) => x.toLocaleString('en-US');
  const capped = sites.filter((site) => site.reservedConcurrency !== undefined).length;
  throw new SiteConfigError(
    `reservedConcurrency: ${capped} sites reserve ${n(reserved)} concurrent executions (${RESERVING_FUNCTIONS} functions each), over the ${n(room)} an account of ${n(fleet.accountConcurrency)} (fleet.accountConcurrency) can reserve while Lambda keeps ${LAMBDA_UNRESERVED_MINIMUM} unreserved: lower reservedConcurrency, or raise the quota (Service Quotas L-B99A9384) and set fleet.accountConcurrency to it`,
  );
}

/** The WAF rate rule's limit, requests a second per source address and site: the fleet's setting, else the sites' largest rate. */
export function senderRequestsPerSecond(sites: readonly SiteConfig[], fleet: FleetConfig): number {
  return fleet.senderRequestsPerSecond ?? Math.max(...sites.map((site) => site.maxRequestsPerSecond));
}

/** Reads the `fleet` context; fails naming the field. */
export function parseFleet(context: unknown): FleetConfig {
  const result = fleetSchema.safeParse(context);
  if (result.success) return result.data;
  // Said once: the line already names cdk.json's "fleet".
  const problems = result.error.issues.map((issue) => plainProblem(issue, 'fleet'));
  throw new SiteConfigError(`invalid cdk.json context "fleet": ${problems.join('; ')}`);
}

export class SiteConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteConfigError';
  }
}

/**
 * One site's definition checked: the site, or its problems as `field: message` (the field path, or
 * `(site)` for the whole definition). Pure: the site files (site-files.ts) and cdk.json share it.
 */
export function checkSite(raw: unknown): { site: SiteConfig; problems: [] } | { site?: undefined; problems: string[] } {
  const result = siteSchema.safeParse(raw);
  if (result.success) return { site: result.data, problems: [] };
  return { problems: result.error.issues.map((issue) => plainProblem(issue, 'site')) };
}

/** `senderCidrs[0]`, `alarmEmails[1]`: a field path as a person writes it. */
const fieldPath = (path: readonly PropertyKey[]) =>
  path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');

const KINDS: Record<string, string> = {
  string: 'text in quotes',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list, [ … ]',
  object: 'an object, { … }',
};

/**
 * One problem in plain words, `field: what is wrong and what to write`: our own messages as they are; zod's
 * generic ones ("Invalid input: expected string, received number", "Too small: …") said for a person editing
 * a JSON file; an unknown field named, with the field it most resembles.
 */
function plainProblem(issue: z.core.$ZodIssue, whole: 'site' | 'fleet'): string {
  const field = fieldPath(issue.path);
  const label = field || `(${whole})`;
  // Our schema's own messages (required, ranges with reasons, CIDR advice) already say what to do.
  if (!/^(Invalid|Too (small|big)|Unrecognized)/.test(issue.message)) return `${label}: ${issue.message}`;
  const received = /received (\w+)/.exec(issue.message)?.[1];
  // "a whole number (it is a number)" says nothing: only a different kind is worth naming.
  const got =
    received && !(received === 'number' && 'expected' in issue && issue.expected === 'int')
      ? ` (it is ${KINDS[received] ?? received})`
      : '';
  switch (issue.code) {
    case 'invalid_type':
      if (!field) return `(${whole}): must be ${KINDS.object}${got}`;
      return `${label}: must be ${KINDS[issue.expected] ?? issue.expected}${got}`;
    case 'too_small':
      if (issue.origin === 'string') return `${label}: must not be empty`;
      if (issue.origin === 'array') return `${label}: needs at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}`;
      return `${label}: must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `${label}: at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `${label}: at most ${issue.maximum} entries`;
      return `${label}: must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `${label}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys': {
      const known = Object.keys(whole === 'site' ? siteFields.shape : fleetSchema.unwrap().shape);
      return issue.keys.map((key) => `${field ? `${field}.` : ''}${key}: not a ${whole} field${didYouMean(key, known)}`).join('; ');
    }
    default:
      return `${label}: ${issue.message}`;
  }
}

/** Reads the `sites` context; fails naming the site and the field. */
export function parseSites(context: unknown): SiteConfig[] {
  const list = z.array(z.unknown()).min(1, 'at least one site').safeParse(context);
  if (!list.success) throw new SiteConfigError('cdk.json context "sites": expected a non-empty list of sites');
  const { sites, problems } = checkContextSites(list.data);
  // One problem, one line; several, one line each.
  if (problems.length === 1) throw new SiteConfigError(`invalid cdk.json context "sites": ${problems[0]}`);
  if (problems.length > 0) throw new SiteConfigError(`invalid cdk.json context "sites":\n  ${problems.join('\n  ')}`);
  return sites;
}

/** The `sites` context's entries checked: the valid sites, and one `site "<id>": field: message` line per problem. */
export function checkContextSites(list: readonly unknown[]): { sites: SiteConfig[]; problems: string[] } {
  const sites: SiteConfig[] = [];
  const problems: string[] = [];
  list.forEach((raw, index) => {
    const checked = checkSite(raw);
    const label = typeof (raw as { id?: unknown })?.id === 'string' ? `"${(raw as { id: string }).id}"` : `#${index}`;
    if (checked.site) sites.push(checked.site);
    else for (const problem of checked.problems) problems.push(`site ${label}: ${problem}`);
  });
  const seen = new Set<string>();
  for (const site of sites) {
    if (seen.has(site.id)) problems.push(`site "${site.id}": id: used by more than one site`);
    seen.add(site.id);
  }
  return { sites, problems };
}
