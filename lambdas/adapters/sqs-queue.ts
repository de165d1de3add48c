import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QueueRefusedError, QueueUnavailableError } from '../../contract/errors';
import type { MessageQueue, QueueMessage } from '../ingest/ports';

/*
 * SQS answers a message it will never take (characters outside its set, over the queue's size) with
 * a client error about the message itself: those codes are a refusal, and the record is marked
 * undeliverable. Everything else is taken for unavailability and retried by the reconciler: 5xx,
 * throttling, the network, timeouts — and also the client errors an operator fixes for all messages at
 * once (the queue missing, access or KMS denied, a standard queue where a FIFO one belongs): marking
 * every message undeliverable then would turn one misconfiguration into lost deliveries.
 */
const REFUSALS = new Set(['InvalidMessageContents', 'InvalidAttributeValue', 'InvalidAttributeName']);
/**
 * `InvalidParameterValue` names a message over the queue's size, but also parameters the queue cannot take
 * at all (a MessageGroupId sent to a standard queue): only the size, in SQS's own words, is about the message.
 */
const SIZE_REFUSAL = /^One or more parameters are invalid\. Reason: Message must be shorter than \d+ bytes/;

/**
 * The error's code as SQS names it, when it is a refusal of this message: the JSON protocol gives
 * `InvalidMessageContents`, the query-compatible form (and emulators) `AWS.SimpleQueueService.InvalidMessageContents`.
 */
export function refusalOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const meta = error as Error & { $fault?: string; Code?: string };
  if (meta.$fault !== 'client') return undefined;
  for (const name of [meta.name, meta.Code]) {
    const code = name?.replace(/^AWS\.SimpleQueueService\./, '');
    if (code && REFUSALS.has(code)) return code;
    if (code === 'InvalidParameterValue' && SIZE_REFUSAL.test(error.message)) return code;
  }
  return undefined;
}

/** The MIS's FIFO queue. */
export class SqsMessageQueue implements MessageQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: QueueMessage): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: message.body,
          MessageGroupId: message.groupId,
          MessageDeduplicationId: message.deduplicationId,
          MessageAttributes: Object.fromEntries(
            Object.entries(message.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
          ),
        }),
      );
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal) throw new QueueRefusedError(refusal, { cause: error });
      throw new QueueUnavailableError('send failed', { cause: error });
    }
  }
}
