/*
 * The MIS side, runnable against `npm start`:  npx tsx examples/consumer.ts
 * Finds the endpoint as every tool here does (N3_CALLBACK_BASE, else PORT, else :3000).
 * Prints each callback once; Ctrl-C stops after the message in hand is done, and says so.
 * (The README's snippet does the same with the installed package and `npm start`'s export lines instead.)
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createCallbackConsumer, type CallbackMessage } from '../consumer/index';
import { baseUrlFrom } from '../contract/base-url';
import type { LocalInfo } from '../contract/local';

const base = baseUrlFrom(undefined);
const info = (await fetch(new URL('_local/info', base))
  .then((response) => response.json())
  .catch(() => {
    console.error(`nothing answers at ${base} — is npm start running? (N3_CALLBACK_BASE / PORT)`);
    process.exit(2);
  })) as LocalInfo;
const aws = { region: info.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

// Handlers must be idempotent by MessageId: the queue delivers at least once.
// In a real MIS this is a unique key in its database (INSERT … ON CONFLICT (message_id) DO NOTHING).
const processed = new Set<string>();
const once = async (message: CallbackMessage, work: () => void) => {
  if (processed.has(message.messageId)) return;
  work();
  processed.add(message.messageId);
};

const consumer = createCallbackConsumer({
  queueUrl: info.queueUrl,
  sqs: new SQSClient({ ...aws, endpoint: info.sqsEndpoint }),
  s3: new S3Client({ ...aws, endpoint: info.s3Endpoint, forcePathStyle: true }),
  handlers: {
    CDAStatus: (m) =>
      once(m, () => console.log(`CDA for ${m.payload.IdMedDocumentMis}: ${m.payload.Status}, ${m.payload.CDA?.length ?? 0} base64 chars`)),
    SEMDStatus: (m) => once(m, () => console.log(`SEMD ${m.payload.IdMedDocumentMis} → IEMK: ${m.payload.Status}`)),
    REMDStatus: (m) =>
      once(m, () => console.log(`EMD ${m.payload.IdSourceMis} → REMD: ${m.payload.Status} ${m.payload.RemdRegNumber ?? ''}`)),
    MseResult: (m) => once(m, () => console.log(`MSE result ${m.payload.IdResultMSE} registered for ${m.payload.IdMSEMis}`)),
    MseResultData: (m) =>
      once(m, () => console.log(`MSE result file for ${m.payload.IdMSEMis}: ${m.payload.Data?.length ?? 0} base64 chars`)),
    VimisResult: (m) =>
      once(m, () =>
        console.log(`VIMIS ${m.payload.IdRecipientSystem} SMS ${m.payload.DocType}: ${m.payload.Status} (${m.payload.StatusCode})`),
      ),
  },
});
consumer.start();
consumer.stopOnSignals();
console.log(`Consuming ${info.queueUrl} (Ctrl-C stops)`);
