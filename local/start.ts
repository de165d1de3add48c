import './quiet-sdk-warning';
import { hasJava } from './emulators';
import { startLocalStack } from './stack';

/* `npm start`: the callback endpoint on this machine, no AWS account needed. */

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

if (!hasJava()) console.log('No `java` found: using dynalite (pure JS) instead of DynamoDB Local.');

const stack = await startLocalStack({ host, port, siteId: process.env.SITE_ID ?? 'local' });
const { info } = stack;
if (!info.documentProjection) console.log('dynalite has no streams: the document API answers, but nothing is projected into documents.');

console.log(`
N3 callback endpoint (local) is up.

  Callback base URL   ${info.baseUrl}        POST ${info.baseUrl}<MessageType>
  MIS queue (FIFO)    ${info.queueUrl}
  Dead-letter queue   ${info.dlqUrl}
  SQS/S3 endpoint     ${info.sqsEndpoint}   (region ${info.region}, any credentials)
  DynamoDB            ${info.dynamodbEndpoint} (${info.dynamodbEmulator}), table ${info.tableName}
  Everything as JSON  ${info.baseUrl}_local/info

Try:  curl -s -X POST ${info.baseUrl}SEMDStatus -H 'Content-Type: application/json; charset=utf-8' --data @examples/SEMDStatus.json
Ctrl-C stops everything.
`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping…`);
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
