import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

/*
 * The peer: the same job done the standard AWS way, for comparison only (never shipped). Powertools
 * idempotency (`makeIdempotent` + `DynamoDBPersistenceLayer`, keyed by MessageId) around one SQS FIFO
 * send. It stores a hash and the response, not the payload; it has no deferred forwarding (a failed
 * send is a 5xx, the record is removed, the sender retries), no conflict detection by content (the
 * same MessageId with other content gets the first answer), no claim check (a payload goes into the
 * queue message whatever its size, up to SQS's limit), and no validation against the spec's tables.
 */

export interface PeerOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly tableName: string;
  readonly queueUrl: string;
}

export function createPeerHandler(options: PeerOptions): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: options.tableName, awsSdkV3Client: options.dynamodb });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'MessageId', expiresAfterSeconds: 7 * 86_400 });
  // As the Lambda wrapper would: the in-progress record then expires with the invocation's deadline.
  config.registerLambdaContext({ getRemainingTimeInMillis: () => 15_000 } as Context);
  const forward = makeIdempotent(
    async (message: Record<string, unknown>) => {
      const group = String(
        message.IdMedDocumentMis ?? message.IdSourceMis ?? message.IdMSEMis ?? message.IdDocumentMis ?? message.MessageId,
      );
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.queueUrl,
          MessageBody: JSON.stringify(message),
          MessageGroupId: group.replace(/[^\x21-\x7e]/g, '_').slice(0, 128),
          MessageDeduplicationId: String(message.MessageId),
        }),
      );
      return { MessageId: message.MessageId, Message: 'Сообщение принято успешно', Status: 'Success' };
    },
    { persistenceStore, config },
  );
  return async (event) => {
    const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    try {
      const ack = await forward(JSON.parse(text) as Record<string, unknown>);
      return { statusCode: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(ack) };
    } catch {
      return { statusCode: 503, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: '{"Status":"Failed"}' };
    }
  };
}
