import * as z from 'zod/mini';
import { MAX_BODY_BYTES, MAX_INLINE_PAYLOAD_BYTES } from '../contract/limits';
import { ConfigError } from '../contract/errors';
import { DEFAULT_RETENTION_DAYS, FUNCTION_ENV as ENV, type FunctionEnvName, SITE_ID_PATTERN, SITE_ID_RULE } from '../contract/names';

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
  [ENV.siteId]: z.string({ error: 'required' }).check(z.regex(SITE_ID_PATTERN, { error: SITE_ID_RULE })),
  [ENV.tableName]: z.string({ error: 'required' }).check(z.minLength(1, { error: 'required' })),
  /** The document projection's table (the projector, the document API and the silence sweep use it). */
  [ENV.documentsTableName]: z.optional(z.string().check(z.minLength(1, { error: 'a table name' }))),
  [ENV.queueUrl]: z.url({ error: 'an SQS queue URL' }),
  /** Claim-check payloads and rejected requests. */
  [ENV.bucketName]: z.string({ error: 'required' }).check(z.minLength(3, { error: 'a bucket name' })),
  /** Emulators serve buckets by path; AWS by host name. */
  [ENV.s3ForcePathStyle]: z._default(z.stringbool({ error: 'true or false' }), false),
  [ENV.retentionDays]: integer(1, 3650, DEFAULT_RETENTION_DAYS),
  /** Largest body accepted (see contract/limits.ts: why 4 MiB, and who else enforces it). */
  [ENV.maxBodyBytes]: integer(1, 6 * KiB * KiB, MAX_BODY_BYTES),
  /** Largest canonical payload stored inline (see contract/limits.ts: why 4 KiB); at most 240 KiB. */
  [ENV.maxInlinePayloadBytes]: integer(1, 240 * KiB, MAX_INLINE_PAYLOAD_BYTES),
  /** Comma-separated `Lpu` ids this site serves (any letter case); empty: any. */
  [ENV.lpuAllowlist]: z.pipe(
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
  [ENV.sdkDeadlines]: z._default(z.enum(['aws', 'emulators'], { error: 'aws or emulators' }), 'aws'),
  /** The reconciler leaves a pending message alone this long: its own delivery may still be running. */
  [ENV.reconcileGraceSeconds]: integer(0, 86_400, 60),
  /** Pending messages forwarded per reconciler run, at most. */
  [ENV.reconcileBatch]: integer(1, 100, 100),
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

// Every name the schema reads is one of the contract's, and every contract name is read: a compile-time check.
type Missing = Exclude<FunctionEnvName, keyof Config>;
const allNamesRead: [Missing] extends [never] ? true : Missing = true;
void allNamesRead;
