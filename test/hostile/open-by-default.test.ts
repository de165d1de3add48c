import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_SENDER_PREFIX, SPECIAL_RANGES } from '../../lib/cidr';
import { callerLimits } from '../../lib/nag';
import { parseSites } from '../../lib/site-config';
import { CDK_JSON, nagReasons, removeSyntheses, synthSites } from '../infra/synth';

/*
 * Finding: "Open by default". A site without senderCidrs got no resource policy at all, so anyone on the
 * internet could POST a forged REMD Success to it, and the cdk-nag reasons in its template still said
 * callers were limited by a CIDR allowlist. Now a site names its sender's addresses or opts out
 * explicitly behind a secret path segment, and the reasons say what is true of each site.
 */

const base = { displayName: 'Больница', alarmEmails: [], retentionDays: 30 };
const SECRET = 'anySenderSecret012345';

describe('a site that does not say who may call it', () => {
  it('fails synth with one line naming the site and the fix', () => {
    const attempt = () => parseSites([{ id: 'mo-open', ...base }]);
    expect(attempt).toThrow(/^[^\n]*site "mo-open": senderCidrs: required: list the egress addresses of the regional N3 operator/);
    expect(attempt).toThrow(/or set "allowAnySender": true with a secretPathSegment[^\n]*$/);
    // An empty list is no allowlist either.
    expect(() => parseSites([{ id: 'mo-open', ...base, senderCidrs: [] }])).toThrow(/site "mo-open": senderCidrs: required/);
  });

  it('fails synth when it allows any sender without a secret path segment, the only gate left', () => {
    expect(() => parseSites([{ id: 'mo-open', ...base, allowAnySender: true }])).toThrow(
      /^[^\n]*site "mo-open": secretPathSegment: required with "allowAnySender": true, where it is the only gate[^\n]*$/,
    );
  });

  it('fails synth when it both lists sender addresses and allows any sender', () => {
    expect(() =>
      parseSites([{ id: 'mo-open', ...base, senderCidrs: ['198.51.100.0/24'], allowAnySender: true, secretPathSegment: SECRET }]),
    ).toThrow(/site "mo-open": allowAnySender: contradicts senderCidrs/);
  });

  it('accepts the explicit opt-out with a secret path segment', () => {
    const [site] = parseSites([{ id: 'mo-any', ...base, allowAnySender: true, secretPathSegment: SECRET }]);
    expect(site).toMatchObject({ allowAnySender: true, senderCidrs: [], secretPathSegment: SECRET });
  });
});

/*
 * Finding (issue 24, 4; issue 26, 4): `senderCidrs: ["0.0.0.0/0"]` passed the check above — the policy's Deny then
 * reads `NotIpAddress 0.0.0.0/0`, which never matches, and the nag reason said callers "are limited to 0.0.0.0/0" —
 * and a private range or a CIDR with host bits set passed silently. Each is one line in synth now.
 */
describe('a site whose sender range lets anyone in, or no one', () => {
  const refusal = (senderCidrs: string[], extra: Record<string, unknown> = {}) => {
    try {
      parseSites([{ id: 'mo-wide', ...base, senderCidrs, ...extra }]);
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };
  /** The message is one line, naming the site, the entry and the value. */
  const oneLine = (index: number, value: string) =>
    new RegExp(`^invalid cdk.json context "sites": site "mo-wide": senderCidrs\\[${index}\\]: ${value.replaceAll('.', '\\.')} [^\\n]+$`);

  it('fails synth on 0.0.0.0/0 in one line that names the two ways to go (the operator’s addresses, or allowAnySender)', () => {
    const message = refusal(['0.0.0.0/0']);
    expect(message).toMatch(oneLine(0, '0.0.0.0/0'));
    expect(message).toContain('is every address on the internet');
    expect(message).toContain('"allowAnySender": true with a secretPathSegment');
  });

  it(`fails synth on a range wider than /${MIN_SENDER_PREFIX}, a provider's whole block: a /8, and a /15`, () => {
    expect(refusal(['5.0.0.0/8'])).toMatch(oneLine(0, '5.0.0.0/8'));
    expect(refusal(['5.0.0.0/8'])).toContain("16,777,216 addresses, a provider's whole block");
    expect(refusal(['8.8.0.0/15'])).toMatch(/8\.8\.0\.0\/15 is 131,072 addresses/);
    // The bound itself, and anything narrower, stands.
    expect(refusal(['8.8.0.0/16', '8.8.8.8/32'])).toBe('accepted');
  });

  it('fails synth on a private range (10.0.0.0/8, and a /16 within it): no request from the internet comes from one', () => {
    expect(refusal(['10.0.0.0/8'])).toMatch(oneLine(0, '10.0.0.0/8'));
    expect(refusal(['10.0.0.0/8'])).toContain('10.0.0.0/8 is a private range (RFC 1918): never the source of a request from the internet');
    expect(refusal(['8.8.8.8/32', '192.168.1.0/24'])).toMatch(
      /senderCidrs\[1\]: 192\.168\.1\.0\/24 is in 192\.168\.0\.0\/16, a private range/,
    );
  });

  it('fails synth on every other range that is never a public source: loopback, link-local, CGNAT, multicast, reserved…', () => {
    for (const range of SPECIAL_RANGES.filter((r) => !r.documentation)) {
      expect(refusal([range.cidr]), range.cidr).toMatch(oneLine(0, range.cidr));
      expect(refusal([range.cidr]), range.cidr).toContain(range.what);
    }
    // A public /16 that takes in a special /24 is refused too.
    expect(refusal(['192.0.0.0/16'])).toContain('192.0.0.0/16 includes 192.0.0.0/24');
  });

  it('fails synth on a CIDR with host bits set, saying which range was meant', () => {
    expect(refusal(['8.8.4.5/24'])).toMatch(oneLine(0, '8.8.4.5/24'));
    expect(refusal(['8.8.4.5/24'])).toContain(
      '8.8.4.5/24 has host bits set: did you mean 8.8.4.0/24 (or 8.8.4.5/32 for that one address)?',
    );
    expect(refusal(['203.0.113.5/24'], { example: true })).toContain('did you mean 203.0.113.0/24');
  });

  it('fails synth on a documentation range (an example’s placeholder) unless the site says it is an example', () => {
    expect(refusal(['203.0.113.0/24'])).toMatch(oneLine(0, '203.0.113.0/24'));
    expect(refusal(['203.0.113.0/24'])).toContain('a documentation range, TEST-NET-3 (RFC 5737): no sender has it');
    expect(refusal(['203.0.113.0/24', '198.51.100.7/32'], { example: true })).toBe('accepted');
    // And an example is an example: a real range, or no allowlist, means a real site.
    expect(refusal(['8.8.8.8/32'], { example: true })).toMatch(
      /^[^\n]*site "mo-wide": example: an example site lists only documentation ranges/,
    );
    expect(parseSites.bind(null, [{ id: 'mo-wide', ...base, example: true, allowAnySender: true, secretPathSegment: SECRET }])).toThrow(
      /example: an example site lists only documentation ranges/,
    );
  });

  it('reports every bad entry of a site, one line each', () => {
    expect(refusal(['0.0.0.0/0', '10.0.0.0/8', '8.8.4.5/24']).split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}site "mo-wide": senderCidrs\[0\]: 0\.0\.0\.0\/0 is every address/),
      expect.stringMatching(/^ {2}site "mo-wide": senderCidrs\[1\]: 10\.0\.0\.0\/8 is a private range/),
      expect.stringMatching(/^ {2}site "mo-wide": senderCidrs\[2\]: 8\.8\.4\.5\/24 has host bits set/),
    ]);
  });

  it('words the nag reason with how many addresses the allowlist holds', () => {
    const access = { allowAnySender: false, secretPathSegment: false, maxRequestsPerSecond: 100, oversizeGuard: true };
    expect(callerLimits({ ...access, senderCidrs: ['198.51.100.0/24', '203.0.113.7/32'] })).toContain(
      'Callers are limited to 198.51.100.0/24, 203.0.113.7/32 by the resource policy (257 addresses in all',
    );
  });
});

describe('the synthesised sites', () => {
  const examples = CDK_JSON.context.sites as Array<{ id: string; senderCidrs?: string[]; secretPathSegment?: string }>;
  let templates: Map<string, Template>;

  beforeAll(() => {
    // Both example sites as shipped, plus one that allows any sender: one synth (cdk-nag included).
    const anySender = { id: 'mo-any', displayName: 'Любой отправитель', allowAnySender: true, secretPathSegment: SECRET };
    const { stacks, templates: list } = synthSites([...examples, anySender]);
    templates = new Map(stacks.map((stack, i) => [stack.siteId, list[i]!]));
  }, 180_000); // synthesis with cdk-nag: seconds, a minute on a busy machine
  afterAll(removeSyntheses);

  const restApi = (template: Template) => Object.values(template.findResources('AWS::ApiGateway::RestApi'))[0]!.Properties;

  it('ships two example sites, each restricted to its sender addresses', () => {
    expect(examples).toHaveLength(2);
    for (const site of examples) {
      expect(site.senderCidrs ?? [], site.id).not.toHaveLength(0);
      const statements = restApi(templates.get(site.id)!).Policy?.Statement as Array<Record<string, unknown>> | undefined;
      const deny = statements?.find((s) => s.Effect === 'Deny');
      // Every other source address is denied on the callback routes (the document API is IAM-only).
      expect(deny, site.id).toMatchObject({
        Action: 'execute-api:Invoke',
        Principal: { AWS: '*' },
        Condition: { NotIpAddress: { 'aws:SourceIp': site.senderCidrs } },
        NotResource: ['execute-api:/*/*/documents', 'execute-api:/*/*/documents/*'],
      });
    }
  });

  it('says in the cdk-nag reasons exactly how each site limits its callers', () => {
    for (const site of examples) {
      const [reason] = nagReasons(templates.get(site.id)!).get('AwsSolutions-APIG4') ?? [];
      expect(reason, site.id).toContain(`Callers are limited to ${site.senderCidrs!.join(', ')} by the resource policy`);
      expect(reason, site.id).not.toContain('only gate');
      if (site.secretPathSegment) expect(reason, site.id).toContain('secret path segment');
      else expect(reason, site.id).not.toContain('secret');
    }
    const [anySender] = nagReasons(templates.get('mo-any')!).get('AwsSolutions-APIG4') ?? [];
    expect(anySender).toContain('Any source address may call (the site sets allowAnySender): the secret path segment is the only gate');
    expect(anySender).not.toMatch(/CIDR|limited to/);
  });

  it('gives a site that allows any sender no address rule, only its secret path', () => {
    const template = templates.get('mo-any')!;
    const statements = restApi(template).Policy.Statement as Array<{ Effect: string }>;
    expect(statements.some((s) => s.Effect === 'Deny')).toBe(false);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: SECRET });
    // The URL to register shows where the secret goes, not the secret (test/infra/refusals.test.ts).
    expect(JSON.stringify(template.toJSON().Outputs.CallbackBaseUrl.Value)).toContain('/<secretPathSegment>/');
    expect(JSON.stringify(template.toJSON().Outputs)).not.toContain(SECRET);
  });
});
