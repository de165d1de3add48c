/*
 * The observability contract: what the functions emit (Powertools EMF) and what the stack's
 * alarms and dashboards watch, spelled once. Both sides import this module, so a rename here
 * moves both; a test runs the deployed bundle, collects the EMF it really prints, and checks
 * every watched metric against it (alarms treat missing data as fine, so a mismatch would
 * silently disarm them). It imports nothing: every layer, and the stack, may read it.
 *
 * A custom metric is billed per series (name + dimension values) for every hour it is sent ($0.30 a month
 * each), so only what an alarm reads or the fleet dashboard shows is a metric, and every one is site-wide
 * (no per-type or per-state dimension: at a busy site the six types multiplied each outcome by six). The
 * breakdowns by type, outcome and cause come from the functions' log lines ({@link LOG_FIELDS}), read by
 * the site dashboard's Logs Insights widgets (lib/site-dashboard.ts).
 */

export const METRICS_NAMESPACE = 'N3Callback';
export const SERVICE = 'n3-callback';

/**
 * The `messageType` a log line gives a request whose type could not be told: an unknown path, a wrong method
 * (on the real gateway that falls through to the catch-all), a body sent to nowhere.
 */
export const UNKNOWN_TYPE = 'Unknown';

/**
 * What happened to one callback request: every request's log line says which (`outcome`). `rejected` counts
 * every rejected request (4xx), a `conflict` (409) included, so one alarm sees every rejection.
 */
export const OUTCOMES = ['accepted', 'deferred', 'duplicate', 'conflict', 'rejected', 'failed'] as const;
export type RequestOutcome = (typeof OUTCOMES)[number];

/**
 * The outcomes that are also a metric (site-wide, one per request): the ones that need someone (the Rejected alarm
 * reads `rejected`; the fleet dashboard shows each per site). `accepted` and `duplicate` are what a working site does
 * all day: as metrics they were two series sent every hour of a busy site; the gateway's own request count (an AWS
 * metric, not billed) gives the volume, and the log lines the breakdown.
 */
export const COUNTED_OUTCOMES = ['deferred', 'conflict', 'rejected', 'failed'] as const satisfies readonly RequestOutcome[];
export type CountedOutcome = (typeof COUNTED_OUTCOMES)[number];

export const METRIC = {
  ...(Object.fromEntries(COUNTED_OUTCOMES.map((o) => [o, o])) as { readonly [K in CountedOutcome]: K }),
  /** A rejected request could not be kept in the bucket: nothing else records it (the RejectedNotKept alarm). */
  rejectedNotKept: 'rejectedNotKept',
  /** Reconciler: records still waiting to be forwarded after its run (the Pending alarm). */
  pendingCount: 'PendingCount',
  /**
   * Sends the queue refused for good (the message's characters or size): those records are kept as
   * UNDELIVERABLE and need someone. From the receiving functions and every reconciler run (its alarm).
   */
  undeliverable: 'undeliverable',
  /** Projector: how long after their arrival messages were applied to documents (the largest in the batch; the fleet dashboard). */
  projectionLag: 'ProjectionLag',
  /** Silence sweep: documents with an unmet expectation past due (its alarm). */
  silentDocuments: 'SilentDocuments',
  /**
   * A call failed because the site's own KMS key cannot be used (disabled, pending deletion, deleted, grants
   * gone): from any function. Only `encryption: 'kms'` sites alarm on it; no other can meet it.
   */
  keyUnusable: 'KeyUnusable',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Dimensions every metric carries (Powertools adds `service`; the site is a default dimension). */
export const BASE_DIMENSIONS = ['service', 'site'] as const;

/** Which dimension set each metric is emitted with: every one site-wide, so a site sends at most one series per name. */
export const DIMENSIONS_OF: Readonly<Record<MetricName, readonly string[]>> = Object.fromEntries(
  Object.values(METRIC).map((name) => [name, BASE_DIMENSIONS]),
) as unknown as Record<MetricName, readonly string[]>;

/**
 * The fields of the functions' JSON log lines that the site dashboard's Logs Insights widgets query: ids, types,
 * outcomes, codes and counts only, never a payload, a `Message` text or a document's content.
 * - every callback request logs exactly one line with `outcome` (one of {@link OUTCOMES}) and `messageType` (a type,
 *   or {@link UNKNOWN_TYPE}); a parsed one adds `payloadStatus` (the payload's own Status: Success or Failed);
 * - every rejected request logs one more line with `kept` (true: under rejected/; false: could not be), `messageType`,
 *   `httpStatus`, `code` (the machine code of the rejection) and `reason` (ours: it names fields and kinds of fault,
 *   never the values sent);
 * - each projector batch logs `projected` (messages) and `remd` (documents that reached each REMD state, by state).
 */
export const LOG_FIELDS = {
  outcome: 'outcome',
  messageType: 'messageType',
  payloadStatus: 'payloadStatus',
  kept: 'kept',
  httpStatus: 'httpStatus',
  code: 'code',
  reason: 'reason',
  requestId: 'requestId',
  projected: 'projected',
  remd: 'remd',
} as const;
