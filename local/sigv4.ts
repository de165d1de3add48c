import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ACK_TEXT, fixedAck } from '../contract/ack';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './clients';
import type { LambdaHandler } from './gateway';

/*
 * The document API's IAM authorisation, as far as one machine can check it: deployed, API Gateway
 * verifies each request's SigV4 signature (service execute-api) before the function runs, then IAM
 * decides whether the signer's policy allows the route. Locally there is no IAM: a signed request is
 * verified against the local dummy credentials (access key `local`, secret `local`, region
 * eu-central-1) by recomputing its signature with the AWS SDK's own signer; what IAM would decide
 * (policies, the account restriction) is not checked. Unsigned requests pass by default, since the
 * console and the CLI call the API unsigned on loopback; `documentsAuth: 'required'` refuses them too.
 */

/** `verify-signed` (npm start): check signed requests, let unsigned ones through. `required`: refuse unsigned ones as well. */
export type DocumentsAuth = 'verify-signed' | 'required';

export type SigV4Verdict = { readonly signed: false } | { readonly signed: true; readonly problem?: string };

const SERVICE = 'execute-api';
// AWS refuses a signature whose time is more than 15 minutes off ("Signature expired").
const MAX_SKEW_MS = 15 * 60_000;
// Each group stops at the delimiter that follows it: one pass, linear in the header's length.
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const PROBLEMS = {
  malformed: 'заголовок Authorization не в формате AWS4-HMAC-SHA256',
  noDate: 'нет заголовка X-Amz-Date',
  expired: 'время подписи расходится с текущим больше чем на 15 минут',
  accessKey: `неизвестный ключ доступа (локально: ${LOCAL_CREDENTIALS.accessKeyId})`,
  scope: `подпись не для ${LOCAL_REGION}/${SERVICE} или не того дня`,
  payloadHash: 'x-amz-content-sha256 не совпадает с телом запроса',
  mismatch: 'подпись не совпадает: проверьте секретный ключ, путь, параметры, подписанные заголовки и тело',
} as const;

/** Recomputes the request's SigV4 signature with the local credentials and compares. */
export async function verifySigV4(event: APIGatewayProxyEvent, now = new Date()): Promise<SigV4Verdict> {
  const headers = new Map<string, string>();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) headers.set(name.toLowerCase(), (values ?? []).join(','));
  const authorization = headers.get('authorization');
  if (authorization === undefined) return { signed: false };
  const parsed = AUTHORIZATION.exec(authorization);
  if (!parsed) return { signed: true, problem: PROBLEMS.malformed };
  const [, accessKey, day, region, service, signedHeaderList, signature] = parsed as unknown as string[];
  const date = AMZ_DATE.exec(headers.get('x-amz-date') ?? '');
  if (!date) return { signed: true, problem: PROBLEMS.noDate };
  const signedAt = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
  if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_SKEW_MS) return { signed: true, problem: PROBLEMS.expired };
  if (accessKey !== LOCAL_CREDENTIALS.accessKeyId) return { signed: true, problem: PROBLEMS.accessKey };
  if (region !== LOCAL_REGION || service !== SERVICE || day !== headers.get('x-amz-date')!.slice(0, 8))
    return { signed: true, problem: PROBLEMS.scope };

  const body = event.body === null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const declaredHash = headers.get('x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(body).digest('hex'))
    return { signed: true, problem: PROBLEMS.payloadHash };

  // Exactly the headers the client signed, as it sent them; the signer recomputes the rest from the request.
  const signedNames = signedHeaderList!.split(';');
  const request = new HttpRequest({
    method: event.httpMethod,
    protocol: 'http:',
    hostname: headers.get('host') ?? '',
    path: event.path,
    query: (event.multiValueQueryStringParameters ?? {}) as Record<string, string[]>,
    headers: Object.fromEntries(signedNames.map((name) => [name, headers.get(name) ?? ''])),
    body,
  });
  const signer = new SignatureV4({
    service: SERVICE,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const expected = await signer.sign(request, { signingDate: signedAt, signableHeaders: new Set(signedNames) });
  const expectedSignature = /Signature=([0-9a-f]{64})$/.exec(String(expected.headers.authorization))?.[1] ?? '';
  const matches = timingSafeEqual(Buffer.from(expectedSignature.padEnd(64)), Buffer.from(signature!.padEnd(64)));
  return matches ? { signed: true } : { signed: true, problem: PROBLEMS.mismatch };
}

/** The document function behind the local signature check; refusals are 403 acks, as the deployed gateway answers. */
export function withSigV4(handler: LambdaHandler, mode: DocumentsAuth): LambdaHandler {
  return async (event, context) => {
    const verdict = await verifySigV4(event);
    const problem = verdict.signed ? verdict.problem : mode === 'required' ? 'запрос не подписан (SigV4)' : undefined;
    if (problem === undefined) return handler(event, context);
    return {
      statusCode: 403,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(fixedAck(`${ACK_TEXT.rejected}: доступ запрещён — ${problem}`)),
    };
  };
}
