import { Duration, Stack } from 'aws-cdk-lib';
import { MathExpression, Metric, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { greaterThanPattern, MALFORMED_LENGTH_PATTERN, MAX_BODY_BYTES } from '../contract/limits';
import { MALFORMED_LENGTH_ACK, OVERSIZE_ACK } from '../contract/ack';

export interface OversizeGuardProps {
  /** The web ACL's name: its WAF metrics carry it as the `WebACL` dimension. */
  readonly name: string;
}

const OVERSIZE_RULE = 'oversize-body';
const MALFORMED_LENGTH_RULE = 'malformed-content-length';

/**
 * One AWS WAF web ACL that refuses, with the protocol's 413 ack, any request that declares a body larger
 * than the functions take, and with a 400 ack any Content-Length that is not one plain decimal (which the
 * gateway could read otherwise than this rule does). WAF compares header values as text, hence the
 * patterns (contract/limits.ts). A body sent chunked (no Content-Length) is not seen here: up to
 * ~4.7 MB the function itself answers 413; above that Lambda refuses the event and the gateway answers its
 * own 5xx (README: limits).
 *
 * Nothing in it is per site, and one ACL may serve many stages while WAF bills per ACL ($5 a month + $1 a
 * rule): the fleet stack owns the one every site's stage is associated with (lib/fleet-stack.ts).
 */
export class OversizeGuard extends Construct {
  readonly webAcl: CfnWebACL;
  /** Requests the guard refused (WAF's own metric, per ACL: WAF cannot tell which stage a request was for). */
  readonly refused: IMetric;

  constructor(scope: Construct, id: string, props: OversizeGuardProps) {
    super(scope, id);
    const { name } = props;
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: `N3 callbacks: bodies over ${MAX_BODY_BYTES} bytes get a 413 ack, a malformed Content-Length a 400, before Lambda`,
      visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: false, metricName: name },
      customResponseBodies: {
        tooLarge: { contentType: 'APPLICATION_JSON', content: JSON.stringify(OVERSIZE_ACK) },
        malformedLength: { contentType: 'APPLICATION_JSON', content: JSON.stringify(MALFORMED_LENGTH_ACK) },
      },
      rules: [
        contentLengthRule(MALFORMED_LENGTH_RULE, 0, MALFORMED_LENGTH_PATTERN, 400, 'malformedLength'),
        contentLengthRule(OVERSIZE_RULE, 1, greaterThanPattern(MAX_BODY_BYTES), 413, 'tooLarge'),
      ],
    });
    const blocked = (rule: string) =>
      new Metric({
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        dimensionsMap: { WebACL: name, Rule: rule, Region: Stack.of(this).region },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    this.refused = new MathExpression({
      expression: 'FILL(tooLarge, 0) + FILL(malformed, 0)',
      usingMetrics: { tooLarge: blocked(OVERSIZE_RULE), malformed: blocked(MALFORMED_LENGTH_RULE) },
      period: Duration.minutes(5),
      label: 'rejected by the WAF guard (too large or malformed Content-Length)',
    });
  }
}

/** A rule blocking requests whose Content-Length header matches `pattern`, with an ack-shaped answer. */
function contentLengthRule(name: string, priority: number, pattern: string, responseCode: number, body: string): CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    action: { block: { customResponse: { responseCode, customResponseBodyKey: body } } },
    statement: {
      regexMatchStatement: {
        fieldToMatch: { singleHeader: { Name: 'content-length' } },
        regexString: pattern,
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    },
    // Sampled requests would keep headers of rejected callbacks; the count is what operators need.
    visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: false, metricName: name },
  };
}
