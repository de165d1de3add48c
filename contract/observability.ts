/*
 * The observability contract: what the functions emit (Powertools EMF) and what the stack's
 * alarms and dashboard watch, spelled once. Both sides import this module, so a rename here
 * moves both; a test runs the deployed bundle, collects the EMF it really prints, and checks
 * every watched metric against it (alarms treat missing data as fine, so a mismatch would
 * silently disarm them). It imports nothing: every layer, and the stack, may read it.
 */

export const METRICS_NAMESPACE = 'N3Callback';
export const SERVICE = 'n3-callback';

/**
 * The `MessageType` dimension of a request whose type could not be told: an unknown path, a
 * wrong method (on the real gateway that falls through to the catch-all), a body sent to
 * nowhere. Counted like the six types so that the Rejected alarm sees it.
 */
export const UNKNOWN_TYPE = 'Unknown';

/**
 * What happened to one callback request: one metric each, one per invocation. `rejected` counts
 * every rejected request (4xx), a `conflict` (409) included, so one alarm sees every rejection.
 */
export const OUTCOMES = ['accepted', 'deferred', 'duplicate', 'conflict', 'rejected', 'failed'] as const;
export type RequestOutcome = (typeof OUTCOMES)[number];

export const METRIC = {
  ...(Object.fromEntries(OUTCOMES.map((o) => [o, o])) as { readonly [K in RequestOutcome]: K }),
  /** A rejected request was kept in the bucket for inspection… */
  rejectedKept: 'rejectedKept',
  /** …or could not be: nothing else records it. */
  rejectedNotKept: 'rejectedNotKept',
  /**
   * The same two counts again, site-wide (no `MessageType`): what the Rejected and RejectedNotKept alarms
   * watch. An alarm pays for every metric it reads, and summing the seven per-type series cost seven; the
   * per-type ones stay for the dashboard.
   */
  rejectedSiteWide: 'rejectedSiteWide',
  rejectedNotKeptSiteWide: 'rejectedNotKeptSiteWide',
  /** The payload's own Status (the platform's verdict on the document), per accepted message. */
  payloadStatusSuccess: 'PayloadStatusSuccess',
  payloadStatusFailed: 'PayloadStatusFailed',
  /** Reconciler: records still waiting to be forwarded after its run. */
  pendingCount: 'PendingCount',
  reconciled: 'reconciled',
  reconcileFailed: 'reconcileFailed',
  /**
   * Sends the queue refused for good (the message's characters or size): those records are kept as
   * UNDELIVERABLE and need someone. Site-wide, from the receiving functions and every reconciler run.
   */
  undeliverable: 'undeliverable',
  /** Projector: messages applied to documents, and how long after their arrival (the largest in the batch). */
  projected: 'projected',
  projectionLag: 'ProjectionLag',
  /** Projector: a document's REMD stage reached this state (dimension `RemdState`). */
  remdState: 'DocumentsRemd',
  /** Silence sweep: documents with an unmet expectation past due. */
  silentDocuments: 'SilentDocuments',
  /**
   * A call failed because the site's own KMS key cannot be used (disabled, pending deletion, deleted, grants
   * gone): from any function, site-wide. Only `encryption: 'kms'` sites alarm on it; no other can meet it.
   */
  keyUnusable: 'KeyUnusable',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Dimensions every function's metrics carry (Powertools adds `service`; the site is a default dimension). */
export const BASE_DIMENSIONS = ['service', 'site'] as const;
/** The receiving functions (six types and the catch-all) add the type. */
export const RECEIVE_DIMENSIONS = [...BASE_DIMENSIONS, 'MessageType'] as const;
/** The projector's REMD transitions carry the new state. */
export const REMD_DIMENSIONS = [...BASE_DIMENSIONS, 'RemdState'] as const;

/** Which dimension set each metric is emitted with. */
export const DIMENSIONS_OF: Readonly<Record<MetricName, readonly string[]>> = {
  accepted: RECEIVE_DIMENSIONS,
  deferred: RECEIVE_DIMENSIONS,
  duplicate: RECEIVE_DIMENSIONS,
  conflict: RECEIVE_DIMENSIONS,
  rejected: RECEIVE_DIMENSIONS,
  failed: RECEIVE_DIMENSIONS,
  rejectedKept: RECEIVE_DIMENSIONS,
  rejectedNotKept: RECEIVE_DIMENSIONS,
  rejectedSiteWide: BASE_DIMENSIONS,
  rejectedNotKeptSiteWide: BASE_DIMENSIONS,
  PayloadStatusSuccess: RECEIVE_DIMENSIONS,
  PayloadStatusFailed: RECEIVE_DIMENSIONS,
  PendingCount: BASE_DIMENSIONS,
  reconciled: BASE_DIMENSIONS,
  reconcileFailed: BASE_DIMENSIONS,
  undeliverable: BASE_DIMENSIONS,
  projected: BASE_DIMENSIONS,
  ProjectionLag: BASE_DIMENSIONS,
  DocumentsRemd: REMD_DIMENSIONS,
  SilentDocuments: BASE_DIMENSIONS,
  KeyUnusable: BASE_DIMENSIONS,
};
