import * as z from 'zod/mini';
import { MAX_BODY_BYTES, MAX_INLINE_PAYLOAD_BYTES } from './contract/limits';
import { ConfigError } from './errors';

/*
 * Read and checked once, at cold start: a function with a wrong environment fails its
 * init (visible as an error metric) instead of answering callbacks wrongly.
 */

const KiB = 1024;

/** A whole number from the environment, within bounds, with a default when unset. */
const integer = (min: number, max: number, fallback: number) =>
  z._default(
    z.coerce
      .number()
      .check(
        z.refine(Number.isInteger, { error: 'a whole number' }),
        z.gte(min, { error: `at least ${min}` }),
        z.lte(max, { error: `at most ${max}` }),
      ),
    fallback,
  );

const schema = z.object({
  SITE_ID: z.string({ error: 'required' }).check(z.regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'letters, digits and dashes, 1-64' })),
  TABLE_NAME: z.string({ error: 'required' }).check(z.minLength(1, { error: 'required' })),
  /** The document projection's table (the projector, the document API and the silence sweep use it). */
  DOCUMENTS_TABLE_NAME: z.optional(z.string().check(z.minLength(1, { error: 'a table name' }))),
  QUEUE_URL: z.url({ error: 'an SQS queue URL' }),
  /** Claim-check payloads and rejected requests. */
  BUCKET_NAME: z.string({ error: 'required' }).check(z.minLength(3, { error: 'a bucket name' })),
  /** Emulators serve buckets by path; AWS by host name. */
  S3_FORCE_PATH_STYLE: z._default(z.stringbool({ error: 'true or false' }), false),
  RETENTION_DAYS: integer(1, 3650, 30),
  /** Largest body accepted (see contract/limits.ts: why 4 MiB, and who else enforces it). */
  MAX_BODY_BYTES: integer(1, 6 * KiB * KiB, MAX_BODY_BYTES),
  /** Largest canonical payload stored inline (see contract/limits.ts: why 4 KiB); at most 240 KiB. */
  MAX_INLINE_PAYLOAD_BYTES: integer(1, 240 * KiB, MAX_INLINE_PAYLOAD_BYTES),
  /** Comma-separated `Lpu` ids this site serves (any letter case); empty: any. */
  LPU_ALLOWLIST: z.pipe(
    z._default(z.string(), ''),
    z.transform(
      (list) =>
        new Set(
          list
            .split(',')
            .map((id) => id.trim().toLowerCase())
            .filter(Boolean),
        ) as ReadonlySet<string>,
    ),
  ),
  /**
   * Whose deadlines the SDK clients keep (contract/deadlines.ts): AWS's, or the local emulators' (npm start sets
   * it: they answer in seconds under load what AWS answers in milliseconds).
   */
  SDK_DEADLINES: z._default(z.enum(['aws', 'emulators'], { error: 'aws or emulators' }), 'aws'),
  /** The reconciler leaves a pending message alone this long: its own delivery may still be running. */
  RECONCILE_GRACE_SECONDS: integer(0, 86_400, 60),
  /** Pending messages forwarded per reconciler run, at most. */
  RECONCILE_BATCH: integer(1, 100, 100),
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
