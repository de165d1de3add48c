import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Metric, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
  type IResource,
} from 'aws-cdk-lib/aws-apigateway';
import { AccountRootPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { retentionFor } from './logs';
import { greaterThanPattern, MAX_BODY_BYTES } from '../lambdas/contract/limits';
import { ACK_TEXT, fixedAck, OVERSIZE_ACK } from '../lambdas/protocol/ack';
import { MESSAGE_TYPES, type MessageType } from '../lambdas/protocol/catalog';

export interface CallbackApiProps {
  readonly siteId: string;
  readonly displayName: string;
  readonly receivers: Readonly<Record<MessageType, LambdaFunction>>;
  readonly fallback: LambdaFunction;
  /** The document API's function: `/documents…`, IAM-authorised (SigV4). */
  readonly documents: LambdaFunction;
  readonly senderCidrs: readonly string[];
  readonly secretPathSegment?: string;
  /** Days every log group of the API keeps its logs (rounded up to what CloudWatch offers). */
  readonly retentionDays: number;
  /**
   * Stage execution logs (errors only) into a log group this stack owns. Needs the account's API
   * Gateway CloudWatch role, set once per account and region by the `N3Callback-account` stack.
   * @default false
   */
  readonly executionLogs?: boolean;
  /**
   * An AWS WAF web ACL that answers a declared body over the functions' limit with an ack-shaped 413
   * before Lambda is invoked (Lambda could not take it: see lambdas/contract/limits.ts).
   * @default true
   */
  readonly oversizeGuard?: boolean;
  /**
   * Stage throttling: steady requests a second; the burst is twice it.
   * @default 100
   */
  readonly maxRequestsPerSecond?: number;
}

export const STAGE = 'n3';

/**
 * The site's callback URL: `POST https://…/n3[/<secret>]/<MessageType>`, one route and one
 * function per type, a catch-all for every other path. Bodies are taken as binary (base64
 * to the function) so that bytes arrive untouched whatever charset the sender declares.
 */
export class CallbackApi extends Construct {
  readonly api: RestApi;
  /** What the MIAC registers and what goes into `Reply-To`. */
  readonly baseUrl: string;
  /** Where `/documents` lives (the stage root): for the CLI's `--api` and the consumer library. */
  readonly documentsUrl: string;
  /** The oversize guard, when enabled. */
  readonly webAcl?: CfnWebACL;
  /** Requests the oversize guard rejected (WAF's own metric), when enabled. */
  readonly oversizeRefused?: IMetric;

  constructor(scope: Construct, id: string, props: CallbackApiProps) {
    super(scope, id);

    const retention = retentionFor(props.retentionDays);
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention, removalPolicy: RemovalPolicy.RETAIN });
    this.api = new RestApi(this, 'Api', {
      restApiName: `n3-callback-${props.siteId}`,
      description: `N3.Health callback endpoint: ${props.displayName}`,
      endpointTypes: [EndpointType.REGIONAL],
      binaryMediaTypes: ['*/*'],
      // The account-wide CloudWatch role is one setting per account and region: a site stack that wrote
      // it would fight every other site (the last deploy wins, a delete removes it for all).
      cloudWatchRole: false,
      deployOptions: {
        stageName: STAGE,
        throttlingRateLimit: props.maxRequestsPerSecond ?? 100,
        throttlingBurstLimit: 2 * (props.maxRequestsPerSecond ?? 100),
        loggingLevel: props.executionLogs ? MethodLoggingLevel.ERROR : MethodLoggingLevel.OFF,
        dataTraceEnabled: false, // it would log bodies: medical data
        metricsEnabled: true,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
      policy: props.senderCidrs.length > 0 ? senderOnly(props.senderCidrs) : undefined,
    });

    const base: IResource = props.secretPathSegment ? this.api.root.addResource(props.secretPathSegment) : this.api.root;
    for (const type of MESSAGE_TYPES) {
      base.addResource(type).addMethod('POST', new LambdaIntegration(props.receivers[type]));
    }
    // Any other path or method still gets an ack (404/405) and is kept under rejected/ in the bucket.
    base.addProxy({ defaultIntegration: new LambdaIntegration(props.fallback), anyMethod: true });

    // The document API, for the MIS (not the sender): at the stage root, whatever the secret segment; IAM only.
    const documentsIntegration = new LambdaIntegration(props.documents);
    const iam = { authorizationType: AuthorizationType.IAM };
    const documents = this.api.root.addResource('documents');
    documents.addMethod('GET', documentsIntegration, iam);
    const document = documents.addResource('{documentId}');
    document.addMethod('GET', documentsIntegration, iam);
    document.addResource('expectations').addResource('{stage}').addMethod('PUT', documentsIntegration, iam);
    this.documentsUrl = this.api.url;

    if (props.executionLogs) {
      // API Gateway writes execution logs to this fixed name and would create it itself, never expiring:
      // owning it first gives it the site's retention.
      new LogGroup(this, 'ExecutionLogs', {
        logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${STAGE}`,
        retention,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    if (props.oversizeGuard ?? true) {
      const guard = oversizeGuard(this, this.api, props.siteId);
      this.webAcl = guard;
      this.oversizeRefused = new Metric({
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        dimensionsMap: { WebACL: guard.name, Rule: OVERSIZE_RULE, Region: Stack.of(this).region },
        statistic: 'Sum',
        period: Duration.minutes(5),
        label: 'rejected as too large (WAF)',
      });
    }

    addAckGatewayResponses(this.api);
    const path = props.secretPathSegment ? `${props.secretPathSegment}/` : '';
    this.baseUrl = `${this.api.url}${path}`;
  }
}

/**
 * Refuses, with the protocol's 413 ack, any request that declares a body larger than the functions
 * take. WAF compares header values as text, hence a pattern for "a number above the limit". A body
 * sent chunked (no Content-Length) is not seen here: up to ~4.7 MB the function itself answers 413;
 * above that Lambda refuses the event and the gateway answers its own 5xx (README: limits).
 */
const OVERSIZE_RULE = 'oversize-body';

function oversizeGuard(scope: Construct, api: RestApi, siteId: string): CfnWebACL & { name: string } {
  const name = `n3-callback-${siteId}`;
  const webAcl = new CfnWebACL(scope, 'OversizeGuard', {
    name,
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    description: `N3 callbacks ${siteId}: bodies over ${MAX_BODY_BYTES} bytes get a 413 ack before Lambda`,
    visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: false, metricName: name },
    customResponseBodies: {
      tooLarge: { contentType: 'APPLICATION_JSON', content: JSON.stringify(OVERSIZE_ACK) },
    },
    rules: [
      {
        name: OVERSIZE_RULE,
        priority: 0,
        action: { block: { customResponse: { responseCode: 413, customResponseBodyKey: 'tooLarge' } } },
        statement: {
          regexMatchStatement: {
            fieldToMatch: { singleHeader: { Name: 'content-length' } },
            regexString: greaterThanPattern(MAX_BODY_BYTES),
            textTransformations: [{ priority: 0, type: 'NONE' }],
          },
        },
        // Sampled requests would keep headers of rejected callbacks; the count is what operators need.
        visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: false, metricName: OVERSIZE_RULE },
      },
    ],
  });
  new CfnWebACLAssociation(scope, 'OversizeGuardAssociation', { resourceArn: api.deploymentStage.stageArn, webAclArn: webAcl.attrArn });
  return webAcl as CfnWebACL & { name: string };
}

/** The document routes, as resource-policy patterns (stage/method/path). */
export const DOCUMENT_ROUTES = ['execute-api:/*/*/documents', 'execute-api:/*/*/documents/*'];

/**
 * Only the regional platform's addresses may call the callback routes: an explicit deny for everyone
 * else. The document routes are for the MIS, wherever it runs: IAM-authorised, and allowed here to this
 * account's principals only (an Allow for anyone would let any AWS account's signed requests in).
 */
function senderOnly(cidrs: readonly string[]): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        notResources: DOCUMENT_ROUTES,
      }),
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [new AccountRootPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: DOCUMENT_ROUTES,
      }),
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        notResources: DOCUMENT_ROUTES,
        conditions: { NotIpAddress: { 'aws:SourceIp': [...cidrs] } },
      }),
    ],
  });
}

/**
 * What the gateway answers on its own (before any function runs) is still the protocol's ack,
 * so the sender and its operators always read the same shape.
 */
function addAckGatewayResponses(api: RestApi): void {
  const headers = { 'Content-Type': "'application/json; charset=utf-8'" };
  const responses: Array<[string, ResponseType, string, string]> = [
    ['MissingToken', ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', `${ACK_TEXT.rejected}: неизвестный адрес или метод`],
    ['AccessDenied', ResponseType.ACCESS_DENIED, '403', `${ACK_TEXT.rejected}: доступ запрещён`],
    ['TooLarge', ResponseType.REQUEST_TOO_LARGE, '413', ACK_TEXT.tooLarge],
    ['Throttled', ResponseType.THROTTLED, '429', ACK_TEXT.unavailable],
    ['Default4xx', ResponseType.DEFAULT_4XX, '', ACK_TEXT.rejected],
    ['Default5xx', ResponseType.DEFAULT_5XX, '', ACK_TEXT.unavailable],
  ];
  for (const [id, type, statusCode, text] of responses) {
    api.addGatewayResponse(id, {
      type,
      ...(statusCode ? { statusCode } : {}),
      responseHeaders: headers,
      templates: { 'application/json': JSON.stringify(fixedAck(text)) },
    });
  }
}
