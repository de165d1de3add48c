import { DynamoDbDocumentStore, lastArrivalAt, listRejected, pendingCount } from '../lambdas/adapters';
import { emptyRungs, ladderOf, type RungCounts } from '../contract/ladder';
import { DEFAULT_RETENTION_DAYS } from '../contract/names';
import { queueDepth, type SiteLabel, type SiteResources } from './data';

/*
 * The fleet page's data: one row per site, read from each site's own table, queue and bucket with the operator's
 * credentials (not CloudWatch, so it reads `npm start` the same way), FLEET_READS sites at a time, the rows
 * arriving as each site answers (the page polls the scan's progress).
 */

/** Sites read at once: each site's row is a few dozen index queries (the ladder's per day and shard, most of them). */
export const FLEET_READS = 8;

export interface FleetRow {
  readonly siteId: string;
  readonly region?: string;
  readonly account?: string;
  /** Messages not yet forwarded to the MIS queue. */
  readonly pending?: number;
  /** Dead letters: messages the MIS queue gave up delivering. */
  readonly undeliverable?: number;
  /** Requests rejected in the last 24 hours. */
  readonly rejected24h?: number;
  /** Documents whose expected answer is overdue. */
  readonly silent?: number;
  /** Documents awaiting a final answer, by rung (contract/ladder.ts). */
  readonly ladder?: RungCounts;
  readonly waiting?: number;
  readonly lastCallbackAt?: string | null;
  /** Why the site could not be read (not deployed, no access…): one line. */
  readonly error?: string;
}

export interface FleetSiteSource {
  readonly label: SiteLabel;
  readonly resources: SiteResources & { readonly documentsTableName?: string };
  readonly retentionDays?: number;
}

/** One site's row. Every part is read in parallel; a part that fails fails the row with one line. */
export async function siteRow(source: FleetSiteSource, now = new Date()): Promise<FleetRow> {
  const { resources: r, label } = source;
  const documents = r.documentsTableName ? new DynamoDbDocumentStore(r.dynamodb, r.documentsTableName) : undefined;
  const retentionDays = source.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const since = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  const [pending, dlq, rejected, silent, waiting, lastCallbackAt] = await Promise.all([
    pendingCount(r.dynamodb, r.tableName),
    queueDepth(r.sqs, r.dlqUrl),
    listRejected(r.s3, r.bucket, new Date(now.getTime() - 86_400_000), now),
    documents ? documents.due(now.toISOString(), 1000) : Promise.resolve([]),
    documents ? documents.waiting(since) : Promise.resolve([]),
    lastArrivalAt(r.dynamodb, r.tableName, 14, now),
  ]);
  const ladder = ladderOf(waiting, now);
  return {
    siteId: label.siteId,
    region: label.region,
    ...(label.account ? { account: label.account } : {}),
    pending,
    undeliverable: dlq.visible + dlq.inFlight,
    rejected24h: rejected.length,
    silent: silent.length,
    ladder: documents ? ladder.rungs : emptyRungs(),
    waiting: ladder.total,
    lastCallbackAt: lastCallbackAt ?? null,
  };
}

export interface FleetScan {
  readonly total: number;
  readonly done: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly rows: readonly FleetRow[];
}

/**
 * Reads every site's row, `concurrency` at a time; `scan()` is the state so far (rows in the order sites answer).
 * A site that cannot be resolved or read gets a row with `error`, and the scan goes on.
 */
export function scanFleet(
  siteIds: readonly string[],
  sourceOf: (siteId: string) => Promise<FleetSiteSource>,
  options: { concurrency?: number; explain?: (error: Error) => string } = {},
): { scan: () => FleetScan; finished: Promise<FleetScan> } {
  const rows: FleetRow[] = [];
  const startedAt = new Date().toISOString();
  let finishedAt: string | undefined;
  const explain = options.explain ?? ((error: Error) => `${error.name}: ${error.message.split('\n')[0]}`);
  const scan = (): FleetScan => ({
    total: siteIds.length,
    done: rows.length,
    startedAt,
    ...(finishedAt ? { finishedAt } : {}),
    rows: [...rows],
  });
  let next = 0;
  const worker = async () => {
    while (next < siteIds.length) {
      const siteId = siteIds[next++]!;
      try {
        rows.push(await siteRow(await sourceOf(siteId)));
      } catch (error) {
        rows.push({ siteId, error: explain(error as Error) });
      }
    }
  };
  const finished = Promise.all(Array.from({ length: Math.min(options.concurrency ?? FLEET_READS, siteIds.length) }, worker)).then(() => {
    finishedAt = new Date().toISOString();
    return scan();
  });
  return { scan, finished };
}
