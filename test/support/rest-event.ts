import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, SNSEventRecord, SNSMessage } from 'aws-lambda';
import { FLEET_STACK_NAME, STAGE } from '../../contract/names';
import { findMessageType } from '../../contract/catalog';

/*
 * A REST (v1) proxy event shaped like a captured real one (test/fixtures/apigw-rest/README.md names
 * the source), routed the way our stack's gateway routes: `POST /n3/<secret>/<Type>` reaches the
 * type's resource; any other path or method falls through to `<secret>/{proxy+}`. `path` carries
 * the secret but not the stage; `requestContext.path` carries both.
 */

const CAPTURED = JSON.parse(readFileSync(new URL('../fixtures/apigw-rest/no-auth.json', import.meta.url), 'utf8')) as APIGatewayProxyEvent;

export interface RestRequest {
  /** The path after the stage and secret segment, e.g. `/CDAStatus`. */
  readonly path: string;
  readonly method?: string;
  readonly body?: string | Buffer | null;
  readonly secret?: string;
  readonly headers?: Record<string, string>;
}

export function restProxyEvent(request: RestRequest): APIGatewayProxyEvent {
  const method = request.method ?? 'POST';
  const prefix = request.secret ? `/${request.secret}` : '';
  const path = `${prefix}${request.path}`;
  const segments = request.path.split('/').filter(Boolean);
  const typed = method === 'POST' && segments.length === 1 && findMessageType(segments[0]!) === segments[0];
  const resource = typed ? path : `${prefix}/{proxy+}`;
  const raw = request.body ?? null;
  const body = raw === null ? null : Buffer.from(raw).toString('base64');
  const headers: Record<string, string> = {
    ...CAPTURED.headers,
    'User-Agent': 'N3.Health callback delivery module',
    'Content-Type': 'application/json; charset=utf-8',
    ...(raw === null ? {} : { 'Content-Length': String(Buffer.byteLength(raw)) }),
    ...request.headers,
  } as Record<string, string>;
  const requestId = randomUUID();
  return {
    ...CAPTURED,
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    pathParameters: typed ? null : { proxy: request.path.replace(/^\//, '') },
    body,
    isBase64Encoded: body !== null,
    requestContext: {
      ...CAPTURED.requestContext,
      resourcePath: resource,
      httpMethod: method,
      path: `/${STAGE}${path}`,
      stage: STAGE,
      requestId,
      requestTimeEpoch: Date.now(),
    },
  };
}

/** Where the fleet's tick comes from (lib/fleet-stack.ts): its account, region, rule and topic. */
const TICK = {
  account: '123456789012',
  region: 'eu-central-1',
  // A rule without a name of its own is named by CloudFormation <stack>-<logical id>-<suffix> (hash and suffix made up here).
  rule: `${FLEET_STACK_NAME}-TickSchedule2E5C9F17-1XQ3V7LM0A9ZK`,
  topic: 'n3-callback-fleet-tick',
} as const;

/** The scheduled event EventBridge makes of the fleet's `rate(1 minute)` rule: what the rule publishes to the tick topic. */
export function scheduledEvent() {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: TICK.account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: TICK.region,
    resources: [`arn:aws:events:${TICK.region}:${TICK.account}:rule/${TICK.rule}`],
    detail: {},
  };
}

/** An SNS→Lambda record as Lambda sends it: `Subject` is null, not absent, when there is none. */
type SnsRecord = Omit<SNSEventRecord, 'Sns'> & { Sns: Omit<SNSMessage, 'Subject'> & { Subject: string | null } };

/**
 * What Lambda hands a site's Sweep each minute: an SNS notification of the fleet's tick topic, one record, whose
 * `Message` is the JSON of the scheduled event above (an EventBridge rule with an SNS target publishes the event
 * as it is, with no subject and no message attributes). Field names as SNS→Lambda events spell them
 * (`SigningCertUrl`, `UnsubscribeUrl`, `EventSubscriptionArn`).
 */
export function snsTickEvent(): { Records: SnsRecord[] } {
  const topicArn = `arn:aws:sns:${TICK.region}:${TICK.account}:${TICK.topic}`;
  const subscriptionArn = `${topicArn}:${randomUUID()}`;
  const event = scheduledEvent();
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: topicArn,
          Subject: null, // SNS sends null when the publisher gave none (aws-lambda's types say optional)
          Message: JSON.stringify(event),
          Timestamp: new Date().toISOString(),
          SignatureVersion: '1',
          Signature: Buffer.from(randomUUID()).toString('base64'),
          SigningCertUrl: `https://sns.${TICK.region}.amazonaws.com/SimpleNotificationService-0000000000000000000000000000000.pem`,
          UnsubscribeUrl: `https://sns.${TICK.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
          MessageAttributes: {},
        },
      },
    ],
  };
}
