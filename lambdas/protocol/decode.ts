import { TextDecoder } from 'node:util';
import { MAX_EXTRA_KEYS, MAX_JSON_TOKENS } from '../../contract/limits';
import { InvalidBodyError, ParseLimitError, PayloadTooLargeError } from '../../contract/errors';

/*
 * Turns the body as a gateway hands it over into a JSON object. The sender is a .NET
 * platform: expect `application/json; charset=utf-8`, a UTF-8 BOM, Cyrillic text, and
 * occasionally another content type. The gateway is set to treat every body as binary
 * (so bytes arrive untouched, whatever the charset): then the body is base64.
 */

export interface RawBody {
  readonly body: string | null | undefined;
  readonly isBase64Encoded: boolean;
  readonly contentType?: string | undefined;
}

export interface DecodedBody {
  readonly json: Record<string, unknown>;
  /** Size of the body in bytes as the sender sent it. */
  readonly bytes: number;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * What one body may hold (contract/limits.ts): checked by a linear scan of the text before it is parsed.
 * `knownKeys` are the top-level names that are not extra (the type's fields, in every spelling it takes).
 */
export interface ParseLimits {
  readonly knownKeys: ReadonlySet<string>;
  readonly maxExtraKeys: number;
  readonly maxTokens: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { knownKeys: new Set(), maxExtraKeys: MAX_EXTRA_KEYS, maxTokens: MAX_JSON_TOKENS };

export function decodeBody(raw: RawBody, maxBytes: number, limits: ParseLimits = DEFAULT_PARSE_LIMITS): DecodedBody {
  const body = raw.body ?? '';
  // Reject before decoding: base64 is 4/3 of the bytes, so this bounds the work done on a huge body.
  const approxBytes = raw.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body, 'utf8');
  if (approxBytes > maxBytes + 2) throw new PayloadTooLargeError(approxBytes, maxBytes);

  const bytes = raw.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(bytes.length, maxBytes);

  const text = toText(bytes, raw.contentType);
  if (text.trim() === '') throw new InvalidBodyError('пустое тело запроса: ожидается JSON-объект');

  // Checked before parsing: a body of a million "[" is valid-looking JSON that would exhaust the stack later,
  // and a million keys is valid JSON whose every later step (validation, canonical sort, hashing) costs seconds.
  checkShape(text, limits);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidBodyError('тело запроса не является корректным JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InvalidBodyError(`ожидается JSON-объект, получен ${Array.isArray(json) ? 'массив' : json === null ? 'null' : typeof json}`);
  }
  return { json: json as Record<string, unknown>, bytes: bytes.length };
}

/** The spec's messages are flat; extra fields get some room, hostile nesting none. */
export const MAX_NESTING = 32;

/*
 * One pass over the text, outside strings only (a string's brackets, commas, colons and escaped quotes are
 * text): the bracket depth (stops at once past MAX_NESTING), the tokens (each string, each scalar, each
 * object or array), and the members of each object that are not the type's own fields. Only a top-level key
 * is compared with the known names; a key with escapes is read as JSON reads it, so `"\u004Dessage"` is
 * `Message`. Linear: every character is looked at once, each top-level key sliced once. On text that is
 * not JSON the counts are of what it would be; JSON.parse then refuses it if no cap did first.
 */
function checkShape(text: string, limits: ParseLimits): void {
  const isObject: boolean[] = [false];
  const extras: number[] = [0];
  let depth = 0;
  let tokens = 0;
  let mostExtras = 0;
  let expectKey = false;
  let inScalar = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      tokens++;
      inScalar = false;
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) {
          escaped = true;
          i++; // backslash: skip the escaped character
        } else if (s === 0x22) break;
      }
      if (expectKey) {
        expectKey = false;
        if (depth !== 1 || !limits.knownKeys.has(keyText(text, start, i, escaped))) {
          const count = ++extras[depth]!;
          if (count > mostExtras) mostExtras = count;
        }
      }
      continue;
    }
    switch (c) {
      case 0x20:
      case 0x09:
      case 0x0a:
      case 0x0d:
        inScalar = false;
        break;
      case 0x7b: // {
      case 0x5b: // [
        tokens++;
        inScalar = false;
        if (++depth > MAX_NESTING) throw new InvalidBodyError(`вложенность JSON глубже ${MAX_NESTING} уровней`);
        isObject[depth] = c === 0x7b;
        extras[depth] = 0;
        expectKey = c === 0x7b;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        if (depth > 0) depth--;
        inScalar = false;
        expectKey = false;
        break;
      case 0x2c: // ,
        inScalar = false;
        expectKey = isObject[depth]!;
        break;
      case 0x3a: // :
        inScalar = false;
        expectKey = false;
        break;
      default:
        // A number or a literal (true, false, null): one token however many characters.
        if (!inScalar) tokens++;
        inScalar = true;
    }
  }
  if (mostExtras > limits.maxExtraKeys) throw new ParseLimitError('extraKeys', mostExtras, limits.maxExtraKeys);
  if (tokens > limits.maxTokens) throw new ParseLimitError('tokens', tokens, limits.maxTokens);
}

/** A key as JSON reads it: escapes decoded only where there are any (a malformed one never matches a name). */
function keyText(text: string, start: number, end: number, escaped: boolean): string {
  if (!escaped) return text.slice(start + 1, end);
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return '';
  }
}

function toText(bytes: Buffer, contentType: string | undefined): string {
  let encoding = 'utf-8';
  let start = 0;
  if (UTF8_BOM.every((b, i) => bytes[i] === b)) start = 3;
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) [encoding, start] = ['utf-16le', 2];
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [encoding, start] = ['utf-16be', 2];
  else encoding = charsetOf(contentType) ?? encoding;

  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
  } catch {
    throw new InvalidBodyError(`неподдерживаемая кодировка: ${encoding.slice(0, 40)}`);
  }
  try {
    return decoder.decode(bytes.subarray(start));
  } catch {
    throw new InvalidBodyError(`тело запроса не является корректным текстом в кодировке ${decoder.encoding.toUpperCase()}`);
  }
}

function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType && /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match ? match[1]!.toLowerCase() : undefined;
}

/**
 * Best effort: the MessageId of a body that may be neither valid JSON nor a valid message,
 * so that even a Failed ack echoes it and the sender can match it to what it sent.
 */
export function sniffMessageId(raw: RawBody): string {
  try {
    const head = raw.isBase64Encoded
      ? Buffer.from((raw.body ?? '').slice(0, 1 << 16), 'base64').toString('utf8')
      : (raw.body ?? '').slice(0, 1 << 16);
    const match = /"MessageId"\s*:\s*"([0-9A-Za-z-]{1,64})"/.exec(head);
    return match ? match[1]! : '';
  } catch {
    return '';
  }
}
