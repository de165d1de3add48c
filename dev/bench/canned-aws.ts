import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ClientOverrides } from '../../lambdas/adapters';

/*
 * For measuring our code, not the network: the real SDK clients (serialisation, middleware,
 * signing, deserialisation all run) over a transport that answers at once from memory and
 * counts every call. DynamoDB's conditional put is honoured so duplicates take their real path.
 */

interface HttpRequestLike {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

export interface CannedAws {
  /** SDK client settings for the deployed wiring (wireSite's `clients`): its real clients, on this transport. */
  readonly clients: ClientOverrides;
  /** Operations in call order, e.g. "DynamoDB.PutItem", "SQS.SendMessage", "S3.PUT". */
  readonly calls: string[];
}

export function cannedAws(): CannedAws {
  const calls: string[] = [];
  const items = new Map<string, unknown>();

  const respond = (statusCode: number, body: string, contentType = 'application/x-amz-json-1.0') => ({
    response: {
      statusCode,
      reason: '',
      headers: { 'content-type': contentType, 'x-amzn-requestid': 'bench' },
      body: Readable.from([Buffer.from(body)]),
    },
  });

  const handle = async (request: HttpRequestLike) => {
    const target = request.headers['x-amz-target'] ?? '';
    const text =
      typeof request.body === 'string' ? request.body : request.body instanceof Uint8Array ? Buffer.from(request.body).toString() : '';
    if (target.startsWith('DynamoDB_20120810.')) {
      const operation = target.slice('DynamoDB_20120810.'.length);
      calls.push(`DynamoDB.${operation}`);
      if (operation === 'PutItem') {
        const input = JSON.parse(text) as { Item: { MessageId: { S: string } } };
        const id = input.Item.MessageId.S;
        if (items.has(id)) {
          return respond(
            400,
            JSON.stringify({
              __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
              message: 'The conditional request failed',
              Item: items.get(id),
            }),
          );
        }
        items.set(id, { ...input.Item, state: { S: 'FORWARDED' } });
      }
      return respond(200, '{}');
    }
    if (target.startsWith('AmazonSQS.')) {
      calls.push(`SQS.${target.slice('AmazonSQS.'.length)}`);
      const { MessageBody = '' } = JSON.parse(text) as { MessageBody?: string };
      const md5 = createHash('md5').update(MessageBody).digest('hex');
      return respond(200, JSON.stringify({ MessageId: 'bench', MD5OfMessageBody: md5 }));
    }
    calls.push(`S3.${request.method}`);
    return respond(200, '', 'application/xml');
  };

  const requestHandler = { handle, updateHttpClientConfig: () => undefined, httpHandlerConfigs: () => ({}) };
  const common = {
    region: 'eu-central-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestHandler: requestHandler as never,
  };
  return { clients: { dynamodb: common, sqs: common, s3: common }, calls };
}
