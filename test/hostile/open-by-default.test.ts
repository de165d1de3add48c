import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
