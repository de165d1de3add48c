import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_EXTRA_KEYS, MAX_JSON_TOKENS } from '../../contract/limits';
import { InvalidBodyError, ParseLimitError, PayloadTooLargeError } from '../../contract/errors';
import { ownNames } from '../../contract/catalog';
import { DEFAULT_PARSE_LIMITS, decodeBody, sniffMessageId, type ParseLimits } from '../../lambdas/protocol/decode';
import { EXAMPLES } from '../../testing/messages';

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

describe('decodeBody: parse cost bounded (issue 24, finding 3)', () => {
  const remd: ParseLimits = { ...DEFAULT_PARSE_LIMITS, knownKeys: ownNames('REMDStatus') };
  const decode = (body: string, limits = remd) => decodeBody({ body, isBase64Encoded: false }, 8 * MiB, limits);
  /** The error decodeBody throws, or a failure naming what it returned instead. */
  const refusal = (body: string, limits = remd) => {
    try {
      decode(body, limits);
    } catch (error) {
      return error;
    }
    throw new Error('expected a refusal');
  };
  const extras = (n: number, name = (i: number) => `x${i}`) => Array.from({ length: n }, (_, i) => `"${name(i)}":${i}`).join(',');
  const message = (more: string) => JSON.stringify(EXAMPLES.REMDStatus).replace(/}$/, `,${more}}`);

  it('caps at 200 extra keys per object and 20,000 tokens per body', () => {
    expect([MAX_EXTRA_KEYS, MAX_JSON_TOKENS]).toEqual([200, 20_000]);
  });

  it("takes a message with the cap's number of extra keys beside every field of its table", () => {
    expect(Object.keys(decode(message(extras(MAX_EXTRA_KEYS))).json)).toHaveLength(
      Object.keys(EXAMPLES.REMDStatus).length + MAX_EXTRA_KEYS,
    );
  });

  it('refuses one extra key more, saying which limit, the count and the cap', () => {
    const error = refusal(message(extras(MAX_EXTRA_KEYS + 1)));
    expect(error).toBeInstanceOf(ParseLimitError);
    expect(error).toMatchObject({ status: 413, code: 'too_complex', limit: 'extraKeys', count: MAX_EXTRA_KEYS + 1, cap: MAX_EXTRA_KEYS });
    expect((error as Error).message).toBe('201 extra keys in one object exceed 200');
  });

  it('refuses 300,000 extra keys (the 2.6 MB body that took 3 s of CPU) from the scan, reporting the whole count', () => {
    expect(refusal(message(extras(300_000, (i) => i.toString(36))))).toMatchObject({ limit: 'extraKeys', count: 300_000 });
  });

  it('counts every member of a nested object as extra, and each object on its own', () => {
    const nested = (n: number) => `{${extras(n)}}`;
    expect(() => decode(message(`"a":${nested(MAX_EXTRA_KEYS)},"b":[${nested(MAX_EXTRA_KEYS)}]`))).not.toThrow();
    expect(refusal(message(`"a":[1,{"b":${nested(MAX_EXTRA_KEYS + 1)}}]`))).toMatchObject({
      limit: 'extraKeys',
      count: MAX_EXTRA_KEYS + 1,
    });
  });

  it('counts a repeated key each time it is written (each is parsed), and reads an escaped key as JSON does', () => {
    const repeated = Array.from({ length: MAX_EXTRA_KEYS + 1 }, () => '"x":1').join(',');
    expect(refusal(message(repeated))).toMatchObject({ limit: 'extraKeys', count: MAX_EXTRA_KEYS + 1 });
    // `\u004Dessage` is `Message`, a field of the table: not extra.
    const escaped = JSON.stringify(EXAMPLES.REMDStatus).replace('"Message"', '"\\u004Dessage"');
    expect(() => decode(escaped.replace(/}$/, `,${extras(MAX_EXTRA_KEYS)}}`))).not.toThrow();
  });

  it('counts nothing inside strings: brackets, commas, colons, escaped quotes and key-like text are one token', () => {
    const tricky = `"s":"${'{\\"k\\":1,[\\\\],'.repeat(50_000)}"`;
    expect(String(decode(message(`${tricky},${extras(MAX_EXTRA_KEYS - 1)}`)).json.s).length).toBeGreaterThan(500_000);
  });

  it('takes a body of exactly the token cap and refuses one token more, before parsing', () => {
    // {"a":[…]} is 3 tokens besides the array's values: 1s, literals, a fraction and a string are one each.
    const values = (n: number) => ['true', 'null', '-1.5e3', '"t"', ...Array.from({ length: n - 4 }, () => '1')].join(',');
    expect(() => decode(`{"a":[${values(MAX_JSON_TOKENS - 3)}]}`)).not.toThrow();
    expect(refusal(`{"a":[${values(MAX_JSON_TOKENS - 2)}]}`)).toMatchObject({
      limit: 'tokens',
      count: MAX_JSON_TOKENS + 1,
      cap: MAX_JSON_TOKENS,
    });
    // Not JSON at all (the last bracket missing), yet refused for its size first: the scan runs before JSON.parse.
    expect(refusal(`{"a":[${values(MAX_JSON_TOKENS)}`)).toMatchObject({ limit: 'tokens' });
  });

  it('counts, for any JSON, the tokens and the largest object that the parsed value has (strings of any content, any whitespace)', () => {
    const tokensOf = (v: unknown): number =>
      1 +
      (Array.isArray(v)
        ? v.reduce((sum: number, item) => sum + tokensOf(item), 0)
        : v !== null && typeof v === 'object'
          ? Object.values(v).reduce((sum: number, item) => sum + 1 + tokensOf(item), 0)
          : 0);
    const widestOf = (v: unknown): number =>
      v === null || typeof v !== 'object' ? 0 : Math.max(Array.isArray(v) ? 0 : Object.keys(v).length, ...Object.values(v).map(widestOf));
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(undefined, 0, 1, '\t', ' \r\n'), (value, indent) => {
        const body = JSON.stringify({ v: value }, null, indent);
        const tokens = 2 + tokensOf(value);
        const widest = Math.max(1, widestOf(value));
        const exact = { knownKeys: new Set<string>(), maxExtraKeys: widest, maxTokens: tokens };
        expect(() => decode(body, exact)).not.toThrow();
        expect(refusal(body, { ...exact, maxTokens: tokens - 1 })).toMatchObject({ limit: 'tokens', count: tokens });
        expect(refusal(body, { ...exact, maxExtraKeys: widest - 1 })).toMatchObject({ limit: 'extraKeys', count: widest });
      }),
      { numRuns: 500 },
    );
  });

  it('takes the limits it is given (the benchmark lifts them to measure what they bound)', () => {
    const body = message(extras(MAX_EXTRA_KEYS + 1));
    expect(() => decode(body, { ...remd, maxExtraKeys: Number.POSITIVE_INFINITY })).not.toThrow();
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
