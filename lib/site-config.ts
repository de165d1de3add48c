import { z } from 'zod';
import { QUEUE } from '../lambdas/adapters/shapes';
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

/** Ids a site may not take: the shared stacks' names (`N3Callback-<id>`). */
const RESERVED_IDS: readonly string[] = ['fleet', 'account'];

/** The document routes' default steady rate: the MIS's reads, far below what the sender needs. */
export const DEFAULT_DOCUMENT_REQUESTS_PER_SECOND = 10;

export const siteFields = z.strictObject({
  /** Stack `N3Callback-<id>`, resource names, the envelope's `site`. */
  id: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'lower-case letters, digits and dashes, 1-32, e.g. "mo-123"')
    // N3Callback-fleet and N3Callback-account are the shared stacks: a site by that name would replace one.
    .refine(
      (id) => !RESERVED_IDS.includes(id),
      `"fleet" and "account" name the shared stacks (N3Callback-fleet, N3Callback-account): choose another id`,
    ),
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
  alarmEmails: z.array(z.email('an e-mail address')).default([]),
  /** How long records, payloads and rejected requests are kept. */
  retentionDays: z
    .number()
    .int()
    .min(
      MIN_RETENTION_DAYS,
      `at least ${MIN_RETENTION_DAYS}: a message can wait ${QUEUE_DAYS} days in the queue and ${QUEUE_DAYS} more in its dead-letter queue, and the payload it points to must outlive it`,
    )
    .max(3650)
    .default(90),
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
    alarmEmails: z.array(z.email('an e-mail address')).optional(),
  })
  .default({});

export type FleetConfig = z.output<typeof fleetSchema>;

/** Reads the `fleet` context; fails naming the field. */
export function parseFleet(context: unknown): FleetConfig {
  const result = fleetSchema.safeParse(context);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `fleet: ${issue.path.join('.') || '(fleet)'}: ${issue.message}`);
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
  return { problems: result.error.issues.map((issue) => `${issue.path.join('.') || '(site)'}: ${issue.message}`) };
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
