import { TextDecoder } from 'node:util';
import { InvalidBodyError, PayloadTooLargeError } from '../../contract/errors';

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

export function decodeBody(raw: RawBody, maxBytes: number): DecodedBody {
  const body = raw.body ?? '';
  // Reject before decoding: base64 is 4/3 of the bytes, so this bounds the work done on a huge body.
  const approxBytes = raw.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body, 'utf8');
  if (approxBytes > maxBytes + 2) throw new PayloadTooLargeError(approxBytes, maxBytes);

  const bytes = raw.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(bytes.length, maxBytes);

  const text = toText(bytes, raw.contentType);
  if (text.trim() === '') throw new InvalidBodyError('пустое тело запроса: ожидается JSON-объект');

  // Checked before parsing: a body of a million "[" is valid-looking JSON that would exhaust the stack later.
  if (nestingDepth(text) > MAX_NESTING) throw new InvalidBodyError(`вложенность JSON глубже ${MAX_NESTING} уровней`);
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

/** Deepest bracket nesting outside strings, stopping early once past the limit. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > MAX_NESTING) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
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
