import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { METRIC } from '../../contract/observability';
import type { DocumentStore } from '../documents/ports';
import { type DocumentMessage, storedMessageOf } from '../documents/projection';
import { project } from '../documents/service';
import type { Clock, MessageRecord } from '../ingest/ports';
import { countKeyUnusable, KEY_UNUSABLE_LOG } from './key-unusable';

export interface ProjectDeps {
  readonly documents: DocumentStore;
  /** A stream record's NewImage as a MessageRecord (the adapter knows the item shape). */
  readonly recordOf: (image: NonNullable<NonNullable<DynamoDBStreamEvent['Records'][number]['dynamodb']>['NewImage']>) => MessageRecord;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * The projector: the message table's stream (new records only) → each document's state, off the ack's
 * critical path. Any failure fails the batch: the stream hands it again (bisected, then to the
 * failure queue after the retries), and applying a message twice changes nothing.
 */
export function createProjectHandler(deps: ProjectDeps): (event: DynamoDBStreamEvent) => Promise<{ projected: number }> {
  return async (event) => {
    const messages: Array<{ documentId: string; message: DocumentMessage }> = [];
    let oldest: string | undefined;
    for (const record of event.Records) {
      const image = record.dynamodb?.NewImage;
      if (record.eventName !== 'INSERT' || !image) continue;
      const stored = deps.recordOf(image);
      messages.push(storedMessageOf(stored));
      if (!oldest || stored.receivedAt < oldest) oldest = stored.receivedAt;
    }
    // A batch of other events (locally the poller sees every change): nothing to count, and no metric written as a zero.
    if (messages.length === 0) return { projected: 0 };
    const now = deps.clock.now();
    let projection: Awaited<ReturnType<typeof project>>;
    try {
      projection = await project(deps.documents, messages, now.toISOString());
    } catch (error) {
      const kmsError = countKeyUnusable(error, deps.metrics);
      if (kmsError) deps.logger.error(`projection failed: ${KEY_UNUSABLE_LOG}`, { kmsError, error: error as Error });
      throw error;
    }
    const { changes, skipped } = projection;
    // Counted, never named: a document id is the MIS's, about a patient.
    if (skipped > 0) deps.logger.warn('messages not projected: document id longer than a key takes', { skipped });
    // The lag is a metric (the fleet dashboard shows it); the counts are the log line's, read by the site dashboard's
    // Logs Insights widget (contract/observability.ts LOG_FIELDS): a metric per REMD state was a series each.
    deps.metrics.addMetric(METRIC.projectionLag, MetricUnit.Milliseconds, Math.max(0, now.getTime() - Date.parse(oldest!)));
    const remd: Record<string, number> = {};
    for (const change of changes) {
      const state = change.after.remd;
      if (state && state !== change.before.remd) remd[state] = (remd[state] ?? 0) + 1;
    }
    deps.logger.info('projected', { projected: messages.length, documents: changes.length, remd });
    return { projected: messages.length };
  };
}
