import '../../local/quiet-sdk-warning';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { wireProjector, wireReceivers, wireSite } from '../../lambdas/handlers/wiring';
import { toItem } from '../../lambdas/adapters/record-item';
import { InMemoryDocumentStore, InMemoryRejectedStore, inMemoryPorts } from '../../testing/fakes';
import { proxyEvent } from '../../testing/events';
import { EXAMPLES } from '../../testing/messages';
import { stackName } from '../../contract/names';
import { MIX } from './models';
import { SITE_ENV } from './site-env';

/*
 * M9's log bytes: what CloudWatch Logs ingests per callback, from the deployed wiring's own lines (Powertools'
 * JSON log and EMF, with the Lambda context a deployed function adds) captured from stdout, plus the three lines
 * Lambda's platform writes per invocation in its text format (START, END, REPORT: AWS's documented format, with a
 * request id and durations of realistic length; not measured, no Lambda runs here) and CloudWatch Logs' 26 bytes
 * per event. In memory (the lines do not depend on the transport); a site id and function names as long as a
 * deployed site's. `npx tsx dev/bench/log-bytes.ts` prints the report.
 */

/** CloudWatch Logs counts 26 bytes of metadata per event beside its message (PutLogEvents' batch size). */
export const LOG_EVENT_OVERHEAD_BYTES = 26;

export interface LogBytesReport {
  /** Bytes ingested per request of each kind: the receiving function's invocation (+ the projector's, for a new message). */
  readonly perKind: { readonly new: number; readonly duplicate: number; readonly rejected: number };
  /** Weighted by M7's mix (new, re-send, rejected shares; `Project` handed one record per invocation). */
  readonly perCallbackAtMix: number;
  /** Of that, the platform's START/END/REPORT lines (a stated format, not captured). */
  readonly platformBytesPerInvocation: number;
  readonly method: string;
}

const SITE_ID = 'mo-city-hospital-01';
const deployedName = (logicalId: string) => `${stackName(SITE_ID)}-Functions${logicalId}1A2B3C4D-AbCdEfGhIjKl`.slice(0, 64);
const contextOf = (logicalId: string): Context => {
  const name = deployedName(logicalId);
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-central-1:123456789012:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `${stackName(SITE_ID)}-Functions${logicalId}Logs1A2B3C4D-AbCdEfGhIjKl`,
    logStreamName: '2026/12/07/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => 15_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

/** Lambda's text-format platform lines for one warm invocation (durations of typical length). */
function platformLines(requestId: string): string[] {
  return [
    `START RequestId: ${requestId} Version: $LATEST\n`,
    `END RequestId: ${requestId}\n`,
    `REPORT RequestId: ${requestId}\tDuration: 25.81 ms\tBilled Duration: 26 ms\tMemory Size: 512 MB\tMax Memory Used: 98 MB\t\n`,
  ];
}
const ingested = (lines: readonly string[]) =>
  lines.reduce((sum, line) => sum + Buffer.byteLength(line.replace(/\n$/, '')) + LOG_EVENT_OVERHEAD_BYTES, 0);

export async function measureLogBytes(): Promise<LogBytesReport> {
  const captured: string[] = [];
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const traceId = process.env._X_AMZN_TRACE_ID;
  // Lambda sets it on every invocation (Powertools logs it); a real one's length.
  process.env._X_AMZN_TRACE_ID = 'Root=1-6753f0a1-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0;Lineage=1:a1b2c3d4:0';
  const ports = inMemoryPorts();
  const documents = new InMemoryDocumentStore();
  const site = wireSite({
    env: { ...SITE_ENV, SITE_ID },
    adapters: { ports, documents, rejectedStore: new InMemoryRejectedStore() },
  });
  const receivers = wireReceivers(site);
  const { Project } = wireProjector(site);
  // Both streams: Lambda ingests stderr too (Powertools writes warnings and errors there).
  const capture = ((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split(/(?<=\n)/)) if (line.trim()) captured.push(line);
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  const invocation = async (logicalId: string, run: (context: Context) => Promise<unknown>) => {
    captured.length = 0;
    const context = contextOf(logicalId);
    await run(context);
    if (process.env.LOG_BYTES_SHOW) writes.stderr.call(process.stderr, `${logicalId}:\n${captured.join('')}`);
    return ingested([...captured, ...platformLines(context.awsRequestId)]);
  };
  try {
    const body = { ...EXAMPLES.REMDStatus, MessageId: randomUUID() };
    const post = (text: string) => (context: Context) => receivers.REMDStatus(proxyEvent({ path: '/REMDStatus', body: text }), context);
    // A first invocation of each function (its cold start logs as the rest): warm, as most are.
    await invocation('REMDStatus', post(JSON.stringify({ ...body, MessageId: randomUUID() })));
    const receivedNew = await invocation('REMDStatus', post(JSON.stringify(body)));
    const duplicate = await invocation('REMDStatus', post(JSON.stringify(body)));
    const rejected = await invocation('REMDStatus', post(JSON.stringify({ ...body, MessageId: randomUUID(), Status: 'Maybe' })));
    const record = ports.store.records.get(String(body.MessageId))!;
    const image = marshall(toItem(record), { removeUndefinedValues: true });
    const projected = await invocation('Project', (context) =>
      Project({ Records: [{ eventName: 'INSERT', dynamodb: { NewImage: image as never } }] } as never, context),
    );
    const platformBytesPerInvocation = ingested(platformLines(randomUUID()));
    const perKind = { new: receivedNew + projected / MIX.projectRecordsPerInvocation, duplicate, rejected };
    const newShare = 1 - MIX.resendShare - MIX.rejectedShare;
    return {
      perKind,
      perCallbackAtMix: Math.round(newShare * perKind.new + MIX.resendShare * perKind.duplicate + MIX.rejectedShare * perKind.rejected),
      platformBytesPerInvocation,
      method:
        "the deployed wiring's stdout (Powertools JSON log and EMF lines, Lambda context as deployed) for a REMDStatus new / re-sent / rejected and its Project invocation, plus Lambda's START/END/REPORT text lines (documented format, not captured) and 26 bytes per event",
    };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    if (traceId === undefined) delete process.env._X_AMZN_TRACE_ID;
    else process.env._X_AMZN_TRACE_ID = traceId;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await measureLogBytes(), null, 2));
}
