import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { checkSync } from 'recheck';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../contract/limits';
import { createReceiveHandler } from '../../lambdas/handlers/receive-handler';
import type { Ack } from '../../contract/ack';
import { parseMessage } from '../../contract/catalog';
import { REASONS } from '../../contract/fields';
import { proxyEvent } from '../../testing/events';
import { InMemoryPayloads, InMemoryQueue, InMemoryRejectedStore, InMemoryStore, fixedClock } from '../../testing/fakes';
import { freshMessage } from '../../testing/messages';

/*
 * Issue 17, finding "one body stalls a function": the CDA/Data check was one pattern with a line-break
 * class on both sides of the padding, /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/, which backtracks
 * quadratically. A CDA of 150,000 line breaks and one `!` held a function for 26–37 s. That the
 * replacement is linear is proven structurally by test/hostile/regex-safety.test.ts (every pattern
 * in lambdas/ passes a ReDoS checker); here: the attack is refused as bad input, and what .NET emits
 * still passes.
 */

const OLD_PATTERN = String.raw`^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$`;
const attack = `${'\n'.repeat(150_000)}!`;

function receive(type: 'CDAStatus' | 'MseResultData', body: Record<string, unknown>) {
  const rejected = new InMemoryRejectedStore();
  const queue = new InMemoryQueue();
  const handler = createReceiveHandler(type, {
    ports: { store: new InMemoryStore(), queue, payloads: new InMemoryPayloads(), clock: fixedClock() },
    rejectedStore: rejected,
    settings: { site: 'mo-1', retentionDays: 30, maxInlinePayloadBytes: 200 * 1024 },
    maxBodyBytes: MAX_BODY_BYTES,
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test' }),
  });
  return handler(proxyEvent({ path: `/${type}`, body: JSON.stringify(body) })).then((result) => ({
    status: result.statusCode,
    ack: JSON.parse(result.body) as Ack,
    rejected,
    queue,
  }));
}

/** Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks): 76-character lines joined by CRLF. */
const dotNetBase64 = (bytes: Uint8Array) =>
  (
    Buffer.from(bytes)
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');

const accepts = (cda: string) => parseMessage('CDAStatus', freshMessage('CDAStatus', { CDA: cda })).ok;

describe('the base64 check on CDA and Data', () => {
  it('is the input the old pattern choked on: a ReDoS checker finds it quadratic on line breaks', () => {
    const verdict = checkSync(OLD_PATTERN, '');
    expect(verdict.status).toBe('vulnerable');
    expect(verdict.status === 'vulnerable' && verdict.complexity).toMatchObject({ type: 'polynomial', degree: 2 });
    expect(verdict.status === 'vulnerable' && verdict.attack.pattern).toMatch(/^'\\n'\.repeat\(\d+\)/);
  });

  // The timeout is a backstop, not the proof (the old pattern took 26–37 s on this body; the proof of
  // linearity is the ReDoS checker's verdict on every pattern, in regex-safety.test.ts).
  it.each([
    ['CDAStatus', 'CDA'],
    ['MseResultData', 'Data'],
  ] as const)(
    'refuses a %s whose %s is 150,000 line breaks and one "!" with a 400 naming the field, and keeps it',
    { timeout: 10_000 },
    async (type, field) => {
      const body = freshMessage(type, { [field]: attack });
      const { status, ack, rejected, queue } = await receive(type, body);
      expect(status).toBe(400);
      expect(ack).toMatchObject({ MessageId: body.MessageId, Status: 'Failed' });
      expect(ack.Message).toContain(field);
      expect(ack.Message).toContain(REASONS.base64);
      expect(rejected.kept).toHaveLength(1);
      expect(queue.sent).toHaveLength(0);
    },
  );

  it('accepts what .NET emits, with and without InsertLineBreaks, for every padding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(accepts(Buffer.from(bytes).toString('base64'))).toBe(true);
        expect(accepts(dotNetBase64(bytes))).toBe(true);
      }),
    );
    // Lines of 76 with CRLF, a bare LF, and a trailing line break (some writers add one).
    expect(accepts(dotNetBase64(Buffer.alloc(200, 7)))).toBe(true);
    expect(accepts('PD94bWwg\ndmVyc2lv\nbj0iMS4wIj8+\r\n')).toBe(true);
    expect(accepts('')).toBe(true);
  });

  it.each([
    ['a length that is not a multiple of 4', 'QUJ'],
    ['three padding characters', 'QQ==='],
    ['padding before the end', 'QQ==QUJD'],
    ['a character outside the alphabet', 'QUJ!'],
    ['the URL-safe alphabet (.NET Convert never emits it)', 'Pz8-Pz8_'],
    ['whitespace other than line breaks', 'QUJD QUJD'],
    ['line breaks only around a bad character', '\r\n!\r\n'],
  ])('refuses %s', (_, cda) => {
    expect(accepts(cda)).toBe(false);
  });
});
