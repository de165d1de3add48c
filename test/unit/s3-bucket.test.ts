import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseRejectedKey, rejectedKey } from '../../lambdas/adapters/s3-bucket';
import { payloadKey } from '../../lambdas/ingest/envelope';
import type { RejectedRequest } from '../../lambdas/ingest/ports';

const rejected = (overrides: Partial<RejectedRequest> = {}): RejectedRequest => ({
  receivedAt: '2026-11-25T07:08:09.123Z',
  requestId: 'c0ffee00-1111-2222-3333-444455556666',
  httpStatus: 400,
  code: 'invalid_fields',
  reason: 'x',
  messageType: 'REMDStatus',
  messageId: '',
  method: 'POST',
  sourceIp: undefined,
  headers: {},
  bodyBytes: 0,
  bodyTruncated: false,
  bodyBase64: '',
  ...overrides,
});

describe('bucket keys', () => {
  it('names a rejected request by day, time, status, reason, type and request id', () => {
    expect(rejectedKey(rejected())).toBe(
      'rejected/2026/11/25/070809Z-400-invalid_fields-REMDStatus-c0ffee00-1111-2222-3333-444455556666.json',
    );
  });

  it('keeps a hostile path segment or missing request id from shaping the key', () => {
    const key = rejectedKey(rejected({ messageType: '../../etc/passwd', requestId: '' }));
    expect(key).toMatch(/^rejected\/2026\/11\/25\/070809Z-400-invalid_fields-______etc_passwd-[0-9a-f-]{36}\.json$/);
    expect(rejectedKey(rejected({ requestId: '' }))).not.toBe(rejectedKey(rejected({ requestId: '' })));
  });

  it('names a request with no type (GET /) "unknown", not an empty segment', () => {
    expect(parseRejectedKey(rejectedKey(rejected({ messageType: '' })))?.type).toBe('unknown');
  });

  it('reads back from a key exactly what the key was built from', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.uuid(), fc.constantFrom(400, 404, 405, 409, 413), (type, requestId, httpStatus) => {
        const key = rejectedKey(rejected({ messageType: type, requestId, httpStatus }));
        expect(parseRejectedKey(key)).toEqual({
          key,
          time: '2026-11-25T07:08:09Z',
          status: String(httpStatus),
          code: 'invalid_fields',
          type: (type || 'unknown').replace(/\W/g, '_').slice(0, 40),
          requestId,
        });
      }),
    );
    expect(parseRejectedKey('rejected/2026/11/25/notes.txt')).toBeUndefined();
  });

  it('names a large payload by site, type, day, MessageId and content hash', () => {
    expect(payloadKey('mo-1', 'CDAStatus', new Date('2026-01-02T23:59:59Z'), 'f46d3bba-d1af-4d4a-9e69-71952d5cefe7', 'ab12')).toBe(
      'mo-1/CDAStatus/2026/01/02/f46d3bba-d1af-4d4a-9e69-71952d5cefe7.ab12.json',
    );
  });
});
