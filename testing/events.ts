import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** An API Gateway REST proxy event as the deployed gateway sends it (binary media types: every body base64). */
export function proxyEvent(options: {
  path: string;
  body?: string | Buffer | null;
  method?: string;
  headers?: Record<string, string>;
  base64?: boolean;
}): APIGatewayProxyEvent {
  const base64 = options.base64 ?? true;
  const raw = options.body ?? null;
  const body = raw === null ? null : base64 ? Buffer.from(raw).toString('base64') : raw.toString();
  const headers = { 'Content-Type': 'application/json; charset=utf-8', ...options.headers };
  return {
    resource: options.path,
    path: options.path,
    httpMethod: options.method ?? 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: base64 && body !== null,
    requestContext: { requestId: randomUUID(), identity: { sourceIp: '10.0.0.1' } } as APIGatewayProxyEvent['requestContext'],
  };
}
