import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AuthorizationType,
  type CfnRestApi,
  EndpointAccessMode,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
  SecurityPolicy,
  type IResource,
  type MethodDeploymentOptions,
} from 'aws-cdk-lib/aws-apigateway';
import { AccountRootPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { retentionFor } from './logs';
import { accessLogFormat, GatewayRefusals } from './refusals';
import { ACK_TEXT, fixedAck } from '../contract/ack';
import type { MessageType } from '../contract/catalog';
import { apiName, CALLBACK_ROUTES, DOCUMENT_ROUTES, DOCUMENTS_SEGMENT, SECRET_PLACEHOLDER, STAGE } from '../contract/names';

export interface CallbackApiProps {
  readonly siteId: string;
  readonly displayName: string;
  readonly receivers: Readonly<Record<MessageType, LambdaFunction>>;
  readonly fallback: LambdaFunction;
  /** The document API's function: `/documents…`, IAM-authorised (SigV4). */
  readonly documents: LambdaFunction;
  /** Source addresses allowed on the callback routes; empty only for a site that allows any sender (site-config.ts). */
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
   * The ARN of the fleet's shared WAF web ACL (lib/oversize-guard.ts) to associate with the stage: it answers
   * a declared body over the functions' limit with an ack-shaped 413 before Lambda is invoked (Lambda could
   * not take it: see contract/limits.ts).
   * @default - no web ACL (the site turned the guard off)
   */
  readonly oversizeGuardArn?: string;
  /**
   * Stage throttling: steady requests a second; the burst is twice it.
   * @default 100
   */
  readonly maxRequestsPerSecond?: number;
  /**
   * The document routes' own steady rate (burst twice it), below the sender's: see site-config.ts.
   * @default 10
   */
  readonly documentRequestsPerSecond?: number;
}

/**
 * The TLS floor of the API's own endpoint. Without a policy a regional REST API keeps the legacy
 * `TLS_1_0`. This one takes TLS 1.3 and TLS 1.2 with forward-secret (ECDHE) AES-GCM suites only, with
 * post-quantum hybrid key exchange offered: in API Gateway's table of policies for regional and private
 * REST APIs ("Supported security policies", API Gateway developer guide), and what any TLS 1.2 client
 * (Java 8 and later among them) speaks. Enhanced (`SecurityPolicy_*`) policies require an endpoint
 * access mode; STRICT, which AWS recommends, also refuses requests whose TLS SNI names another host.
 */
export const TLS_POLICY = {
  securityPolicy: SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09,
  endpointAccessMode: EndpointAccessMode.STRICT,
} as const;

/** Where an output shows the site's secret path segment (the value itself stays in the site's definition). */
export { SECRET_PLACEHOLDER };

/**
 * The site's callback URL: `POST https://…/n3[/<secret>]/<MessageType>`, one route and one
 * function per type, a catch-all for every other path. Bodies are taken as binary (base64
 * to the function) so that bytes arrive untouched whatever charset the sender declares.
 */
export class CallbackApi extends Construct {
  readonly api: RestApi;
  /**
   * What the MIAC registers and what goes into `Reply-To`, as an output may show it: with the site's secret
   * segment as the placeholder `<secretPathSegment>` (outputs are readable by anyone who may describe the stack).
   */
  readonly baseUrl: string;
  /** The gateway's own refusals, counted from the access log (lib/refusals.ts). */
  readonly refusals: GatewayRefusals;
  /** Where `/documents` lives (the stage root): for the CLI's `--api` and the consumer library. */
  readonly documentsUrl: string;

  constructor(scope: Construct, id: string, props: CallbackApiProps) {
    super(scope, id);

    const retention = retentionFor(props.retentionDays);
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention, removalPolicy: RemovalPolicy.RETAIN });
    const rate = props.maxRequestsPerSecond ?? 100;
    const documentRate = props.documentRequestsPerSecond ?? Math.min(10, rate);
    const loggingLevel = props.executionLogs ? MethodLoggingLevel.ERROR : MethodLoggingLevel.OFF;
    // Per-method (detailed) metrics are off: their `Resource` dimension is the resource path, which holds the
    // secret segment, and each method's series would be billed as custom metrics. The API-wide ones (ApiName,
    // Stage) are published anyway; the functions count each type's outcomes.
    const metricsEnabled = false;
    // A method's own settings replace the stage's for it: repeat logging and metrics beside the throttle.
    const documentMethod: MethodDeploymentOptions = {
      throttlingRateLimit: documentRate,
      throttlingBurstLimit: 2 * documentRate,
      loggingLevel,
      dataTraceEnabled: false,
      metricsEnabled,
    };
    this.api = new RestApi(this, 'Api', {
      restApiName: apiName(props.siteId),
      description: `N3.Health callback endpoint: ${props.displayName}`,
      endpointTypes: [EndpointType.REGIONAL],
      binaryMediaTypes: ['*/*'],
      // The account-wide CloudWatch role is one setting per account and region: a site stack that wrote
      // it would fight every other site (the last deploy wins, a delete removes it for all).
      cloudWatchRole: false,
      deployOptions: {
        stageName: STAGE,
        throttlingRateLimit: rate,
        throttlingBurstLimit: 2 * rate,
        methodOptions: Object.fromEntries(DOCUMENT_METHODS.map((method) => [method, documentMethod])),
        loggingLevel,
        dataTraceEnabled: false, // it would log bodies: medical data
        metricsEnabled,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        // No resource path: it holds the secret segment, the only gate of a site open to any sender. Each
        // function's own log line names the type; the gateway's refusals are counted from this log.
        accessLogFormat: accessLogFormat(props.siteId),
      },
      policy: resourcePolicy(props.senderCidrs),
    });
    Object.assign(this.api.node.defaultChild as CfnRestApi, TLS_POLICY);

    const base: IResource = props.secretPathSegment ? this.api.root.addResource(props.secretPathSegment) : this.api.root;
    // One invoke permission per function for this API, not one per method: a method-scoped one names the
    // resource path (the secret segment) in the function's resource policy.
    const integration = (fn: LambdaFunction) => new LambdaIntegration(fn, { scopePermissionToMethod: false });
    const callbackResources = CALLBACK_ROUTES.map((type) => {
      const resource = base.addResource(type);
      resource.addMethod('POST', integration(props.receivers[type]));
      return resource;
    });
    // Any other path or method still gets an ack (404/405) and is kept under rejected/ in the bucket.
    base.addProxy({ defaultIntegration: integration(props.fallback), anyMethod: true });
    this.refusals = new GatewayRefusals(this, 'Refusals', {
      siteId: props.siteId,
      accessLogs,
      senderCidrs: props.senderCidrs,
      callbackResources,
    });

    // The document API, for the MIS (not the sender): at the stage root, whatever the secret segment; IAM only.
    const documentsIntegration = new LambdaIntegration(props.documents);
    const iam = { authorizationType: AuthorizationType.IAM };
    // From the route table npm start's gateway routes by too (contract/names.ts); each method gets its own
    // throttle (methodOptions above).
    for (const route of DOCUMENT_ROUTES) {
      this.api.root.resourceForPath(route.path).addMethod(route.method, documentsIntegration, iam);
    }
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
    if (props.oversizeGuardArn) {
      new CfnWebACLAssociation(this, 'OversizeGuardAssociation', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: props.oversizeGuardArn,
      });
    }

    addAckGatewayResponses(this.api);
    this.baseUrl = `${this.api.url}${props.secretPathSegment ? `${SECRET_PLACEHOLDER}/` : ''}`;
  }
}

/** The document methods (stage method-settings keys): their own, lower throttle. */
const DOCUMENT_METHODS = DOCUMENT_ROUTES.map((route) => `${route.path}/${route.method}`);

/** The document routes, as resource-policy patterns (stage/method/path). */
const DOCUMENT_POLICY_RESOURCES = [`execute-api:/*/*/${DOCUMENTS_SEGMENT}`, `execute-api:/*/*/${DOCUMENTS_SEGMENT}/*`];

/**
 * Only the regional platform's addresses may call the callback routes: an explicit deny for everyone
 * else (no deny only where a site explicitly allows any sender, behind its secret path segment). The
 * document routes are for the MIS, wherever it runs: IAM-authorised, and allowed here to this account's
 * principals only (an Allow for anyone would let any AWS account's signed requests in).
 */
function resourcePolicy(cidrs: readonly string[]): PolicyDocument {
  const denyOthers = new PolicyStatement({
    effect: Effect.DENY,
    principals: [new AnyPrincipal()],
    actions: ['execute-api:Invoke'],
    notResources: DOCUMENT_POLICY_RESOURCES,
    conditions: { NotIpAddress: { 'aws:SourceIp': [...cidrs] } },
  });
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        notResources: DOCUMENT_POLICY_RESOURCES,
      }),
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [new AccountRootPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: DOCUMENT_POLICY_RESOURCES,
      }),
      ...(cidrs.length > 0 ? [denyOthers] : []),
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
