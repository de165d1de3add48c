/*
 * The site's own KMS key (encryption: 'kms') cannot be used: disabled, pending deletion, deleted, or its grants
 * gone. Then every call to the tables, the queues and the bucket fails, every callback is answered 5xx, and the
 * services say why only in their error's code. No CloudTrail trail can be assumed, so the functions recognise
 * those codes themselves and count them (KeyUnusable: its alarm). Pure: names only, no SDK import, so the
 * handlers and their tests read it too.
 *
 * How each service words it (SDK v3's `name`, or `Code` in the query-compatible form):
 * - SQS, JSON protocol: KmsDisabled, KmsInvalidState, KmsNotFound, KmsAccessDenied, KmsInvalidKeyUsage
 *   (@aws-sdk/client-sqs models); its query-compatible codes: KMS.DisabledException, KMS.InvalidStateException…
 * - S3: KMS.DisabledException, KMS.KMSInvalidStateException, KMS.NotFoundException (no modelled class: the
 *   code becomes the error's name);
 * - DynamoDB: AccessDeniedException (also ValidationException) whose message is "KMS key access denied error: …"
 *   with KMS's own exception inside (no modelled class either);
 * - Lambda-style names (KMSDisabledException, KMSInvalidStateException, KMSNotFoundException,
 *   KMSAccessDeniedException), which other callers and emulators use.
 * A KMS throttle or opt-in error is no key state: not counted.
 */

const STATES = ['Disabled', 'InvalidState', 'KMSInvalidState', 'NotFound', 'AccessDenied', 'InvalidKeyUsage', 'KMSInvalidKeyUsage'];
/** Every spelling above, as a set: a lookup, not a pattern built at run time. */
const KEY_STATE_CODES: ReadonlySet<string> = new Set(
  STATES.flatMap((state) => [`Kms${state}`, `KMS${state}Exception`, `KMS.${state}`, `KMS.${state}Exception`]),
);
/** Access denied by IAM or a key policy on the key, as DynamoDB and S3 word it (never a plain IAM denial of the call). */
const KMS_DENIAL = /^(?:AccessDenied|AccessDeniedException|ValidationException)$/;
const NAMES_KMS = /\bKMS key\b|\bkms:|\bAWSKMS\b|KMS\.[A-Za-z]+Exception/;

/** The error's code as the service named it, when the site's KMS key could not be used; undefined otherwise. Follows `cause`. */
export function keyStateError(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const meta = current as Error & { Code?: string };
    for (const code of [meta.name, meta.Code]) {
      const bare = code?.replace(/^AWS\.SimpleQueueService\./, '');
      if (bare && KEY_STATE_CODES.has(bare)) return bare;
      if (bare && KMS_DENIAL.test(bare) && NAMES_KMS.test(current.message)) return `${bare} (KMS)`;
    }
    current = current.cause;
  }
  return undefined;
}
