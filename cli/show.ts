import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { findMessage, type MessageRecord, type PayloadSource, readPayload } from '../lambdas/adapters';
import { UsageError } from './target';
import { paint, printable, printableJson } from './ui';

/*
 * One accepted message as the site keeps it: its record (facts and state) and its payload, read from the
 * record or from the claim check in the bucket. Never from the MIS queue: receiving there would hide the
 * message from the MIS consumer and count towards the dead-letter queue.
 */

/** How many candidates an ambiguous prefix names in its one line. */
const CANDIDATES_SHOWN = 5;

export interface ShownMessage {
  readonly record: Omit<MessageRecord, 'payload' | 'facts'>;
  /** The payload as accepted (parsed), or null when it is no longer kept. */
  readonly payload: unknown;
  readonly payloadSource: PayloadSource | { readonly gone: true };
}

export async function showMessage(options: {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  tableName: string;
  idOrPrefix: string;
  since: string;
}): Promise<ShownMessage> {
  const lookup = await findMessage(options.dynamodb, options.tableName, options.idOrPrefix, options.since);
  const asked = printableJson(options.idOrPrefix);
  if ('ambiguous' in lookup) {
    const shown = lookup.ambiguous.slice(0, CANDIDATES_SHOWN).join(', ');
    const more = lookup.ambiguous.length > CANDIDATES_SHOWN ? ` and ${lookup.ambiguous.length - CANDIDATES_SHOWN} more` : '';
    throw new UsageError(`${asked} starts ${lookup.ambiguous.length} MessageIds: ${printable(shown)}${more}; give more of it`);
  }
  if ('none' in lookup)
    throw new UsageError(
      `no message ${asked}, nor one starting so since ${lookup.none.searchedSince.slice(0, 10)}: check the id, or widen --since (n3-callback tail lists arrivals)`,
    );
  const { payload: _inline, facts: _facts, ...record } = lookup.found;
  const read = await readPayload(options.s3, lookup.found);
  return {
    record,
    payload: read ? (JSON.parse(read.payload) as unknown) : null,
    payloadSource: read ? read.source : { gone: true },
  };
}

export function formatShown(shown: ShownMessage, json: boolean): string {
  // The record and payload carry what the sender wrote: printed through printable*.
  if (json) return printableJson(shown, 2);
  const { record, payloadSource } = shown;
  const state =
    record.state === 'FORWARDED'
      ? `FORWARDED at ${record.forwardedAt ?? '?'}`
      : record.state === 'UNDELIVERABLE'
        ? paint('red', `UNDELIVERABLE at ${record.undeliverableAt ?? '?'} (${record.refusal ?? 'no reason kept'})`)
        : paint('yellow', 'RECEIVED (not yet on the queue)');
  const source =
    'gone' in payloadSource
      ? paint('yellow', 'claim check expired: the object is no longer in the bucket')
      : 'inline' in payloadSource
        ? 'inline in the record'
        : `claim check s3://${payloadSource.bucket}/${payloadSource.key}${payloadSource.sha256Matches ? ' (sha256 matches)' : paint('red', ' (sha256 DIFFERS from the accepted payload)')}`;
  const facts: [string, string][] = [
    ['MessageId', record.messageId],
    ['type', record.messageType],
    ['Status', record.status],
    ['state', state],
    ['Lpu', record.lpu],
    ['document', record.documentKey],
    ['site', record.site],
    ['received', record.receivedAt],
    ['expires', new Date(record.expiresAt * 1000).toISOString()],
    ['payload', `${record.payloadBytes} bytes, ${source}`],
    ...(record.simulation ? ([['simulation', `run ${record.simulation.runId}`]] as [string, string][]) : []),
  ];
  const lines = facts.map(([name, value]) => `${paint('bold', name.padEnd(10))} ${printable(value)}`);
  if (shown.payload !== null) lines.push(paint('dim', '--- payload as accepted ---'), printableJson(shown.payload, 2));
  return lines.join('\n');
}
