import { Duration } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat, type IResource } from 'aws-cdk-lib/aws-apigateway';
import { type IMetric, MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/*
 * What the gateway refuses on its own, before any function runs (resource policy 403, throttle 429, unknown
 * path, WAF, API Gateway's own size limit), reaches neither `rejected/` nor the functions' metrics: the stage's
 * access log is the only record. CloudWatch Logs metric filters on that log make it per-site metrics, and one
 * alarm reads the refusals that mean "the sender cannot get in" (see SENDER_REFUSED_RULE).
 *
 * Metric filters write nothing where nothing matches (no default value): a series exists, and is billed
 * ($0.30 a month, pro-rated by the hours it is sent), only in hours it has something to count.
 */

/** Not the functions' namespace: no function emits these, CloudWatch Logs does (from the access log). */
export const GATEWAY_NAMESPACE = 'N3Callback/Gateway';

export const GATEWAY_METRIC = {
  /** Every 4xx the gateway answered itself, by `cause` (the gateway response type: ACCESS_DENIED, THROTTLED…). */
  refused: 'refused',
  /** The refusals that mean the sender cannot get in (SENDER_REFUSED_RULE): what the SenderRefused alarm reads. */
  senderRefused: 'senderRefused',
  /** POSTs answered 200 (a callback acked Success): "the site accepts callbacks", the alarm's other half. */
  callbacksAnswered: 'callbacksAnswered',
} as const;

/** Each metric's dimensions, as its filter publishes them (and as the alarm and dashboards read them). */
export const GATEWAY_DIMENSIONS = {
  refused: ['site', 'cause'],
  senderRefused: ['site'],
  callbacksAnswered: ['site'],
} as const satisfies Record<keyof typeof GATEWAY_METRIC, readonly string[]>;

/** Minutes the sender must have been refused, with nothing accepted, before anyone is paged. */
export const SENDER_REFUSED_MINUTES = 15;
const PERIOD = Duration.minutes(5);

/**
 * The rule by which a refusal counts as "the site refuses its sender" (and a scanner's does not page anyone):
 * - only POSTs (N3 sends nothing else; scanners mostly GET);
 * - a resource-policy denial (ACCESS_DENIED) counts only on one of the six callback routes: a scanner posting
 *   to any other path of a site without a secret meets the catch-all, not these routes;
 * - an unknown path (MISSING_AUTHENTICATION_TOKEN: a base URL registered without the secret segment, or with
 *   an old one) counts only from the sender's own addresses (senderCidrs, widened to whole octets: a metric
 *   filter matches text, not CIDRs); on a site that allows any sender, from anyone (its secret is the gate);
 * - and it alarms only when such refusals come in each of three 5-minute periods in a row while no callback was
 *   answered 200 in them: a site that also accepts callbacks is reachable, whatever a scanner does.
 * A probe that knows the stage, a callback route and keeps posting for 15 minutes at a quiet site still pages:
 * that is a targeted attempt, worth a look.
 */
export const SENDER_REFUSED_RULE = 'POST refused on a callback route (policy) or on an unknown path from a sender address';

/**
 * The stage's access log, JSON: what the metric filters below read, and what an operator queries. Never the
 * resource path or the request path (they hold the secret segment); the resource's id instead, which tells the
 * six callback routes apart without naming them. API Gateway writes `-` for a value it does not have (no
 * gateway response type where a function answered; no WAF verdict where the stage has no web ACL).
 */
export function accessLogFields(siteId: string): Record<string, string> {
  return {
    requestId: AccessLogField.contextRequestId(),
    ip: AccessLogField.contextIdentitySourceIp(),
    requestTime: AccessLogField.contextRequestTime(),
    httpMethod: AccessLogField.contextHttpMethod(),
    protocol: AccessLogField.contextProtocol(),
    status: AccessLogField.contextStatus(),
    responseLength: AccessLogField.contextResponseLength(),
    // A constant: metric filters take dimension values from the log line only.
    site: siteId,
    responseType: AccessLogField.contextErrorResponseType(),
    waf: AccessLogField.contextWafResponseCode(),
    resourceId: AccessLogField.contextResourceId(),
  };
}

export function accessLogFormat(siteId: string): AccessLogFormat {
  return AccessLogFormat.custom(JSON.stringify(accessLogFields(siteId)));
}

/** CloudWatch Logs refuses a filter pattern longer than this. */
export const MAX_PATTERN_LENGTH = 1024;
/** What a resource id (a token here) may take once deployed: API Gateway's are 6–10 characters. */
const RESOURCE_ID_ALLOWANCE = 12;

export interface RefusalPatternInput {
  readonly siteId: string;
  /** The site's senderCidrs (IPv4, site-config.ts); empty where the site allows any sender. */
  readonly senderCidrs: readonly string[];
  /** The ids of the six callback routes' resources (tokens in a stack). */
  readonly callbackResourceIds: readonly string[];
}

/** The three filter patterns (CloudWatch Logs JSON filter syntax), for one site. */
export function refusalPatterns(input: RefusalPatternInput): Record<keyof typeof GATEWAY_METRIC, string> {
  const q = (value: string) => JSON.stringify(value);
  const site = `$.site = ${q(input.siteId)}`;
  const anyOf = (field: string, values: readonly string[]) => `(${values.map((v) => `${field} = ${q(v)}`).join(' || ')})`;
  // A policy denial on a callback route; `-` too, so that if the gateway ever denies before it matches a
  // resource the alarm errs towards paging (a scanner) rather than towards silence.
  const denied = `($.responseType = "ACCESS_DENIED" && ${anyOf('$.resourceId', [...input.callbackResourceIds, '-'])})`;
  const unknownPath = (prefixes: readonly string[]) =>
    `($.responseType = "MISSING_AUTHENTICATION_TOKEN"${prefixes.length > 0 ? ` && ${anyOf('$.ip', prefixes)}` : ''})`;
  const senderRefused = (prefixes: readonly string[]) => `{ ${site} && $.httpMethod = "POST" && (${denied} || ${unknownPath(prefixes)}) }`;
  let prefixes = addressPrefixes(input.senderCidrs);
  const estimate = (pattern: string) => pattern.replace(/\$\{Token\[[^\]$]*\]\}/g, 'x'.repeat(RESOURCE_ID_ALLOWANCE)).length;
  // Too many sender ranges for one pattern: count unknown-path POSTs from anyone (more pages, never fewer).
  if (estimate(senderRefused(prefixes)) > MAX_PATTERN_LENGTH) prefixes = [];
  return {
    refused: `{ ${site} && $.status = "4*" && $.responseType != "-" }`,
    senderRefused: senderRefused(prefixes),
    callbacksAnswered: `{ ${site} && $.httpMethod = "POST" && $.status = "200" }`,
  };
}

/**
 * Each CIDR as the text prefix a filter pattern can match (`*` only at the end): widened to whole octets,
 * 203.0.113.0/26 → `203.0.113.*`, 10.20.0.0/14 → `10.*`; a /32 stays one address. Empty when any range
 * widens to everything.
 */
export function addressPrefixes(cidrs: readonly string[]): string[] {
  const prefixes = cidrs.map((cidr) => {
    const [address, bits] = cidr.split('/') as [string, string];
    const octets = address.split('.');
    const prefix = Number(bits);
    if (prefix === 32) return address;
    const kept = Math.floor(prefix / 8);
    return kept === 0 ? '*' : `${octets.slice(0, kept).join('.')}.*`;
  });
  return prefixes.includes('*') ? [] : [...new Set(prefixes)];
}

export interface GatewayRefusalsProps {
  readonly siteId: string;
  /** The stage's access log group (format: accessLogFormat). */
  readonly accessLogs: ILogGroup;
  readonly senderCidrs: readonly string[];
  /** The six callback routes' resources. */
  readonly callbackResources: readonly IResource[];
}

/** The metric filters on one site's access log, and the metrics an alarm and the dashboards read from them. */
export class GatewayRefusals extends Construct {
  readonly accessLogs: ILogGroup;
  readonly senderRefused: Metric;
  readonly callbacksAnswered: Metric;
  /** 1 in a 5-minute period when the sender was refused and no callback answered 200, else 0. */
  readonly senderLockedOut: IMetric;
  /** The site's refusals, one line per cause (a search: it costs nothing per metric on a dashboard). */
  readonly refusedByCause: IMetric;
  private readonly restricted: boolean;

  constructor(scope: Construct, id: string, props: GatewayRefusalsProps) {
    super(scope, id);
    const { siteId } = props;
    this.accessLogs = props.accessLogs;
    this.restricted = props.senderCidrs.length > 0;
    const patterns = refusalPatterns({
      siteId,
      senderCidrs: props.senderCidrs,
      callbackResourceIds: props.callbackResources.map((r) => r.resourceId),
    });
    for (const key of Object.keys(GATEWAY_METRIC) as Array<keyof typeof GATEWAY_METRIC>) {
      new MetricFilter(this, key, {
        logGroup: props.accessLogs,
        filterPattern: FilterPattern.literal(patterns[key]),
        metricNamespace: GATEWAY_NAMESPACE,
        metricName: GATEWAY_METRIC[key],
        metricValue: '1',
        dimensions: Object.fromEntries(GATEWAY_DIMENSIONS[key].map((d) => [d, d === 'cause' ? '$.responseType' : `$.${d}`])),
      });
    }
    const metric = (name: string, label: string) =>
      new Metric({
        namespace: GATEWAY_NAMESPACE,
        metricName: name,
        dimensionsMap: { site: siteId },
        statistic: 'Sum',
        period: PERIOD,
        label,
      });
    this.senderRefused = metric(GATEWAY_METRIC.senderRefused, 'sender refused (POST, policy or unknown path)');
    this.callbacksAnswered = metric(GATEWAY_METRIC.callbacksAnswered, 'callbacks answered 200');
    this.senderLockedOut = new MathExpression({
      expression: 'IF(FILL(refused, 0) > 0 AND FILL(answered, 0) == 0, 1, 0)',
      usingMetrics: { refused: this.senderRefused, answered: this.callbacksAnswered },
      period: PERIOD,
      label: 'sender refused, nothing accepted',
    });
    this.refusedByCause = refusedSearch(`site="${siteId}"`, PERIOD);
  }

  /** What the alarm says: what it means, how to list the refused addresses, and the one change that fixes it. */
  alarmDescription(siteId: string): string {
    return [
      `the gateway refused the sender's callbacks for ${SENDER_REFUSED_MINUTES} minutes and accepted none (${SENDER_REFUSED_RULE}): N3 gives up after 5 tries.`,
      `Refused addresses: CloudWatch Logs Insights on ${this.accessLogs.logGroupName}: ${SENDER_REFUSED_QUERY}.`,
      'Fix:',
      // A site that allows any sender has no address rule: only the path can refuse it.
      ...(this.restricted
        ? [
            `ACCESS_DENIED = the sender's new egress address is not in senderCidrs: add it for site ${siteId} (sites/${siteId}.json or cdk.json) and deploy;`,
          ]
        : []),
      'MISSING_AUTHENTICATION_TOKEN = the registered base URL lacks the current secretPathSegment: have the MIAC register CallbackBaseUrl with it.',
    ].join(' ');
  }
}

/** Logs Insights: who was refused, how, how often (the access log's own fields). */
export const SENDER_REFUSED_QUERY =
  'filter httpMethod = "POST" and responseType in ["ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN"] | stats count(*) as refused, max(requestTime) as last by ip, responseType | sort refused desc';

/** A search over the refused metric (`filter` narrows it: a site, or nothing for every site). */
export function refusedSearch(filter: string, period: Duration): IMetric {
  return new MathExpression({
    expression: `SEARCH('{${GATEWAY_NAMESPACE},cause,site} MetricName="${GATEWAY_METRIC.refused}"${filter ? ` ${filter}` : ''}', 'Sum', ${period.toSeconds()})`,
    label: '',
    period,
  });
}
