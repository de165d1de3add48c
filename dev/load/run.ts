import '../../local/quiet-sdk-warning';
import { baseUrlFrom } from '../../contract/base-url';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { messageFrom, startChild, stopChild } from '../bench/child';
import { openLoop } from '../bench/open-loop';
import { Progress } from '../../cli/ui';
import type { Envelope } from '../../contract/envelope';
import { ACK_TEXT } from '../../contract/ack';
import { localSqs } from '../../local/clients';
import type { LocalInfo } from '../../contract/local';
import { EXAMPLES } from '../../testing/messages';

/*
 * `npm run load [-- --base URL] [--rate 200] [--seconds 60] [--duplicates 0.1] [--out docs/load.json]`
 * Open-loop load against the local product (`npm start`, or one it starts itself), a share of
 * the requests re-sending an earlier, already acknowledged message as the N3 sender does. Passes when
 * no request failed, every re-send was acked as a duplicate, SQS was asked to send exactly once per
 * distinct MessageId (counted on the wire by the emulator: FIFO deduplication would hide a send per
 * re-send from a count of queue messages), and the MIS queue holds exactly one message per MessageId.
 * The result, with the commit it ran at, is written to --out. Loopback only; bounded in count and
 * time. Not part of CI: a minute of load is for on-demand runs.
 */

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '60' },
    duplicates: { type: 'string', default: '0.1' },
    out: { type: 'string', default: 'docs/load.json' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const duplicateShare = Number(values.duplicates);

// Against a running endpoint when told where (--base or N3_CALLBACK_BASE, the one rule of local/base-url.ts);
// otherwise against a product of its own, so that it never empties the queue of an `npm start` by surprise.
const target = values.base || process.env.N3_CALLBACK_BASE ? baseUrlFrom(values.base) : undefined;
const child = target ? undefined : startChild('dev/bench/servers.ts', ['stack']);
try {
  const info: LocalInfo = child
    ? await messageFrom<LocalInfo>(child, 'info')
    : ((await (await fetch(new URL('_local/info', target))).json()) as LocalInfo);
  const url = `${info.baseUrl}REMDStatus`;
  console.error(`Load: ${rate} req/s for ${seconds} s, ${duplicateShare * 100}% re-sends, against ${info.baseUrl}`);

  // Steady state: 5 s at half rate first, so the JVM of DynamoDB Local has compiled its hot paths.
  await openLoop({
    rate: Math.max(1, rate / 2),
    seconds: 5,
    send: async () => (await fetch(url, { method: 'POST', body: JSON.stringify({ ...EXAMPLES.REMDStatus, MessageId: randomUUID() }) })).ok,
  });
  await drainQueue(info);
  const sendsBefore = await sendMessageCalls(info);

  const sent: string[] = [];
  // Only acknowledged messages are re-sent: the sender re-sends after an answer (or its timeout), and a
  // re-send racing its own first delivery may rightly be forwarded twice (FIFO deduplicates it).
  const acked: string[] = [];
  let duplicateAcks = 0;
  const bodies = new Map<string, string>();
  let resends = 0;
  const progress = new Progress(rate * seconds);
  const report = await openLoop({
    rate,
    seconds,
    onProgress: (n) => progress.update(n, 'requests sent'),
    send: async (index) => {
      let id: string;
      let resend = false;
      // Deterministic share of re-sends, each of a message acknowledged earlier.
      if (acked.length > 0 && (index * duplicateShare) % 1 > 1 - duplicateShare - 1e-9) {
        id = acked[index % acked.length]!;
        resends++;
        resend = true;
      } else {
        id = randomUUID();
        sent.push(id);
        bodies.set(id, JSON.stringify({ ...EXAMPLES.REMDStatus, MessageId: id, IdSourceMis: `doc-${index % 500}` }));
      }
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: bodies.get(id)!,
      });
      const ack = (await response.json()) as { Status?: string; MessageId?: string; Message?: string };
      const ok = response.status === 200 && ack.Status === 'Success' && ack.MessageId === id;
      if (ok && !resend) acked.push(id);
      if (ok && resend && ack.Message === ACK_TEXT.duplicate) duplicateAcks++;
      return ok && (!resend || ack.Message === ACK_TEXT.duplicate);
    },
  });
  progress.done();

  // What the MIS would find: every message on the queue, once.
  const onQueue = await drainQueue(info, (n) => progress.update(n, 'queue messages read'));
  progress.done();

  const sendMessages = (await sendMessageCalls(info)) - sendsBefore;
  const distinctOnQueue = new Set(onQueue);
  const missing = sent.filter((id) => !distinctOnQueue.has(id)).length;
  const doubled = onQueue.length - distinctOnQueue.size;
  const ok =
    report.failed === 0 &&
    missing === 0 &&
    doubled === 0 &&
    onQueue.length === sent.length &&
    duplicateAcks === resends &&
    sendMessages === sent.length;
  const result = {
    kind: 'measurement',
    ranAt: new Date().toISOString(),
    ...gitState(),
    target: child ? 'own local stack (DynamoDB Local + fauxqs)' : info.baseUrl,
    inputs: { rate, seconds, duplicateShare, warmupSeconds: 5, messageType: 'REMDStatus', documents: 500 },
    requests: report.sent,
    achievedRate: Number(report.achievedRate.toFixed(1)),
    failed: report.failed,
    resends,
    duplicateAcks,
    distinctMessageIds: sent.length,
    sendMessageCalls: sendMessages,
    queueMessages: onQueue.length,
    missing,
    doubled,
    ackLatencyMs: { p50: round(report.p50Ms), p99: round(report.p99Ms), max: round(report.maxMs) },
    pass: ok,
  };
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    [
      `requests ${report.sent} at ${report.achievedRate.toFixed(1)} req/s (${resends} re-sends, ${duplicateAcks} acked as duplicates), failed ${report.failed}`,
      `ack latency p50 ${report.p50Ms.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms, max ${report.maxMs.toFixed(0)} ms`,
      `distinct MessageIds sent ${sent.length}; SendMessage calls ${sendMessages}; on the queue ${onQueue.length}, missing ${missing}, doubled ${doubled}`,
      ok
        ? `PASS: no errors, one SendMessage and one queue message per MessageId (written to ${values.out})`
        : `FAIL (written to ${values.out})`,
    ].join('\n'),
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  if (child) await stopChild(child);
}

function round(ms: number): number {
  return Number(ms.toFixed(1));
}

/** SendMessage calls the product's SQS emulator has answered so far (`/_local/stats`). */
async function sendMessageCalls(info: LocalInfo): Promise<number> {
  const stats = (await (await fetch(new URL('_local/stats', info.baseUrl))).json()) as { sqsCalls: Record<string, number> };
  return stats.sqsCalls.SendMessage ?? 0;
}

/** The commit measured, and whether the code it runs differed from it. */
function gitState(): { commit: string; dirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--', 'lambdas', 'lib', 'local', 'dev/load') !== '' };
}

/** Receives and deletes everything on the MIS queue, returning the MessageIds in order. */
async function drainQueue(info: LocalInfo, onProgress?: (n: number) => void): Promise<string[]> {
  const sqs = localSqs(info.sqsEndpoint, info.region);
  const ids: string[] = [];
  try {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: info.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (Messages.length === 0) return ids;
      ids.push(...Messages.map((m) => (JSON.parse(m.Body!) as Envelope).messageId));
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: info.queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      onProgress?.(ids.length);
    }
  } finally {
    sqs.destroy();
  }
}
