import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_TYPES } from '../../contract/catalog';
import { SECRET_PLACEHOLDER } from '../../lib/api';
import {
  addressPrefixes,
  GATEWAY_DIMENSIONS,
  GATEWAY_METRIC,
  GATEWAY_NAMESPACE,
  MAX_PATTERN_LENGTH,
  refusalPatterns,
  SENDER_REFUSED_QUERY,
} from '../../lib/refusals';
import { compileFilterPattern } from '../support/filter-pattern';
import { removeSyntheses, synthSites } from './synth';

/*
 * Finding 1 of issue 24, "Refusals before any function are invisible": a request API Gateway refused itself
 * (resource policy 403, throttle 429, unknown path, WAF) was kept nowhere and no alarm read it, so a sender
 * whose egress address changed was refused for good while every dashboard stayed green. Now the stage's
 * access log carries the gateway's response type, metric filters count refusals per site and cause, and a
 * site that refuses its sender for 15 minutes while accepting nothing alarms.
 * Finding 9 (third defect): the secret path segment was in the per-method metrics' `Resource` dimension (detailed
 * metrics on), in the `CallbackBaseUrl` output and in the functions' invoke permissions.
 */

const SECRET = 'refusalsSecret0123456';
const ANY_SECRET = 'anySenderSecret0123456';
const SITES = [
  {
    id: 'mo-r',
    displayName: 'Больница',
    // Documentation ranges (RFC 5737): only an example may name them (lib/cidr.ts).
    example: true,
    senderCidrs: ['198.51.100.0/24', '203.0.113.7/32'],
    secretPathSegment: SECRET,
    retentionDays: 30,
    alarmEmails: ['oncall@mo-r.example'],
    dashboard: true,
  },
  { id: 'mo-any', displayName: 'Любой отправитель', allowAnySender: true, secretPathSegment: ANY_SECRET, retentionDays: 30 },
];

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;
interface Filter {
  pattern: (line: Record<string, unknown>) => boolean;
  name: string;
  namespace: string;
  dimensions: Record<string, string>;
}

let templates: Map<string, Template>;
let fleet: Template;
beforeAll(() => {
  const synthesised = synthSites(SITES);
  templates = new Map(synthesised.stacks.map((stack, i) => [stack.siteId, synthesised.templates[i]!]));
  fleet = synthesised.fleet;
}, 180_000); // synthesis with cdk-nag: seconds, a minute on a busy machine
afterAll(removeSyntheses);

const resources = (siteId: string) => templates.get(siteId)!.toJSON().Resources as Resources;
const ofType = (siteId: string, type: string) => Object.entries(resources(siteId)).filter(([, r]) => r.Type === type);

/** A resource's id as our sample lines give it: `r-<PathPart>` (API Gateway's are random; any distinct text will do). */
const sampleResourceId = (siteId: string, logicalId: string) => `r-${resources(siteId)[logicalId]!.Properties.PathPart as string}`;
const routeId = (path: string) => `r-${path}`;

/** A template value with references resolved: resource ids as sampleResourceId, anything else as a marker. */
function resolve(siteId: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const o = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (o.Ref) return resources(siteId)[o.Ref]?.Type === 'AWS::ApiGateway::Resource' ? sampleResourceId(siteId, o.Ref) : `(ref ${o.Ref})`;
  if (o['Fn::Join']) return o['Fn::Join'][1].map((part) => resolve(siteId, part)).join(o['Fn::Join'][0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

function filters(siteId: string): Filter[] {
  return ofType(siteId, 'AWS::Logs::MetricFilter').map(([, r]) => {
    const [t] = r.Properties.MetricTransformations as Array<{
      MetricName: string;
      MetricNamespace: string;
      MetricValue: string;
      DefaultValue?: number;
      Dimensions: Array<{ Key: string; Value: string }>;
    }>;
    return {
      pattern: compileFilterPattern(resolve(siteId, r.Properties.FilterPattern)),
      name: t!.MetricName,
      namespace: t!.MetricNamespace,
      dimensions: Object.fromEntries(t!.Dimensions.map((d) => [d.Key, d.Value])),
    };
  });
}

/** The stage's access-log format, as API Gateway receives it. */
const accessLogFormat = (siteId: string) =>
  JSON.parse((ofType(siteId, 'AWS::ApiGateway::Stage')[0]![1].Properties.AccessLogSetting as { Format: string }).Format) as Record<
    string,
    string
  >;

interface Request {
  ip: string;
  method: string;
  status: string;
  responseType?: string;
  waf?: string;
  resourceId?: string;
}
/** One access-log line for `request`, written from the stage's own format ("-" where API Gateway has no value). */
function logLine(siteId: string, request: Request): Record<string, string> {
  const values: Record<string, string> = {
    '$context.requestId': 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    '$context.identity.sourceIp': request.ip,
    '$context.requestTime': '07/Dec/2026:06:00:00 +0000',
    '$context.httpMethod': request.method,
    '$context.protocol': 'HTTP/1.1',
    '$context.status': request.status,
    '$context.responseLength': '96',
    '$context.error.responseType': request.responseType ?? '-',
    '$context.wafResponseCode': request.waf ?? 'WAF_ALLOW',
    '$context.resourceId': request.resourceId ?? '-',
  };
  return Object.fromEntries(
    Object.entries(accessLogFormat(siteId)).map(([field, template]) => {
      if (!template.startsWith('$context.')) return [field, template]; // a constant (the site)
      const value = values[template];
      if (value === undefined) throw new Error(`the access log has ${template}: give sample lines a value for it`);
      return [field, value];
    }),
  );
}

/** What the site's filters would publish for one line: `metric dim=value,…` for each filter that matches. */
function published(siteId: string, request: Request, lineSiteId = siteId): string[] {
  const line = logLine(lineSiteId, request);
  return filters(siteId)
    .filter((f) => f.pattern(line))
    .map((f) => {
      const dims = Object.entries(f.dimensions)
        .map(([key, selector]) => `${key}=${line[selector.replace(/^\$\./, '')]}`)
        .sort();
      return `${f.name} ${dims.join(',')}`;
    })
    .sort();
}

const N3_NEW_ADDRESS = '192.0.2.10'; // not in mo-r's senderCidrs
const N3_ADDRESS = '198.51.100.23'; // in 198.51.100.0/24
const SCANNER = '192.0.2.99';

describe("the gateway's refusals, counted from the access log", () => {
  it('logs what the metric filters read (response type, WAF verdict, resource id, site) and never the path', () => {
    const format = accessLogFormat('mo-r');
    expect(format).toMatchObject({
      site: 'mo-r',
      responseType: '$context.error.responseType',
      waf: '$context.wafResponseCode',
      resourceId: '$context.resourceId',
      ip: '$context.identity.sourceIp',
      httpMethod: '$context.httpMethod',
      status: '$context.status',
    });
    const text = JSON.stringify(format);
    expect(text).not.toContain('$context.resourcePath');
    expect(text).not.toMatch(/\$context\.path\b/);
  });

  it('has three metric filters per site, in their own namespace, with no default value (no zeros written)', () => {
    for (const siteId of ['mo-r', 'mo-any']) {
      const list = ofType(siteId, 'AWS::Logs::MetricFilter');
      expect(list.map(([, r]) => (r.Properties.MetricTransformations as Array<{ MetricName: string }>)[0]!.MetricName).sort()).toEqual(
        Object.values(GATEWAY_METRIC).sort(),
      );
      for (const [, r] of list) {
        const [t] = r.Properties.MetricTransformations as Array<Record<string, unknown>>;
        expect(t).toMatchObject({ MetricNamespace: GATEWAY_NAMESPACE, MetricValue: '1' });
        expect(t).not.toHaveProperty('DefaultValue');
        // The access log's own group.
        expect(r.Properties.LogGroupName).toEqual({ Ref: expect.stringMatching(/^CallbackAccessLogs/) });
      }
    }
  });

  it('counts each kind of refusal under its cause, and the sender refused only for POSTs meant as callbacks', () => {
    const remd = routeId('REMDStatus');
    const expectations: Array<[string, string, Request, string[]]> = [
      [
        "the sender's new address, denied by the resource policy on a callback route",
        'mo-r',
        { ip: N3_NEW_ADDRESS, method: 'POST', status: '403', responseType: 'ACCESS_DENIED', resourceId: remd },
        ['refused cause=ACCESS_DENIED,site=mo-r', 'senderRefused site=mo-r'],
      ],
      ...MESSAGE_TYPES.map((type): [string, string, Request, string[]] => [
        `a denial on the ${type} route`,
        'mo-r',
        { ip: N3_NEW_ADDRESS, method: 'POST', status: '403', responseType: 'ACCESS_DENIED', resourceId: routeId(type) },
        ['refused cause=ACCESS_DENIED,site=mo-r', 'senderRefused site=mo-r'],
      ]),
      [
        'a scanner denied on the catch-all',
        'mo-r',
        { ip: SCANNER, method: 'POST', status: '403', responseType: 'ACCESS_DENIED', resourceId: routeId('{proxy+}') },
        ['refused cause=ACCESS_DENIED,site=mo-r'],
      ],
      [
        'a GET denied on a callback route',
        'mo-r',
        { ip: SCANNER, method: 'GET', status: '403', responseType: 'ACCESS_DENIED', resourceId: remd },
        ['refused cause=ACCESS_DENIED,site=mo-r'],
      ],
      [
        'the sender on a base URL without the current secret (unknown path)',
        'mo-r',
        { ip: N3_ADDRESS, method: 'POST', status: '404', responseType: 'MISSING_AUTHENTICATION_TOKEN' },
        ['refused cause=MISSING_AUTHENTICATION_TOKEN,site=mo-r', 'senderRefused site=mo-r'],
      ],
      [
        'the sender’s single address (a /32) on an unknown path',
        'mo-r',
        { ip: '203.0.113.7', method: 'POST', status: '404', responseType: 'MISSING_AUTHENTICATION_TOKEN' },
        ['refused cause=MISSING_AUTHENTICATION_TOKEN,site=mo-r', 'senderRefused site=mo-r'],
      ],
      [
        'a scanner on an unknown path of a site with sender addresses',
        'mo-r',
        { ip: SCANNER, method: 'POST', status: '404', responseType: 'MISSING_AUTHENTICATION_TOKEN' },
        ['refused cause=MISSING_AUTHENTICATION_TOKEN,site=mo-r'],
      ],
      [
        'anyone posting to an unknown path of a site that allows any sender (its secret is the gate)',
        'mo-any',
        { ip: SCANNER, method: 'POST', status: '404', responseType: 'MISSING_AUTHENTICATION_TOKEN' },
        ['refused cause=MISSING_AUTHENTICATION_TOKEN,site=mo-any', 'senderRefused site=mo-any'],
      ],
      [
        'the stage throttle',
        'mo-r',
        { ip: N3_ADDRESS, method: 'POST', status: '429', responseType: 'THROTTLED', resourceId: remd },
        ['refused cause=THROTTLED,site=mo-r'],
      ],
      [
        'the WAF guard',
        'mo-r',
        { ip: N3_ADDRESS, method: 'POST', status: '413', responseType: 'WAF_FILTERED', waf: 'WAF_BLOCK', resourceId: remd },
        ['refused cause=WAF_FILTERED,site=mo-r'],
      ],
      [
        "the gateway's own size limit",
        'mo-r',
        { ip: N3_ADDRESS, method: 'POST', status: '413', responseType: 'REQUEST_TOO_LARGE', resourceId: remd },
        ['refused cause=REQUEST_TOO_LARGE,site=mo-r'],
      ],
      [
        'a callback acked Success',
        'mo-r',
        { ip: N3_ADDRESS, method: 'POST', status: '200', resourceId: remd },
        ['callbacksAnswered site=mo-r'],
      ],
      [
        'a rejection a function answered (counted by the functions, kept under rejected/)',
        'mo-r',
        { ip: N3_ADDRESS, method: 'POST', status: '404', resourceId: routeId('{proxy+}') },
        [],
      ],
      [
        'a gateway 5xx (the Api5xx alarm reads those)',
        'mo-r',
        { ip: N3_ADDRESS, method: 'POST', status: '504', responseType: 'INTEGRATION_TIMEOUT', resourceId: remd },
        [],
      ],
    ];
    for (const [name, siteId, request, metrics] of expectations) expect(published(siteId, request), name).toEqual(metrics);
    // A line of another site's log is not counted as this site's.
    expect(published('mo-r', { ip: N3_ADDRESS, method: 'POST', status: '200', resourceId: remd }, 'mo-any')).toEqual([]);
  });

  it('publishes each metric with exactly the dimensions the contract names, from fields the log has', () => {
    for (const f of filters('mo-r')) {
      const key = (Object.keys(GATEWAY_METRIC) as Array<keyof typeof GATEWAY_METRIC>).find((k) => GATEWAY_METRIC[k] === f.name)!;
      expect(Object.keys(f.dimensions).sort(), f.name).toEqual([...GATEWAY_DIMENSIONS[key]].sort());
      for (const selector of Object.values(f.dimensions)) expect(Object.keys(accessLogFormat('mo-r'))).toContain(selector.slice(2));
    }
  });
});

describe('the SenderRefused alarm', () => {
  const alarm = (siteId: string) => {
    const found = ofType(siteId, 'AWS::CloudWatch::Alarm').filter(([id]) => /^MonitoringSenderRefused[0-9A-F]{8}$/.test(id));
    expect(found, siteId).toHaveLength(1);
    return found[0]![1].Properties as {
      AlarmDescription: unknown;
      Metrics: Array<{ Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: Record<string, unknown> }>;
      EvaluationPeriods: number;
      DatapointsToAlarm?: number;
      Threshold: number;
      ComparisonOperator: string;
      TreatMissingData: string;
      AlarmActions: unknown[];
    };
  };

  it('fires after three 5-minute periods in a row of the sender refused with no callback answered, to the site topic', () => {
    for (const siteId of ['mo-r', 'mo-any']) {
      const a = alarm(siteId);
      expect(a).toMatchObject({
        EvaluationPeriods: 3,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(a.DatapointsToAlarm ?? a.EvaluationPeriods).toBe(3);
      expect(a.AlarmActions).toHaveLength(1);
      const [expression] = a.Metrics.filter((m) => m.Expression);
      expect(expression!.Expression).toMatch(/^IF\(FILL\((\w+), 0\) > 0 AND FILL\((\w+), 0\) == 0, 1, 0\)$/);
      const [, refusedId, answeredId] = expression!.Expression!.match(/FILL\((\w+), 0\) > 0 AND FILL\((\w+), 0\)/)!;
      const stat = (id: string) =>
        a.Metrics.find((m) => m.Id === id)!.MetricStat as { Metric: Record<string, unknown>; Period: number; Stat: string };
      expect(stat(refusedId!)).toEqual({
        Metric: { Namespace: GATEWAY_NAMESPACE, MetricName: GATEWAY_METRIC.senderRefused, Dimensions: [{ Name: 'site', Value: siteId }] },
        Period: 300,
        Stat: 'Sum',
      });
      expect(stat(answeredId!)).toEqual({
        Metric: {
          Namespace: GATEWAY_NAMESPACE,
          MetricName: GATEWAY_METRIC.callbacksAnswered,
          Dimensions: [{ Name: 'site', Value: siteId }],
        },
        Period: 300,
        Stat: 'Sum',
      });
      // Two metrics read: $0.20 a month. Only the expression is returned.
      expect(a.Metrics.filter((m) => m.MetricStat)).toHaveLength(2);
      expect(a.Metrics.filter((m) => m.ReturnData !== false).map((m) => m.Id)).toEqual([expression!.Id]);
    }
  });

  it('reads exactly the series the filters publish: the site dimension the access log writes', () => {
    const a = alarm('mo-r');
    for (const m of a.Metrics.filter((x) => x.MetricStat)) {
      const metric = (m.MetricStat as { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: string }> } }).Metric;
      const filter = filters('mo-r').find((f) => f.name === metric.MetricName)!;
      expect(Object.keys(filter.dimensions)).toEqual(metric.Dimensions.map((d) => d.Name));
      for (const d of metric.Dimensions) expect(accessLogFormat('mo-r')[filter.dimensions[d.Name]!.slice(2)]).toBe(d.Value);
    }
  });

  it('says what it means, how to list the refused addresses, and the one change that fixes it, within 1,024 characters', () => {
    const description = resolve('mo-r', alarm('mo-r').AlarmDescription);
    expect(description).toMatch(/^Больница \(site mo-r\): the gateway refused the sender's callbacks for 15 minutes and accepted none/);
    expect(description).toContain(`CloudWatch Logs Insights on (ref CallbackAccessLogs`);
    expect(description).toContain(SENDER_REFUSED_QUERY);
    expect(description).toContain(
      "ACCESS_DENIED = the sender's new egress address is not in senderCidrs: add it for site mo-r (sites/mo-r.json or cdk.json) and deploy",
    );
    expect(description).toContain('MISSING_AUTHENTICATION_TOKEN = the registered base URL lacks the current secretPathSegment');
    // A site that allows any sender has no address to add: only the path can refuse it.
    const anySender = resolve('mo-any', alarm('mo-any').AlarmDescription);
    expect(anySender).not.toContain('senderCidrs');
    expect(anySender).toContain('Fix: MISSING_AUTHENTICATION_TOKEN = the registered base URL lacks the current secretPathSegment');
    // CloudWatch's limit, with the log group's generated name at its longest plausible (stack + construct path + suffix).
    expect(description.replace(/\(ref [^)]*\)/g, 'x'.repeat(120)).length).toBeLessThanOrEqual(1024);
  });
});

describe('the patterns', () => {
  it('are read as the CloudWatch Logs user guide says (the test reader itself, on its examples)', () => {
    const event = { eventType: 'UpdateTrail', sourceIPAddress: '111.111.111.111', a: 'x', b: 'n', c: 'n' };
    expect(compileFilterPattern('{ $.eventType = "UpdateTrail" }')(event)).toBe(true);
    expect(compileFilterPattern('{ $.sourceIPAddress != 123.123.* }')(event)).toBe(true);
    expect(compileFilterPattern('{ $.sourceIPAddress = 111.111.* }')(event)).toBe(true);
    expect(compileFilterPattern('{ $.eventType = *Trail }')(event)).toBe(true);
    // && binds tighter than ||; parentheses regroup.
    expect(compileFilterPattern('{ $.a = x || $.b = y && $.c = z }')(event)).toBe(true);
    expect(compileFilterPattern('{ ($.a = x || $.b = y) && $.c = z }')(event)).toBe(false);
    expect(() => compileFilterPattern('{ $.a = x && }')).toThrow(/expected more/);
  });

  it('stay within CloudWatch’s 1,024 characters, widening to "any address" rather than failing with many sender ranges', () => {
    const ids = MESSAGE_TYPES.map((_, i) => `abcdefghi${i}`);
    const few = refusalPatterns({ siteId: 'mo-r', senderCidrs: ['198.51.100.0/24'], callbackResourceIds: ids });
    expect(few.senderRefused).toContain('$.ip = "198.51.100.*"');
    const many = Array.from({ length: 60 }, (_, i) => `10.${i}.0.0/16`);
    const wide = refusalPatterns({ siteId: 'mo-r', senderCidrs: many, callbackResourceIds: ids });
    expect(wide.senderRefused).not.toContain('$.ip');
    for (const pattern of [...Object.values(few), ...Object.values(wide)]) expect(pattern.length).toBeLessThanOrEqual(MAX_PATTERN_LENGTH);
    for (const siteId of ['mo-r', 'mo-any'])
      for (const [, r] of ofType(siteId, 'AWS::Logs::MetricFilter'))
        expect(resolve(siteId, r.Properties.FilterPattern).replace(/r-\S+?"/g, 'abcdefghij"').length).toBeLessThanOrEqual(
          MAX_PATTERN_LENGTH,
        );
  });

  it('match sender addresses by whole octets (a filter pattern matches text, not CIDRs)', () => {
    expect(addressPrefixes(['203.0.113.0/26', '203.0.113.64/26', '10.20.0.0/14', '192.0.2.7/32', '172.16.0.0/12'])).toEqual([
      '203.0.113.*',
      '10.*',
      '192.0.2.7',
      '172.*',
    ]);
    expect(addressPrefixes(['198.51.100.0/24', '0.0.0.0/4'])).toEqual([]);
  });
});

describe('the dashboards', () => {
  it("show refusals by cause: the site's own (where it has one) and every site's on the fleet dashboard", () => {
    const body = (template: Template) =>
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))
        .map((d) => JSON.stringify(d.Properties.DashboardBody))
        .join('');
    expect(body(templates.get('mo-r')!)).toContain(
      `SEARCH('{${GATEWAY_NAMESPACE},cause,site} MetricName=\\\\\\"refused\\\\\\" site=\\\\\\"mo-r\\\\\\"'`,
    );
    expect(body(templates.get('mo-r')!)).toContain('Refused by the gateway, by cause');
    expect(body(fleet)).toContain(`SEARCH('{${GATEWAY_NAMESPACE},cause,site} MetricName=\\\\\\"refused\\\\\\"'`);
  });
});

describe('the secret path segment (finding 9)', () => {
  it('appears in the template only as the path part of its resource and in logical ids, never in an output, metric, log or permission', () => {
    for (const [siteId, secret] of [
      ['mo-r', SECRET],
      ['mo-any', ANY_SECRET],
    ] as const) {
      const template = templates.get(siteId)!.toJSON() as { Resources: Resources; Outputs: Record<string, { Value: unknown }> };
      const logicalIds = new Set(Object.keys(template.Resources));
      const places: string[] = [];
      const walk = (node: unknown, path: string): void => {
        if (typeof node === 'string') {
          if (node.includes(secret) && !logicalIds.has(node)) places.push(path); // a Ref or DependsOn names a logical id
          return;
        }
        if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, `${path}/${k}`);
      };
      walk(template, '');
      const [secretResource] = Object.entries(template.Resources).filter(
        ([, r]) => r.Type === 'AWS::ApiGateway::Resource' && r.Properties.PathPart === secret,
      );
      expect(places, siteId).toEqual([`/Resources/${secretResource![0]}/Properties/PathPart`]);
      expect(resolve(siteId, template.Outputs.CallbackBaseUrl!.Value)).toMatch(
        new RegExp(`\\(ref CallbackApiDeploymentStagen3\\w+\\)/${SECRET_PLACEHOLDER}/$`),
      );
    }
  });

  it('has no per-method (detailed) metrics, whose Resource dimension would be the secret path', () => {
    for (const siteId of ['mo-r', 'mo-any']) {
      const [, stage] = ofType(siteId, 'AWS::ApiGateway::Stage')[0]!;
      const settings = stage.Properties.MethodSettings as Array<{ MetricsEnabled?: boolean }>;
      expect(settings.length).toBeGreaterThan(0);
      for (const setting of settings) expect(setting.MetricsEnabled ?? false).toBe(false);
    }
  });

  it('tells the operator where the secret segment of CallbackBaseUrl is, and hands over the access log', () => {
    const outputs = templates.get('mo-r')!.toJSON().Outputs as Record<string, { Description: string }>;
    expect(outputs.CallbackBaseUrl!.Description).toContain(
      `${SECRET_PLACEHOLDER} replaced by the site's secretPathSegment (sites/mo-r.json or cdk.json`,
    );
    expect(outputs).toHaveProperty('AccessLogGroupName');
  });
});
