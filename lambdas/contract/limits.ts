/*
 * Size limits that the stack, the functions and the local gateway must agree on, in one place.
 *
 * The chain a body crosses: API Gateway takes up to 10 MB; it hands the body to Lambda as base64
 * (every body is binary to it, so bytes arrive untouched whatever the charset), which grows it by
 * 4/3; Lambda refuses a synchronous event over 6 MB, and the gateway then answers with its own
 * 5xx — the sender would re-send a body that can never fit. So the function refuses anything above
 * MAX_BODY_BYTES with a proper 413 ack, and (deployed) a WAF rule refuses a declared
 * Content-Length above it before Lambda is ever asked; `npm start` does the same.
 */

const MiB = 1024 * 1024;

/** API Gateway REST API's request payload quota. */
export const GATEWAY_MAX_BODY_BYTES = 10 * MiB;

/** Lambda's synchronous invocation payload limit (the whole proxy event, JSON). */
export const LAMBDA_MAX_EVENT_BYTES = 6 * MiB;

/** The largest body the functions accept: its base64 event, headers included, surely fits in 6 MB. */
export const MAX_BODY_BYTES = 4 * MiB;

/**
 * A regular expression (for AWS WAF, which compares header values as text) that matches exactly
 * the decimal numbers greater than `limit` written without leading zeros.
 */
export function greaterThanPattern(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number ≥ 0, got ${limit}`);
  const digits = String(limit);
  const alternatives = [`[1-9][0-9]{${digits.length},}`]; // more digits
  // Same length: equal up to position i, then a larger digit, then anything.
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    if (d === 9) continue;
    const low = i === 0 ? Math.max(d + 1, 1) : d + 1;
    const rest = digits.length - i - 1;
    alternatives.push(`${digits.slice(0, i)}[${low}-9]${rest > 0 ? `[0-9]{${rest}}` : ''}`);
  }
  return `^(${alternatives.join('|')})$`;
}
