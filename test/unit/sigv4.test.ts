import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/clients';
import type { LambdaHandler } from '../../local/gateway';
import { lambdaContext } from '../../local/gateway';
import { withSigV4 } from '../../local/sigv4';

/*
 * The local document API's two modes: `npm start` (verify-signed) checks every signed request and lets
 * unsigned loopback calls through (its console and CLI); `required` refuses those too.
 * test/e2e/sigv4.test.ts runs curl, botocore and the SDK against the running stack.
 */

const host = '127.0.0.1:3000';

async function event(signWith?: string): Promise<APIGatewayProxyEvent> {
  let headers: Record<string, string> = { host, accept: 'application/json' };
  if (signWith) {
    const signer = new SignatureV4({
      service: 'execute-api',
      region: LOCAL_REGION,
      credentials: { ...LOCAL_CREDENTIALS, secretAccessKey: signWith },
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign(
      new HttpRequest({ method: 'GET', hostname: '127.0.0.1', port: 3000, path: '/documents', query: { silent: 'true' }, headers }),
    );
    headers = signed.headers as Record<string, string>;
  }
  return {
    httpMethod: 'GET',
    path: '/documents',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: { silent: 'true' },
    multiValueQueryStringParameters: { silent: ['true'] },
    body: null,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

const reached: LambdaHandler = async (): Promise<APIGatewayProxyResult> => ({ statusCode: 200, body: '[]' });
const answer = (mode: 'verify-signed' | 'required', e: APIGatewayProxyEvent) =>
  withSigV4(reached, mode)(e, lambdaContext('t', 'Documents'));

describe('the local document API signature check', () => {
  it('npm start (verify-signed): a correctly signed call and an unsigned one reach the function; a wrongly signed one gets 403', async () => {
    expect((await answer('verify-signed', await event(LOCAL_CREDENTIALS.secretAccessKey))).statusCode).toBe(200);
    expect((await answer('verify-signed', await event())).statusCode).toBe(200);
    const refused = await answer('verify-signed', await event('wrong'));
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ Status: 'Failed', Message: expect.stringContaining('подпись не совпадает') });
  });

  it('required: an unsigned call gets 403 too', async () => {
    expect((await answer('required', await event(LOCAL_CREDENTIALS.secretAccessKey))).statusCode).toBe(200);
    const refused = await answer('required', await event());
    expect([refused.statusCode, JSON.parse(refused.body).Message]).toEqual([403, expect.stringContaining('не подписан')]);
  });
});
