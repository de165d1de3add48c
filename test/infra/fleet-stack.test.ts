import { App, type Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greaterThanPattern, MALFORMED_LENGTH_PATTERN, MAX_BODY_BYTES } from '../../contract/limits';
import { METRIC } from '../../contract/observability';
import { ACK_TEXT, OVERSIZE_ACK } from '../../contract/ack';
import { defineApp } from '../../lib/app';
import { FLEET_PARAMETERS, TICK_TOPIC_NAME } from '../../contract/names';
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
      // Then the rate rule (test/infra/concurrency.test.ts).
      Rules: Match.arrayWith([
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
      ]),
    });
    const [acl] = Object.values(fleet.findResources('AWS::WAFv2::WebACL'));
    const body = JSON.parse(acl!.Properties.CustomResponseBodies.tooLarge.Content) as Record<string, string>;
    expect(body).toEqual(OVERSIZE_ACK);
    expect(body.Message).toContain(ACK_TEXT.tooLarge);
    const [aclId] = Object.keys(fleet.findResources('AWS::WAFv2::WebACL'));
    fleet.hasResourceProperties('AWS::SSM::Parameter', { Name: FLEET_PARAMETERS.webAclArn, Value: { 'Fn::GetAtt': [aclId, 'Arn'] } });
  });

  it('ticks every minute with one rule into one topic that only that rule may publish to, which every site subscribes to by name', () => {
    fleet.resourceCountIs('AWS::Events::Rule', 1);
    fleet.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { Ref: Match.anyValue() } })],
    });
    const [rule] = Object.values(fleet.findResources('AWS::Events::Rule'));
    const topicId = (rule!.Properties.Targets[0].Arn as { Ref: string }).Ref;
    const [ruleId] = Object.keys(fleet.findResources('AWS::Events::Rule'));
    fleet.hasResourceProperties('AWS::SNS::Topic', { TopicName: TICK_TOPIC_NAME });
    // EventBridge may publish to it for this one rule only (any other rule of the account could otherwise drive
    // every site's Sweep); nothing but TLS.
    const [policy] = Object.values(fleet.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [{ Ref: topicId }] } }));
    const publishers = (policy!.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>).filter(
      (statement) => statement.Effect === 'Allow',
    );
    expect(publishers).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
      }),
    ]);
    // Every site subscribes its Sweep to that name in its own account and region, and has no schedule of its own.
    for (const site of sites) {
      const [subscription] = Object.values(site.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'lambda' } }));
      expect(JSON.stringify(subscription!.Properties.TopicArn)).toContain(`:${TICK_TOPIC_NAME}"`);
      const parameters = Object.values(site.toJSON().Parameters as Record<string, { Default?: string }>).map((p) => p.Default);
      expect(parameters).toEqual(expect.arrayContaining([FLEET_PARAMETERS.webAclArn]));
      site.resourceCountIs('AWS::Events::Rule', 0);
    }
  });

  it('has no IAM role, function, table, queue or bucket: nothing with data, and nothing against the per-site quotas', () => {
    for (const type of ['AWS::IAM::Role', 'AWS::Lambda::Function', 'AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::S3::Bucket']) {
      fleet.resourceCountIs(type, 0);
    }
  });

  it('alarms on both Content-Length rules, per ACL, to the fleet topic and its e-mails', () => {
    // That alarm, and the rate rule's own (test/infra/concurrency.test.ts).
    fleet.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    const [alarm] = Object.values(fleet.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.Metrics !== undefined);
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
    // Dashboards are global to an account: a fleet in a second region needs another name.
    fleet.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: { 'Fn::Join': ['', ['n3-callback-fleet-', { Ref: 'AWS::Region' }]] },
    });
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
    // Our metrics are site-wide (contract/observability.ts): a search or query by type would find nothing.
    for (const e of expressions) expect(e.expression).not.toContain('MessageType');
  });
});

describe('which stacks an app makes', () => {
  it('deploys the fleet before any site (a dependency, no export), and protects it from deletion', () => {
    const app = new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [] } });
    const sitesMade = defineApp(app);
    for (const site of sitesMade) expect(site.dependencies.map((d) => d.stackName)).toContain('N3Callback-fleet');
    const fleetStack = app.node.findChild('N3Callback-fleet') as Stack;
    expect(fleetStack.terminationProtection).toBe(true);
    expect(JSON.stringify(app.synth().getStackByName('N3Callback-mo-city-hospital-1').template)).not.toContain('Fn::ImportValue');
  });

  it("tells every site's alarm e-mails about WAF refusals where the fleet names nobody", () => {
    const { fleet: byDefault } = synthSites(CDK_JSON.context.sites);
    const emails = (template: Template) =>
      Object.values(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } }))
        .map((r) => r.Properties.Endpoint as string)
        .sort();
    const expected = [...new Set(CDK_JSON.context.sites.flatMap((s) => (s.alarmEmails as string[] | undefined) ?? []))].sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(emails(byDefault)).toEqual(expected);
    expect(emails(fleet)).toEqual(['noc@region.example']);
  });

  it('refuses a site named like a shared stack (fleet, account), which would replace it', () => {
    const app = new App({ context: { ...CDK_JSON.context, sites: [{ ...CDK_JSON.context.sites[0], id: 'fleet' }] } });
    expect(() => defineApp(app)).toThrow(/id: "fleet" and "account" name the shared stacks/);
  });

  it('adds the fleet and account stacks only with the whole app, not with -c site', () => {
    const app = new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], site: 'mo-oncology-center' } });
    defineApp(app);
    expect(app.node.children.map((c) => c.node.id).filter((id) => id.startsWith('N3Callback-'))).toEqual(['N3Callback-mo-oncology-center']);
  });

  it('refuses a fleet setting it does not know, in one line', () => {
    const app = new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], fleet: { alarmEmail: 'x@y.example' } } });
    expect(() => defineApp(app)).toThrow(SiteConfigError);
    expect(() => defineApp(new App({ context: { ...CDK_JSON.context, fleet: { alarmEmails: ['not-an-email'] } } }))).toThrow(
      /^invalid cdk.json context "fleet": alarmEmails\[0\]: must be an e-mail address$/,
    );
  });
});
