import { FUNCTION_ENV } from '../../contract/names';

/*
 * A site function's environment as the stack writes it (lib/functions.ts), with the benchmarks' names: what
 * the deployed wiring (lambdas/handlers/wiring) reads in the cold-start bundles (M2) and in the warm
 * handler measurements (M3, M10), so that they run the functions as deployed rather than a copy of the wiring.
 */
export const SITE_ENV: Readonly<Record<string, string>> = {
  [FUNCTION_ENV.siteId]: 'bench',
  [FUNCTION_ENV.tableName]: 'bench-messages',
  // Every deployed function gets the documents table's name (lib/functions.ts).
  [FUNCTION_ENV.documentsTableName]: 'bench-documents',
  [FUNCTION_ENV.queueUrl]: 'https://sqs.eu-central-1.amazonaws.com/000000000000/bench.fifo',
  [FUNCTION_ENV.bucketName]: 'bench-payloads',
};
