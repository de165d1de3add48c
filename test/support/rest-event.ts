import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { STAGE } from '../../lib/api';
import { findMessageType } from '../../lambdas/protocol/catalog';

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

/** What EventBridge hands a function on a `rate(1 minute)` schedule. */
export function scheduledEvent() {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'eu-central-1',
    resources: ['arn:aws:events:eu-central-1:123456789012:rule/N3Callback-mo-1-ReconcileSchedule'],
    detail: {},
  };
}
