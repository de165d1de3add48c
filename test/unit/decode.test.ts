import { describe, expect, it } from 'vitest';
import { InvalidBodyError, PayloadTooLargeError } from '../../contract/errors';
import { decodeBody, sniffMessageId } from '../../lambdas/protocol/decode';

const json = '{"MessageId":"b097fea5-e6f6-4417-9829-53ab6a562719","Message":"СЭМД успешно загружен"}';
const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');
const MiB = 1024 * 1024;

describe('decodeBody', () => {
  it('reads a plain UTF-8 body', () => {
    const decoded = decodeBody({ body: json, isBase64Encoded: false }, MiB);
    expect(decoded.json.Message).toBe('СЭМД успешно загружен');
    expect(decoded.bytes).toBe(Buffer.byteLength(json));
  });

  it('reads a base64 body as the gateway hands binary bodies over', () => {
    expect(decodeBody({ body: b64(json), isBase64Encoded: true }, MiB).json.Message).toBe('СЭМД успешно загружен');
  });

  it('skips a UTF-8 byte order mark, as .NET writes one', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);
    expect(decodeBody({ body: b64(withBom), isBase64Encoded: true }, MiB).json.Message).toBe('СЭМД успешно загружен');
    expect(decodeBody({ body: `\uFEFF${json}`, isBase64Encoded: false }, MiB).json.Message).toBe('СЭМД успешно загружен');
  });

  it('reads UTF-16 with its byte order mark', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]);
    expect(decodeBody({ body: b64(le), isBase64Encoded: true }, MiB).json.Message).toBe('СЭМД успешно загружен');
  });

  it('honours a declared charset such as windows-1251', () => {
    const cp1251 = Buffer.from([0x7b, 0x22, 0x4d, 0x22, 0x3a, 0x22, 0xd1, 0xdd, 0xcc, 0xc4, 0x22, 0x7d]); // {"M":"СЭМД"}
    const decoded = decodeBody({ body: b64(cp1251), isBase64Encoded: true, contentType: 'application/json; charset=windows-1251' }, MiB);
    expect(decoded.json.M).toBe('СЭМД');
  });

  it('ignores the content type itself: text/plain with JSON inside is still JSON', () => {
    expect(decodeBody({ body: json, isBase64Encoded: false, contentType: 'text/plain' }, MiB).json.MessageId).toBeDefined();
  });

  it.each([
    ['an absent body', null, 'пустое тело'],
    ['an empty body', '', 'пустое тело'],
    ['whitespace only', '  \r\n', 'пустое тело'],
    ['non-JSON', 'MessageId=1', 'не является корректным JSON'],
    ['truncated JSON', json.slice(0, 30), 'не является корректным JSON'],
    ['a JSON array', '[1,2]', 'получен массив'],
    ['a JSON string', '"x"', 'получен string'],
    ['JSON null', 'null', 'получен null'],
  ])('rejects %s with a reason', (_name, body, reason) => {
    expect(() => decodeBody({ body, isBase64Encoded: false }, MiB)).toThrow(InvalidBodyError);
    expect(() => decodeBody({ body, isBase64Encoded: false }, MiB)).toThrow(reason);
  });

  it('rejects nesting deeper than the limit before parsing, and counts only outside strings', () => {
    const deep = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(() => decodeBody({ body: deep, isBase64Encoded: false }, 10 * MiB)).toThrow('вложенность JSON глубже 32');
    // An escaped quote inside a string must not end it: the brackets after it are still text.
    const fine = `{"a":${'['.repeat(31)}${']'.repeat(31)},"s":"${'['.repeat(100)}\\"["}`;
    expect(decodeBody({ body: fine, isBase64Encoded: false }, MiB).json.s).toBe(`${'['.repeat(100)}"[`);
  });

  it('rejects bytes that are not valid UTF-8', () => {
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xfd, 0x22, 0x7d]);
    expect(() => decodeBody({ body: b64(bad), isBase64Encoded: true }, MiB)).toThrow('UTF-8');
  });

  it('rejects an unknown charset by name', () => {
    expect(() => decodeBody({ body: json, isBase64Encoded: false, contentType: 'application/json; charset=klingon' }, MiB)).toThrow(
      'klingon',
    );
  });

  it('rejects a body over the limit as too large, before decoding it', () => {
    const big = `{"Data":"${'A'.repeat(2000)}"}`;
    expect(() => decodeBody({ body: b64(big), isBase64Encoded: true }, 1000)).toThrow(PayloadTooLargeError);
    expect(() => decodeBody({ body: big, isBase64Encoded: false }, 1000)).toThrow(PayloadTooLargeError);
  });

  it('accepts a body of exactly the limit', () => {
    const body = `{"a":"${'x'.repeat(100)}"}`;
    expect(decodeBody({ body: b64(body), isBase64Encoded: true }, Buffer.byteLength(body)).bytes).toBe(Buffer.byteLength(body));
  });
});

describe('sniffMessageId', () => {
  it('finds the MessageId in a body that is not valid JSON', () => {
    expect(sniffMessageId({ body: '{"MessageId": "B097FEA5-e6f6-4417-9829-53ab6a562719", "Status":', isBase64Encoded: false })).toBe(
      'B097FEA5-e6f6-4417-9829-53ab6a562719',
    );
    expect(sniffMessageId({ body: b64('{"MessageId":"abc-1",'), isBase64Encoded: true })).toBe('abc-1');
  });

  it('returns an empty string when there is none', () => {
    expect(sniffMessageId({ body: 'garbage', isBase64Encoded: false })).toBe('');
    expect(sniffMessageId({ body: null, isBase64Encoded: false })).toBe('');
  });
});
