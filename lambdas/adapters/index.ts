/*
 * The functions' code as operator tools may use it: the read-only views of a site's table and bucket
 * (inspection.ts), the document store, the rebuild of documents from the message table, the replay of stored
 * messages to the queue (replay-source.ts, ingest/replay.ts), the audit trail (audit-log.ts), and the clients'
 * settings. cli/ and local/ import this face only (biome.json), never a module behind it, so the modules the
 * functions run can change without breaking the tools.
 */
export type { ClientOverrides } from './aws';
export { DynamoDbDocumentStore, scanStoredMessages } from './dynamodb-documents';
export {
  type Arrival,
  arrivalsSince,
  failedAnswersSince,
  findMessage,
  lastArrivalAt,
  listRejected,
  type MessageLookup,
  type MessageRecord,
  type PayloadSource,
  pendingCount,
  type RejectedEntry,
  readPayload,
  readRejected,
  rejectedKeysStartingWith,
  rejectedKeysUnder,
} from './inspection';
export { parseRejectedKey } from './s3-bucket';
export { type SiteClients, type SitePorts, sitePorts } from './site-clients';
export { type ReprojectProgress, reproject } from '../documents/service';
export { type AuditIdentity, type AuditPhase, type AuditRecord, type AuditStore, auditKey, S3AuditStore } from './audit-log';
export { DynamoDbReplaySource, S3PayloadObjects } from './replay-source';
export { SqsMessageQueue } from './sqs-queue';
export {
  planReplay,
  type ReplayCandidate,
  type ReplayPlan,
  type ReplayProgress,
  type ReplayResult,
  type ReplaySelection,
  type ReplaySummary,
  sendReplay,
  summarize,
} from '../ingest/replay';
