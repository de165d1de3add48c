import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
  type IResource,
} from 'aws-cdk-lib/aws-apigateway';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ACK_TEXT } from '../lambdas/protocol/ack';
import { MESSAGE_TYPES, type MessageType } from '../lambdas/protocol/catalog';

export interface CallbackApiProps {
  readonly siteId: string;
  readonly displayName: string;
  readonly receivers: Readonly<Record<MessageType, LambdaFunction>>;
  readonly fallback: LambdaFunction;
  readonly senderCidrs: readonly string[];
  readonly secretPathSegment?: string;
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

  constructor(scope: Construct, id: string, props: CallbackApiProps) {
    super(scope, id);

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.RETAIN });
    this.api = new RestApi(this, 'Api', {
      restApiName: `n3-callback-${props.siteId}`,
      description: `N3.Health callback endpoint: ${props.displayName}`,
      endpointTypes: [EndpointType.REGIONAL],
      binaryMediaTypes: ['*/*'],
      cloudWatchRole: true,
      deployOptions: {
        stageName: STAGE,
        throttlingRateLimit: 100,
        throttlingBurstLimit: 200,
        loggingLevel: MethodLoggingLevel.ERROR,
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
    // Any other path or method still gets an ack (404/405) and lands in quarantine.
    base.addProxy({ defaultIntegration: new LambdaIntegration(props.fallback), anyMethod: true });

    addAckGatewayResponses(this.api);
    const path = props.secretPathSegment ? `${props.secretPathSegment}/` : '';
    this.baseUrl = `${this.api.url}${path}`;
  }
}

/** Only the regional platform's addresses may call: an explicit deny for everyone else. */
function senderOnly(cidrs: readonly string[]): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
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
      templates: { 'application/json': `{"MessageId":"","Message":"${text}","Status":"Failed"}` },
    });
  }
}
