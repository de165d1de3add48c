import { type AttributeValue, ConditionalCheckFailedException, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';

/*
 * Billing units, measured where AWS bills them: SDK middleware on each client. DynamoDB's own
 * figures come from `ReturnConsumedCapacity: INDEXES` (DynamoDB Local reports them as AWS does,
 * indexes included). A failed conditional write is billed too, but its error carries no figure:
 * it is counted from DynamoDB's rule — the size of the existing item, in 1 KB units.
 */

export interface Units {
  wru: number;
  rru: number;
  s3Put: number;
  s3Get: number;
  s3Delete: number;
  sqsRequests: number;
  /** SQS bills each 64 KB of a request as one request. */
  sqsChunks: number;
  calls: string[];
}

export const noUnits = (): Units => ({ wru: 0, rru: 0, s3Put: 0, s3Get: 0, s3Delete: 0, sqsRequests: 0, sqsChunks: 0, calls: [] });

export class Meter {
  units = noUnits();

  reset(): Units {
    const taken = this.units;
    this.units = noUnits();
    return taken;
  }

  dynamodb(client: DynamoDBClient, tableName: string): DynamoDBClient {
    const units = () => this.units;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context as { commandName?: string }).commandName ?? '?';
        units().calls.push(`DynamoDB.${command.replace(/Command$/, '')}`);
        const input = args.input as Record<string, unknown>;
        input.ReturnConsumedCapacity = 'INDEXES';
        try {
          const result = await next(args);
          const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
          for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
            const total = c.CapacityUnits ?? (c.WriteCapacityUnits ?? 0) + (c.ReadCapacityUnits ?? 0);
            if (/Put|Update|Delete|Write/.test(command)) units().wru += total;
            else units().rru += total;
          }
          return result;
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) {
            const existing = error.Item ?? (await fetchExisting(client, tableName, input));
            units().wru += Math.max(1, Math.ceil(itemBytes(existing ?? {}) / 1024));
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'benchMeter' },
    );
    return client;
  }

  s3(client: S3Client): S3Client {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context as { commandName?: string }).commandName ?? '?';
        this.units.calls.push(`S3.${command.replace(/Command$/, '')}`);
        if (command === 'PutObjectCommand') this.units.s3Put++;
        else if (command === 'GetObjectCommand') this.units.s3Get++;
        else if (command === 'DeleteObjectCommand') this.units.s3Delete++;
        return next(args);
      },
      { step: 'initialize', name: 'benchMeter' },
    );
    return client;
  }

  sqs(client: SQSClient): SQSClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context as { commandName?: string }).commandName ?? '?';
        this.units.calls.push(`SQS.${command.replace(/Command$/, '')}`);
        const input = args.input as { MessageBody?: string };
        this.units.sqsRequests++;
        this.units.sqsChunks += Math.max(1, Math.ceil(Buffer.byteLength(input.MessageBody ?? '') / (64 * 1024)));
        return next(args);
      },
      { step: 'initialize', name: 'benchMeter' },
    );
    return client;
  }
}

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/** For stores that return no item with a failed condition: what is there (read outside the meter). */
async function fetchExisting(client: DynamoDBClient, tableName: string, input: Record<string, unknown>) {
  const item = input.Item as Record<string, AttributeValue> | undefined;
  if (!item) return undefined;
  const keyName = 'MessageId' in item ? 'MessageId' : 'id';
  const { Item } = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { [keyName]: item[keyName]! }, ConsistentRead: true }),
  );
  return Item;
}

/** DynamoDB's item size: attribute names plus values (strings and binaries by length, numbers about half their digits). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name) + valueBytes(value);
  return total;
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M) return 3 + itemBytes(value.M);
  if (value.L) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  return 0;
}
