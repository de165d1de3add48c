import { z } from 'zod';
import { ConfigError } from './errors';

/*
 * Read and checked once, at cold start: a function with a wrong environment fails its
 * init (visible as an error metric) instead of answering callbacks wrongly.
 */

const KiB = 1024;

const schema = z.object({
  SITE_ID: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'letters, digits and dashes, 1-64'),
  TABLE_NAME: z.string().min(1),
  QUEUE_URL: z.url(),
  /** Claim-check payloads and quarantined requests. */
  BUCKET_NAME: z.string().min(3),
  /** Emulators serve buckets by path; AWS by host name. */
  S3_FORCE_PATH_STYLE: z.stringbool().default(false),
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /**
   * Largest body accepted. Lambda's synchronous invoke carries 6 MB of event, and the gateway
   * hands bodies over as base64 (4/3 larger): 4 MiB of body is what surely fits.
   */
  MAX_BODY_BYTES: z.coerce.number().int().min(1).default(4 * KiB * KiB),
  /** Largest canonical payload stored inline: DynamoDB items stop at 400 KB, SQS messages at 256 KiB. */
  MAX_INLINE_PAYLOAD_BYTES: z.coerce.number().int().min(1).max(240 * KiB).default(200 * KiB),
  /** Comma-separated `Lpu` ids this site serves (any letter case); empty: any. */
  LPU_ALLOWLIST: z
    .string()
    .default('')
    .transform((list) => new Set(list.split(',').map((id) => id.trim().toLowerCase()).filter(Boolean)) as ReadonlySet<string>),
  /** The reconciler leaves a pending message alone this long: its own delivery may still be running. */
  RECONCILE_GRACE_SECONDS: z.coerce.number().int().min(0).default(60),
  /** Pending messages forwarded per reconciler run, at most. */
  RECONCILE_BATCH: z.coerce.number().int().min(1).max(100).default(100),
});

export type Config = z.output<typeof schema>;

export function loadConfig(env: Record<string, string | undefined>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${problems}`);
  }
  return result.data;
}
