import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greaterThanPattern, MALFORMED_LENGTH_PATTERN, MAX_BODY_BYTES } from '../../lambdas/contract/limits';
import { METRIC } from '../../lambdas/contract/observability';
import { ACK_TEXT, OVERSIZE_ACK } from '../../lambdas/protocol/ack';
import { defineApp } from '../../lib/app';
import { FLEET_PARAMETERS } from '../../lib/fleet-stack';
import { SiteConfigError } from '../../lib/site-config';
import { CDK_JSON, removeSyntheses, synthSites } from './synth';

/*
 * The fleet stack: what every site of an account and region shares without sharing data or URLs.
 * Synthesised with cdk.json's example sites and cdk-nag, as `npm run synth` does.
 */

let fleet: Template;
let sites: Template[];
beforeAll(() => {
  ({ templates: sites, fleet } = synthSites(CDK_JSON.context.sites, { fleet: { alarmEmails: ['noc@region.example'] } }));
});
afterAll(removeSyntheses);

describe('the fleet stack', () => {
  it('holds one WAF web ACL with the two Content-Length rules and their ack bodies, and publishes its ARN for the sites', () => {
    fleet.resourceCountIs('AWS::WAFv2::WebACL', 1);
    fleet.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: { Block: { CustomResponse: { ResponseCode: 400, CustomResponseBodyKey: 'malformedLength' } } },
          Statement: { RegexMatchStatement: Match.objectLike({ RegexString: MALFORMED_LENGTH_PATTERN }) },
        }),
        Match.objectLike({
          Action: { Block: { CustomResponse: { ResponseCode: 413, CustomResponseBodyKey: 'tooLarge' } } },
          Statement: {
            RegexMatchStatement: Match.objectLike({
              FieldToMatch: { SingleHeader: { Name: 'content-length' } },
              RegexString: greaterThanPattern(MAX_BODY_BYTES),
            }),
          },
        }),
      ],
    });
    const [acl] = Object.values(fleet.findResources('AWS::WAFv2::WebACL'));
    const body = JSON.parse(acl!.Properties.CustomResponseBodies.tooLarge.Content) as Record<string, string>;
    expect(body).toEqual(OVERSIZE_ACK);
    expect(body.Message).toContain(ACK_TEXT.tooLarge);
    const [aclId] = Object.keys(fleet.findResources('AWS::WAFv2::WebACL'));
    fleet.hasResourceProperties('AWS::SSM::Parameter', { Name: FLEET_PARAMETERS.webAclArn, Value: { 'Fn::GetAtt': [aclId, 'Arn'] } });
  });

  it('ticks every minute with one rule into one topic, whose ARN the sites read from the parameter they subscribe by', () => {
    fleet.resourceCountIs('AWS::Events::Rule', 1);
    fleet.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { Ref: Match.anyValue() } })],
    });
    const [rule] = Object.values(fleet.findResources('AWS::Events::Rule'));
    const topicId = (rule!.Properties.Targets[0].Arn as { Ref: string }).Ref;
    fleet.hasResourceProperties('AWS::SSM::Parameter', { Name: FLEET_PARAMETERS.tickTopicArn, Value: { Ref: topicId } });
    // EventBridge may publish to it; nothing but TLS.
    fleet.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish' })]),
      },
    });
    // Every site subscribes its Sweep by that same parameter name, and has no schedule of its own.
    for (const site of sites) {
      const parameters = Object.values(site.toJSON().Parameters as Record<string, { Default?: string }>).map((p) => p.Default);
      expect(parameters).toEqual(expect.arrayContaining([FLEET_PARAMETERS.tickTopicArn, FLEET_PARAMETERS.webAclArn]));
      site.resourceCountIs('AWS::Events::Rule', 0);
    }
  });

  it('has no IAM role, function, table, queue or bucket: nothing with data, and nothing against the per-site quotas', () => {
    for (const type of ['AWS::IAM::Role', 'AWS::Lambda::Function', 'AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::S3::Bucket']) {
      fleet.resourceCountIs(type, 0);
    }
  });

  it('alarms on both WAF rules, per ACL, to the fleet topic and its e-mails', () => {
    fleet.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    const [alarm] = Object.values(fleet.findResources('AWS::CloudWatch::Alarm'));
    const read = (
      alarm!.Properties.Metrics as Array<{
        MetricStat?: { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> } };
      }>
    )
      .filter((m) => m.MetricStat)
      .map((m) => m.MetricStat!.Metric);
    expect(read.map((m) => m.MetricName)).toEqual(['BlockedRequests', 'BlockedRequests']);
    expect(read.map((m) => m.Dimensions.find((d) => d.Name === 'Rule')!.Value).sort()).toEqual([
      'malformed-content-length',
      'oversize-body',
    ]);
    for (const m of read) expect(m.Dimensions.find((d) => d.Name === 'WebACL')!.Value).toBe('n3-callback-fleet');
    fleet.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'noc@region.example' });
  });

  it('has one dashboard whose Site selector lists every configured site and sets the site of every detail metric', () => {
    fleet.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [dashboard] = Object.values(fleet.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.parse(
      (dashboard!.Properties.DashboardBody['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'X')).join(''),
    ) as {
      variables: Array<{ property: string; values: Array<{ value: string }> }>;
      widgets: Array<{ properties: { metrics?: unknown[][] } }>;
    };
    const ids = CDK_JSON.context.sites.map((s) => s.id as string);
    expect(body.variables).toHaveLength(1);
    expect(body.variables[0]!.property).toBe('site');
    expect(body.variables[0]!.values.map((v) => v.value)).toEqual(ids);
    // The detail rows are our metrics with the site dimension the selector sets; the overview rows are searches.
    const rows = body.widgets.flatMap((w) => w.properties.metrics ?? []);
    const named = rows.filter((row) => typeof row[0] === 'string' && row[0] === 'N3Callback');
    expect(named.length).toBeGreaterThan(0);
    for (const row of named) {
      expect(Object.values(METRIC)).toContain(row[1]);
      expect(row).toEqual(expect.arrayContaining(['site', ids[0]]));
    }
    const expressions = rows.flatMap((row) =>
      row.filter((x): x is { expression: string } => typeof x === 'object' && x !== null && 'expression' in x),
    );
    expect(expressions.some((e) => e.expression.startsWith('SEARCH('))).toBe(true);
    expect(expressions.some((e) => e.expression.startsWith('SELECT SUM('))).toBe(true);
  });
});

describe('which stacks an app makes', () => {
  it('adds the fleet and account stacks only with the whole app, not with -c site', () => {
    const app = new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], site: 'mo-oncology-center' } });
    defineApp(app);
    expect(app.node.children.map((c) => c.node.id).filter((id) => id.startsWith('N3Callback-'))).toEqual(['N3Callback-mo-oncology-center']);
  });

  it('refuses a fleet setting it does not know, in one line', () => {
    const app = new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], fleet: { alarmEmail: 'x@y.example' } } });
    expect(() => defineApp(app)).toThrow(SiteConfigError);
    expect(() => defineApp(new App({ context: { ...CDK_JSON.context, fleet: { alarmEmails: ['not-an-email'] } } }))).toThrow(
      /^invalid cdk.json context "fleet": fleet: alarmEmails.0: an e-mail address$/,
    );
  });
});
