import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Arrival, arrivalsSince } from '../lambdas/adapters';
import { paint, printableJson, printableStrings, table } from './ui';

/*
 * Watches callbacks arrive, from the table's by-day index: it never touches the MIS queue
 * (receiving from it would hide messages from the consumer and count towards the DLQ).
 */

export type { Arrival };

export { arrivalsSince };

export function formatArrivals(arrivals: readonly Arrival[], json: boolean): string {
  if (json) return arrivals.map((a) => printableJson(a)).join('\n');
  return table(
    ['time', 'type', 'Status', 'state', 'Lpu', 'document', 'size', 'MessageId'],
    arrivals
      .map(printableStrings)
      .map((a) => [
        a.receivedAt.slice(11, 23),
        a.messageType,
        a.status === 'Failed' ? paint('red', a.status) : paint('green', a.status),
        a.state === 'FORWARDED' ? a.state : paint('yellow', a.state),
        a.lpu,
        a.documentKey.slice(0, 40),
        humanBytes(a.bytes),
        a.messageId,
      ]),
  );
}

export async function tail(options: {
  dynamodb: DynamoDBClient;
  tableName: string;
  json: boolean;
  since: string;
  follow: boolean;
  intervalMs?: number;
  write?: (text: string) => void;
  signal?: AbortSignal;
}): Promise<number> {
  const write = options.write ?? ((text: string) => process.stdout.write(`${text}\n`));
  let cursor = options.since;
  let printedHeader = false;
  let total = 0;
  for (;;) {
    const arrivals = await arrivalsSince(options.dynamodb, options.tableName, cursor);
    if (arrivals.length > 0) {
      const text = formatArrivals(arrivals, options.json);
      // The table header once; later rows only.
      write(options.json || !printedHeader ? text : text.split('\n').slice(2).join('\n'));
      printedHeader = true;
      cursor = arrivals.at(-1)!.receivedAt;
      total += arrivals.length;
    }
    if (!options.follow || options.signal?.aborted) return total;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1_000));
    if (options.signal?.aborted) return total;
  }
}

const humanBytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
