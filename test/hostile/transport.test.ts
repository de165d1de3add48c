import { connect } from 'node:net';
import type { Template } from 'aws-cdk-lib/assertions';
import fc from 'fast-check';
import { checkSync } from 'recheck';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSites } from '../../lib/site-config';
import { inMemoryGateway } from '../support/in-memory-gateway';
import { freshMessage } from '../../testing/messages';
import { CDK_JSON, removeSyntheses, synthSites } from '../infra/synth';

/*
 * Finding: "Transport". No TLS security policy was set on the API (a regional REST API then keeps the
 * legacy policy that accepts TLS 1.0), and the WAF rule meant to refuse bodies over 4 MiB compared the
 * Content-Length header as text against canonical numbers only: `04194305`, ` 4194305` and lists such as
 * `a, b` went through to a gateway that reads them another way. Now the template sets a TLS 1.2+ policy,
 * the WAF guard refuses every Content-Length that is not one canonical decimal within the limit, and
 * `npm start` answers each such value as the deployed guard does.
 */

const LIMIT = 4 * 1024 * 1024; // MAX_BODY_BYTES, spelled out: this test states the rule independently

/** The rule as stated: what a guard must answer to a declared Content-Length (an absent header is another matter). */
function expected(value: string): 400 | 413 | 'pass' {
  const trimmed = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (trimmed === '') return 'pass';
  if (!/^(0|[1-9][0-9]*)$/.test(trimmed)) return 400;
  return BigInt(trimmed) > BigInt(LIMIT) ? 413 : 'pass';
}

let template: Template;
/** The fleet stack's: the guard is its one web ACL, which every site's stage is associated with. */
let fleet: Template;
// Synthesis with cdk-nag takes seconds, a minute on a busy machine.
beforeAll(() => {
  const synthesised = synthSites([CDK_JSON.context.sites[0]]);
  template = synthesised.templates[0]!;
  fleet = synthesised.fleet;
}, 180_000);
afterAll(removeSyntheses);

interface WafRule {
  readonly priority: number;
  readonly regex: string;
  readonly compiled: RegExp;
  readonly status: number;
  readonly body: string;
}

/** A WAF rule as the template has it (the parts this test reads). */
interface TemplateRule {
  Priority: number;
  Action: { Block: { CustomResponse: { ResponseCode: number; CustomResponseBodyKey: string } } };
  Statement: { RegexMatchStatement?: { FieldToMatch: unknown; TextTransformations: unknown; RegexString: string } };
}

/** The deployed guard's rules, read from the template: each a Content-Length regex and its answer. */
function wafRules(): WafRule[] {
  const [acl] = Object.values(fleet.findResources('AWS::WAFv2::WebACL'));
  const bodies = acl!.Properties.CustomResponseBodies as Record<string, { Content: string }>;
  return (
    (acl!.Properties.Rules as TemplateRule[])
      // The Content-Length rules (the rate rule per address and site is tested in test/infra/concurrency.test.ts).
      .filter((rule) => rule.Statement.RegexMatchStatement !== undefined)
      .map((rule) => {
        const match = rule.Statement.RegexMatchStatement!;
        expect(match.FieldToMatch).toEqual({ SingleHeader: { Name: 'content-length' } });
        expect(match.TextTransformations).toEqual([{ Priority: 0, Type: 'NONE' }]);
        const response = rule.Action.Block.CustomResponse;
        return {
          priority: rule.Priority,
          regex: match.RegexString,
          compiled: new RegExp(match.RegexString),
          status: response.ResponseCode,
          body: bodies[response.CustomResponseBodyKey]!.Content,
        };
      })
      .sort((a, b) => a.priority - b.priority)
  );
}

/** What the deployed guard answers to a Content-Length value: the first matching rule, or nothing. */
function wafAnswer(rules: WafRule[], value: string): WafRule | undefined {
  return rules.find((rule) => rule.compiled.test(value));
}

describe('TLS', () => {
  it('requires TLS 1.2 or newer on the API: an enhanced policy for regional endpoints, in strict access mode', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
      // TLS 1.3, and TLS 1.2 with forward-secret suites only; listed for regional REST APIs.
      SecurityPolicy: 'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09',
      // Required with any SecurityPolicy_* policy; STRICT also checks the SNI host.
      EndpointAccessMode: 'STRICT',
    });
  });
});

describe('the WAF guard on Content-Length', () => {
  const CASES: ReadonlyArray<[string, 400 | 413 | 'pass']> = [
    ['4194305', 413],
    ['04194305', 400],
    [' 4194305', 413],
    ['4194305 ', 413],
    ['00004194305', 400],
    ['a, b', 400],
    ['4194305, 4194305', 400],
    ['10, 10', 400],
    ['+10', 400],
    ['-1', 400],
    ['1e9', 400],
    ['0x10', 400],
    ['10.0', 400],
    ['1 0', 400],
    ['010', 400],
    ['00', 400],
    ['0', 'pass'],
    ['4194304', 'pass'],
    [' 4194304\t', 'pass'],
    ['99999999999999999999999999', 413],
  ];

  it('refuses leading zeros, whitespace around an oversize value and lists, as well as plain oversize values', () => {
    const rules = wafRules();
    for (const [value, answer] of CASES) {
      expect(expected(value), JSON.stringify(value)).toBe(answer); // the table states the rule
      expect(wafAnswer(rules, value)?.status ?? 'pass', JSON.stringify(value)).toBe(answer);
    }
  });

  it('answers every Content-Length text exactly as the rule says (property)', () => {
    const rules = wafRules();
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom('0', '1', '4', '9', ' ', '\t', ',', '+', '-', 'a', '.', 'e'), maxLength: 14 }),
      fc.string({ maxLength: 12 }),
      // Numbers near the limit, written with and without leading zeros and whitespace.
      fc
        .tuple(
          fc.nat({ max: 3 }),
          fc.integer({ min: LIMIT - 50, max: LIMIT + 50 }),
          fc.constantFrom('', ' ', '\t', ' \t'),
          fc.constantFrom('', ' ', '\t'),
        )
        .map(([zeros, n, before, after]) => `${before}${'0'.repeat(zeros)}${n}${after}`),
      fc.nat({ max: 20 * LIMIT }).map(String),
    );
    fc.assert(
      fc.property(text, (value) => (wafAnswer(rules, value)?.status ?? 'pass') === expected(value)),
      { numRuns: 5_000 },
    );
  });

  it('answers with ack-shaped bodies: 413 too large, 400 naming the header', () => {
    const rules = wafRules();
    const tooLarge = JSON.parse(wafAnswer(rules, '4194305')!.body);
    const malformed = JSON.parse(wafAnswer(rules, '04194305')!.body);
    expect(tooLarge).toMatchObject({ MessageId: '', Status: 'Failed', Message: expect.stringContaining('Сообщение слишком велико') });
    expect(malformed).toMatchObject({ MessageId: '', Status: 'Failed', Message: expect.stringContaining('Content-Length') });
  });

  it('uses patterns AWS WAF takes (no groups, no lookaround, at most 512 characters) that run in linear time', () => {
    for (const { regex } of wafRules()) {
      expect(regex.length).toBeLessThanOrEqual(512);
      // AWS WAF refuses backreferences and capturing subexpressions; lookarounds are not all supported.
      expect(regex).not.toMatch(/[()]|\\[1-9]/);
      expect(checkSync(regex, '').status).toBe('safe');
    }
  });
});

describe('npm start, over a raw socket, answers each Content-Length as the deployed guard', () => {
  let gateway: Awaited<ReturnType<typeof inMemoryGateway>>;
  let port: number;

  beforeAll(async () => {
    gateway = await inMemoryGateway();
    port = gateway.port;
  });
  afterAll(() => gateway?.close());

  /** One request exactly as written (fetch would tidy the header up); the status and body of the answer. */
  function post(contentLength: string, body: Buffer): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (error: NodeJS.ErrnoException) =>
        error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error),
      );
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const [head = '', ...rest] = text.split('\r\n\r\n');
        resolve({ status: Number(head.split(' ')[1]), body: rest.join('\r\n\r\n') });
      });
      socket.on('connect', () => {
        socket.write(
          `POST /MseResult HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length:${contentLength}\r\n\r\n`,
        );
        socket.end(body);
      });
    });
  }

  it('refuses what the WAF refuses, with the same status and body, and serves what it lets through', async () => {
    const rules = wafRules();
    const message = Buffer.from(JSON.stringify(freshMessage('MseResult')));
    const n = String(message.length);
    // The value after "Content-Length:" as sent; the WAF sees it without the one space a client puts first.
    const values = [
      ` ${n}`,
      `  ${n}`,
      ` ${n} `,
      ` 0${n}`,
      ` 00${n}`,
      ` ${n}, ${n}`,
      ` +${n}`,
      ' a, b',
      ' 4194305',
      ' 04194305',
      '  4194305',
      ' 1e3',
    ];
    for (const sent of values) {
      const value = sent.slice(1);
      const waf = wafAnswer(rules, value);
      const reply = await post(sent, waf ? Buffer.alloc(0) : message);
      if (waf) {
        expect([reply.status, JSON.parse(reply.body)], JSON.stringify(value)).toEqual([waf.status, JSON.parse(waf.body)]);
      } else {
        // Through the guard to the function: the message itself is accepted.
        expect([reply.status, JSON.parse(reply.body).Status], JSON.stringify(value)).toEqual([200, 'Success']);
      }
    }
  });
});

describe('retention', () => {
  const site = { id: 'mo-r', displayName: 'Больница', example: true, senderCidrs: ['198.51.100.0/24'] };

  it('refuses a retention shorter than a message can live in the queue and its dead-letter queue, saying why', () => {
    for (const retentionDays of [1, 14, 15, 28]) {
      expect(() => parseSites([{ ...site, retentionDays }]), String(retentionDays)).toThrow(
        /^[^\n]*site "mo-r": retentionDays: at least 29: a message can wait 14 days in the queue and 14 more in its dead-letter queue, and the payload it points to must outlive it$/,
      );
    }
    expect(parseSites([{ ...site, retentionDays: 29 }])[0]!.retentionDays).toBe(29);
  });
});
