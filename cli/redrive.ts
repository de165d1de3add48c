import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Progress } from './ui';

/*
 * Moves what the MIS consumer gave up on (the DLQ) back to the MIS queue, once the consumer
 * is fixed. Group and attributes are kept; the deduplication id gets a suffix, because SQS
 * would otherwise drop a message whose id it saw within 5 minutes. Consumers are idempotent
 * by MessageId, so a message that was in fact processed does no harm.
 */

export interface RedriveResult {
  readonly moved: number;
}

export async function redrive(options: { sqs: SQSClient; dlqUrl: string; queueUrl: string; max?: number }): Promise<RedriveResult> {
  const { sqs, dlqUrl, queueUrl } = options;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const progress = new Progress(undefined);
  let moved = 0;
  while (moved < max) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    if (Messages.length === 0) break;
    const suffix = `.redrive-${Date.now()}`;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body!,
          MessageGroupId: m.Attributes?.MessageGroupId ?? 'redrive',
          MessageDeduplicationId: `${(m.Attributes?.MessageDeduplicationId ?? m.MessageId!).slice(0, 128 - suffix.length)}${suffix}`,
          MessageAttributes: m.MessageAttributes,
        })),
      }),
    );
    // Only what reached the main queue leaves the DLQ.
    const ok = new Set((sent.Successful ?? []).map((s) => Number(s.Id)));
    const toDelete = Messages.filter((_, i) => ok.has(i));
    if (toDelete.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: toDelete.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    moved += toDelete.length;
    progress.update(moved, 'moved from the DLQ to the MIS queue');
    if (sent.Failed?.length)
      throw new Error(`${sent.Failed.length} message(s) could not be sent back: ${sent.Failed[0]?.Message ?? ''}; they stay in the DLQ`);
  }
  progress.done();
  return { moved };
}
