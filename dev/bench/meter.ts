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
  /** DynamoDB units by table and index (`messages`, `messages/pending`, …): what each partition limit sees. */
  byTarget: Record<string, { wru: number; rru: number }>;
  calls: string[];
}

export const noUnits = (): Units => ({
  wru: 0,
  rru: 0,
  s3Put: 0,
  s3Get: 0,
  s3Delete: 0,
  sqsRequests: 0,
  sqsChunks: 0,
  byTarget: {},
  calls: [],
});

/** The entry for a table or index in a `byTarget` record, created at zero. */
export function targetIn(byTarget: Units['byTarget'], name: string): { wru: number; rru: number } {
  byTarget[name] ??= { wru: 0, rru: 0 };
  return byTarget[name];
}

const COUNTS = ['wru', 'rru', 's3Put', 's3Get', 's3Delete', 'sqsRequests', 'sqsChunks'] as const;

/** The sum of several measurements, each scaled by `factor` (e.g. 1/n for a mean); calls are the first one's. */
export function addUnits(units: readonly Units[], factor = 1): Units {
  const total = noUnits();
  total.calls = [...(units[0]?.calls ?? [])];
  for (const u of units) {
    for (const key of COUNTS) total[key] += u[key] * factor;
    for (const [target, { wru, rru }] of Object.entries(u.byTarget)) {
      const t = targetIn(total.byTarget, target);
      t.wru += wru * factor;
      t.rru += rru * factor;
    }
  }
  return total;
}

/** A DynamoDB table as the meter names it in `byTarget`: its label (not the run's random name) and key. */
export interface MeteredTable {
  readonly name: string;
  readonly label: string;
  readonly partitionKey: string;
}

export class Meter {
  units = noUnits();
  /** Whether the emulator reported any index's units: dynalite reports the table's only. */
  indexUnitsSeen = false;

  reset(): Units {
    const taken = this.units;
    this.units = noUnits();
    return taken;
  }

  dynamodb(client: DynamoDBClient, table: MeteredTable): DynamoDBClient {
    const units = () => this.units;
    const add = (target: string, kind: 'wru' | 'rru', amount: number) => {
      const t = targetIn(units().byTarget, target);
      t[kind] += amount;
      units()[kind] += amount;
    };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (UNMETERED.has(args.input as object)) return next(args);
        const command = (context as { commandName?: string }).commandName ?? '?';
        units().calls.push(`DynamoDB.${command.replace(/Command$/, '')}`);
        const input = args.input as Record<string, unknown>;
        input.ReturnConsumedCapacity = 'INDEXES';
        try {
          const result = await next(args);
          const consumed = (result.output as { ConsumedCapacity?: TableCapacity | TableCapacity[] }).ConsumedCapacity;
          const kind = /Put|Update|Delete|Write/.test(command) ? 'wru' : 'rru';
          for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
            const indexes = Object.entries(c.GlobalSecondaryIndexes ?? {});
            if (indexes.length > 0) this.indexUnitsSeen = true;
            // Where the emulator gives no breakdown, the whole figure is the table's.
            const indexTotal = indexes.reduce((sum, [, i]) => sum + unitsOf(i), 0);
            add(table.label, kind, c.Table ? unitsOf(c.Table) : unitsOf(c) - indexTotal);
            for (const [name, i] of indexes) add(`${table.label}/${name}`, kind, unitsOf(i));
          }
          return result;
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) {
            const existing = error.Item ?? (await fetchExisting(client, table, input));
            add(table.label, 'wru', Math.max(1, Math.ceil(itemBytes(existing ?? {}) / 1024)));
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

interface TableCapacity extends Capacity {
  Table?: Capacity;
  GlobalSecondaryIndexes?: Record<string, Capacity>;
}

const unitsOf = (c: Capacity) => c.CapacityUnits ?? (c.WriteCapacityUnits ?? 0) + (c.ReadCapacityUnits ?? 0);

/** Inputs of the meter's own reads, which the meter lets through uncounted. */
const UNMETERED = new WeakSet<object>();

/** For calls that return no item with a failed condition: what is there (read past the meter). */
async function fetchExisting(client: DynamoDBClient, table: MeteredTable, input: Record<string, unknown>) {
  const key = (input.Key ?? input.Item) as Record<string, AttributeValue> | undefined;
  if (!key?.[table.partitionKey]) return undefined;
  const read = new GetItemCommand({ TableName: table.name, Key: { [table.partitionKey]: key[table.partitionKey]! }, ConsistentRead: true });
  UNMETERED.add(read.input);
  const { Item } = await client.send(read);
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
