/*
 * The functions' code as operator tools may use it: the read-only views of a site's table and bucket
 * (inspection.ts), the document store, the rebuild of documents from the message table, and the clients'
 * settings. cli/ and local/ import this face only (biome.json), never a module behind it, so the modules
 * the functions run can change without breaking the tools.
 */
export type { ClientOverrides } from './aws';
export { DynamoDbDocumentStore, scanStoredMessages } from './dynamodb-documents';
export {
  type Arrival,
  arrivalsSince,
  failedAnswersSince,
  lastArrivalAt,
  listRejected,
  pendingCount,
  type RejectedEntry,
  readRejected,
} from './inspection';
export { type ReprojectProgress, reproject } from '../documents/service';
