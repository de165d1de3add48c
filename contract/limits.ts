/*
 * Size limits that the stack, the functions and the local gateway must agree on, in one place.
 *
 * The chain a body crosses: API Gateway takes up to 10 MB; it hands the body to Lambda as base64
 * (every body is binary to it, so bytes arrive untouched whatever the charset), which grows it by
 * 4/3; Lambda refuses a synchronous event over 6 MB, and the gateway then answers with an error of its own
 * (a 5xx, by AWS's integration-failure rules; not verified on AWS here) — the sender would re-send a body that can never fit. So the function refuses anything above
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
 * The largest canonical payload kept inline in the record and the queue message; a larger one goes to
 * the bucket (claim check) and the record keeps a reference. Chosen by the cost model (`npm run bench`,
 * M7): DynamoDB bills every write — the first put and the update that marks a message forwarded — on the
 * whole item, so each inline KB costs 2 write units (about 1.25 USD per million at on-demand prices), while
 * the bucket costs one PUT and one consumer GET (5.40 USD per million) whatever the size. They cross near
 * 4 KiB; above it, a record stays under 1 KB and costs 1 unit per write. DynamoDB's 400 KB item and SQS's
 * 256 KiB message cap it at 240 KiB.
 */
export const MAX_INLINE_PAYLOAD_BYTES = 4 * 1024;

/*
 * The declared Content-Length, judged as the deployed WAF guard judges it (lib/api.ts) and as `npm start`
 * mirrors it (local/gateway.ts). A value is acceptable only as one canonical decimal (no sign, no leading
 * zero, no list) of at most the limit, with the optional spaces or tabs HTTP allows around a field value.
 * Anything else would let a body past the size rule that the gateway still reads by another reading of
 * the header (`04194305`, `4194305, 4194305`). WAF compares header values as text, hence patterns; they
 * use only what AWS WAF's regex engine takes (no groups: it refuses capturing subexpressions) and stay
 * far below its 512-character limit. A missing or empty header matches neither: a chunked body has none.
 */

/** Optional whitespace around a field value (RFC 9110 OWS). */
const OWS = '[ \\t]*';

/**
 * Matches a Content-Length that is not one canonical decimal: a character other than a digit or
 * whitespace (lists, signs, letters), whitespace between digits, or a leading zero.
 */
export const MALFORMED_LENGTH_PATTERN = `[^0-9 \\t]|[0-9][ \\t]+[0-9]|^${OWS}0[0-9]`;

/**
 * A regular expression (for AWS WAF) that matches exactly the canonical decimal numbers greater than
 * `limit` (no leading zeros), with optional whitespace around them. One anchored branch per case, no groups.
 */
export function greaterThanPattern(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number ≥ 0, got ${limit}`);
  const digits = String(limit);
  const branches = [`[1-9][0-9]{${digits.length},}`]; // more digits
  // Same length: equal up to position i, then a larger digit, then anything.
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    if (d === 9) continue;
    const low = i === 0 ? Math.max(d + 1, 1) : d + 1;
    const rest = digits.length - i - 1;
    branches.push(`${digits.slice(0, i)}[${low}-9]${rest > 0 ? `[0-9]{${rest}}` : ''}`);
  }
  return branches.map((branch) => `^${OWS}${branch}${OWS}$`).join('|');
}

/** What the guard answers to a declared Content-Length: 400 (malformed), 413 (too large), or nothing. */
export type ContentLengthVerdict = 'malformed' | 'too-large' | undefined;

const malformedLength = new RegExp(MALFORMED_LENGTH_PATTERN);
const tooLargeLength = new RegExp(greaterThanPattern(MAX_BODY_BYTES));

/** The guard's verdict on a Content-Length value, with the very patterns the deployed WAF rules use. */
export function contentLengthVerdict(value: string): ContentLengthVerdict {
  if (malformedLength.test(value)) return 'malformed';
  if (tooLargeLength.test(value)) return 'too-large';
  return undefined;
}

/*
 * Parse cost. A body under MAX_BODY_BYTES can still be slow to take in: every member of every object is
 * parsed, validated, sorted into the canonical form, hashed and written, and that work grows with the number
 * of keys and values, not with the bytes (a 2.6 MB REMDStatus with 300,000 extra keys took 3 s of CPU on a
 * full core before these caps, ~10 s at a 512 MB Lambda's share, against the function's 15 s timeout). Both
 * caps are counted by one linear pre-scan of the text before JSON.parse (protocol/decode.ts), so an
 * over-limit body costs a scan, never a parse. Real N3 messages have at most 12 fields (spec §5: VimisResult
 * with its two alternative spellings), flat, so about 25 tokens; both caps leave room for a sender's later
 * versions by two orders of magnitude. `npm run bench` (M10) measures the slowest valid body at the caps.
 */

/**
 * Members one JSON object may have beyond the fields its type's table names (in a nested object, every
 * member is beyond the table). Duplicated keys count each time they are written: each is parsed.
 */
export const MAX_EXTRA_KEYS = 200;

/**
 * JSON tokens one body may hold: every key and every value (a string, however long, is one; so is an object
 * or an array, besides what it holds). Bounds the work that grows per value (validation, canonical sort,
 * stringify) however the values are arranged.
 */
export const MAX_JSON_TOKENS = 20_000;
