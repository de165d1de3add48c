// zod/mini: the same validation, tree-shakeable, so each Lambda bundle carries only what it uses.
import * as z from 'zod/mini';

/*
 * Field kinds of the N3 callback tables (spec §5). Every kind carries its own
 * error texts so that a Failed ack can say, per field, exactly what is wrong.
 * Texts are Russian because the people reading acks (the regional platform's
 * operators) read the sender's own Russian messages all day.
 */

/** The longest id that travels as a queue message attribute (see `attributeId`). */
export const MAX_ATTRIBUTE_CHARS = 256;

export const REASONS = {
  missing: 'обязательное поле отсутствует',
  isNull: 'обязательное поле равно null',
  string: 'ожидается строка',
  empty: 'не может быть пустой строкой',
  attributeChars: 'содержит управляющие или недопустимые символы (U+FFFE, U+FFFF, непарные суррогаты)',
  attributeLength: `длиннее ${MAX_ATTRIBUTE_CHARS} символов`,
  int: 'ожидается целое число',
  intRange: 'целое число вне допустимого диапазона',
  uuid: 'ожидается UUID (8-4-4-4-12 шестнадцатеричных цифр)',
  status: 'ожидается "Success" или "Failed"',
  base64: 'ожидается строка base64',
  aliasClash: 'передано вместе с другим написанием того же поля с иным значением',
  loneSurrogate: 'содержит непарный суррогат UTF-16 (\\uD800-\\uDFFF): это не текст Unicode',
  loneSurrogateName: 'имя поля содержит непарный суррогат UTF-16 (\\uD800-\\uDFFF): это не текст Unicode',
  lpuNotServed: 'МО с таким идентификатором не обслуживается этой площадкой',
  simulationRunId: 'ожидается идентификатор прогона симулятора: 1-64 символа из A-Z, a-z, 0-9 и ._:-',
} as const;

type Reason = (typeof REASONS)[keyof typeof REASONS];

/** Picks the "absent" reasons first: for a required field, undefined and null deserve their own words. */
const required =
  (otherwise: Reason) =>
  (issue: { input?: unknown }): Reason =>
    issue.input === undefined ? REASONS.missing : issue.input === null ? REASONS.isNull : otherwise;

// The sender is .NET: Guid serialises as 8-4-4-4-12 hex, upper or lower case, with any version nibble.
export const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/*
 * Base64 as .NET emits it: padded to a multiple of 4, optionally wrapped in 76-character lines with CRLF
 * (Convert.ToBase64String with InsertLineBreaks). Checked in linear time, because a CDA is megabytes of
 * request data: line breaks are dropped first, then one class with at most two trailing `=` and a length
 * check. (A single pattern with a line-break class on both sides of the padding backtracks quadratically:
 * 150,000 line breaks and one `!` held a function for half a minute.)
 */
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (value: string): boolean => {
  const unwrapped = value.replace(/[\r\n]+/g, '');
  return unwrapped.length % 4 === 0 && BASE64_CHARS.test(unwrapped);
};

/** Free text (`Message`): required, may be empty: the sender decides what it says. */
export const text = () => z.string({ error: required(REASONS.string) });

/*
 * An id is stored as a DynamoDB key or attribute (the document's key, the record's `documentKey`) and so must
 * be Unicode text: a lone surrogate is valid JSON (`"\udc00"`) but not text, and a store that refuses it would
 * answer 503 to every re-send. One character class under the `u` flag (a pair is one code point): linear.
 */
const LONE_SURROGATE = /\p{Cs}/u;
/** Well-formed UTF-16, as String.prototype.isWellFormed (ES2024) tells it: no surrogate outside a pair. */
export const isUnicodeText = (value: string): boolean => !LONE_SURROGATE.test(value);
const wellFormed = () => z.refine<string>(isUnicodeText, { error: REASONS.loneSurrogate });

/** Identifier string (`Lpu`, `IdMedDocumentMis`, …): required, never empty, Unicode text. */
export const id = () => z.string({ error: required(REASONS.string) }).check(z.minLength(1, { error: REASONS.empty }), wellFormed());

/** JSON integer within the range JSON numbers carry exactly. */
export const int = () =>
  z
    .number({ error: required(REASONS.int) })
    // Two checks, two reasons: a bare integer check would call 2^53 + 2 merely "not an integer".
    .check(z.refine(Number.isInteger, { error: REASONS.int, abort: true }), z.refine(Number.isSafeInteger, { error: REASONS.intRange }))
    .register(z.globalRegistry, { 'x-kind': 'integer' });

/** UUID in any letter case, normalised to lower case so that the same id always means the same record. */
export const uuid = () =>
  z
    .string({ error: required(REASONS.uuid) })
    .check(z.regex(UUID, { error: REASONS.uuid }), z.toLowerCase())
    .register(z.globalRegistry, { format: 'uuid' });

export const STATUSES = ['Success', 'Failed'] as const;
export type Status = (typeof STATUSES)[number];
export const status = () => z.enum(STATUSES, { error: required(REASONS.status) });

/*
 * Optional fields (0..1): .NET serialisers commonly write `null` for an absent value,
 * so null means absent and is dropped from the normalised payload.
 */
const absentAsUndefined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

export const optionalId = () =>
  z.pipe(
    z.nullish(z.string({ error: REASONS.string }).check(z.minLength(1, { error: REASONS.empty }), wellFormed())),
    z.transform(absentAsUndefined<string>),
  );

export const optionalBase64 = () =>
  z.pipe(
    z.nullish(
      z
        .string({ error: REASONS.base64 })
        .check(z.refine(isBase64, { error: REASONS.base64 }))
        .register(z.globalRegistry, { contentEncoding: 'base64' }),
    ),
    z.transform(absentAsUndefined<string>),
  );

/*
 * An id that also travels as an SQS message attribute (`Lpu`): SQS refuses the same characters there
 * as in a body (anything outside #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF), and an
 * attribute cannot be escaped the way JSON is. An id has no business holding control characters either,
 * so all of them (Cc) are refused, with the noncharacters U+FFFE/U+FFFF and lone surrogates (Cs: a
 * well-formed pair is one astral code point under the `u` flag). The length bound keeps the attribute
 * far below the queue's message size; real values are UUIDs or OIDs. One character class: linear.
 */
const ATTRIBUTE_UNSAFE = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/u;

/** Identifier string sent on as a queue message attribute: as `id()`, and safe for SQS. */
export const attributeId = () =>
  id().check(
    z.refine((value: string) => !ATTRIBUTE_UNSAFE.test(value), { error: REASONS.attributeChars, abort: true }),
    z.maxLength(MAX_ATTRIBUTE_CHARS, { error: REASONS.attributeLength }),
  );
