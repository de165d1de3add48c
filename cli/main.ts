import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Ack } from '../contract/ack';
import { findMessageType, MESSAGE_TYPES } from '../contract/catalog';
import { createDocumentsClient } from '../consumer/documents';
import { STAGES } from '../contract/documents';
import { documentFilter, formatDocument, formatDocuments, formatSilent, reprojectDocuments, stageAndWithin } from './documents';
import { redrive } from './redrive';
import { formatReadmit, formatRejected, listRejected, readmit, showRejected } from './rejected';
import { audited, formatAudit, listAudit } from './audit';
import { REPLAY_OPTIONS, REPLAY_USAGE, replayCommand } from './replay';
import { markingFor, report, SCENARIOS, simulate } from './simulate';
import { SIMULATION_HEADER } from '../contract/envelope';
import { BaseUrlError } from '../contract/base-url';
import { tail } from './tail';
import { configuredSiteIds, consoleSite, serveConsole } from './console';
import { formatCauses, formatLadder } from './see';
import { summariseCauses } from '../contract/causes';
import { failedAnswersSince } from '../lambdas/adapters';
import { postableBaseUrl, requireValue, resolveTarget, type Target, UsageError } from './target';
import { paint, printable, printableJson, printableStrings } from './ui';
import { TOOL_DEADLINE } from '../contract/deadlines';
import { didYouMean } from '../contract/suggest';
import { formatShown, showMessage } from './show';
import { resolveRejectedKey } from './rejected';
import { randomUUID } from 'node:crypto';

const USAGE = `n3-callback — tools for the N3.Health callback endpoint

Usage:
  n3-callback simulate [--base URL] [--only REGEX] [--test-lpu LPU] [--doc-prefix PREFIX]
                                                      act as the N3 sender: every scenario, every ack checked;
                                                      each message marked X-N3-Simulation; against anything but
                                                      npm start, --test-lpu and/or --doc-prefix are required
  n3-callback send <MessageType> <file.json> [--base URL] [--new-id]
                                                      POST one message, print the ack; --new-id gives it a
                                                      fresh MessageId (a second send is then no duplicate)
  n3-callback tail [--base URL | --table NAME] [--json] [--since 15m] [--once]
                                                      watch callbacks arrive (reads the table, not the queue)
  n3-callback redrive [--base URL | --queue-url Q --dlq-url D] [--max N]
                                                      move dead letters back to the MIS queue
${REPLAY_USAGE}
  n3-callback show <MessageId | prefix> [--base URL | --table T --bucket B] [--since 14d] [--json]
                                                      one accepted message: its record, state and payload
                                                      (inline or from the claim check), never from the queue
  n3-callback rejected [--base URL | --bucket B] [--since 1d] [--json] [--show KEY [--body]]
                                                      rejected callbacks kept under rejected/: when, why, what;
                                                      --show takes a key, its start, or a request id's start
  n3-callback rejected readmit <key|prefix…> | --since 1d --reason CODE [--dry-run] [--json]
                                                      run kept rejected requests through the site's handler as if
                                                      they came now (its allowlist as it is now); forwarded once
  n3-callback audit [--since 7d] [--json]             who ran which action on the site's data or queue, when,
                                                      on what, and how it ended (kept under audit/ in the bucket)
  n3-callback doc <documentId> [--json]               one document: each stage's state, expectations, timeline
  n3-callback docs [--stage S [--state X]] [--since 1d] [--json]
                                                      documents written since, optionally in one stage state
  n3-callback expect <documentId> --stage S --within 24h
                                                      the MIS expects a final answer for stage S in time
  n3-callback silent [--json]                         documents whose expected answer is overdue
  n3-callback docs --ladder [--json]                  documents awaiting a final answer, by how long (5m … 15d, no answer)
  n3-callback errors [--since 1d] [--json]            Failed answers by cause (contract/causes.ts), with examples
  n3-callback console --site <id> [--port N]          the console of a deployed site, on http://127.0.0.1 (your credentials)
  n3-callback console --fleet [--sites a,b,…] [--port N]
                                                      every site of cdk.json/sites/ (or --sites) on one page
  n3-callback reproject [--base URL | --table NAME --documents-table NAME] [--json]
                                                      rebuild every document from the message table (idempotent)

--base defaults to $N3_CALLBACK_BASE, else http://127.0.0.1:$PORT/, else http://127.0.0.1:3000/ (\`npm start\`). Against \`npm start\` the queue
and table are found through /_local/info. Against a deployed site, --site <id> reads its stack's outputs
(N3Callback-<id>) from CloudFormation with your usual AWS credentials and region; or pass them (--queue-url,
--dlq-url, --table, --documents-table, --bucket, --api, or N3_QUEUE_URL, N3_DLQ_URL, N3_TABLE_NAME,
N3_DOCUMENTS_TABLE_NAME, N3_BUCKET_NAME, N3_DOCUMENTS_API). A flag always wins over what --site found.
The document commands use the document API (npm start's base URL, or the site's DocumentsApiUrl), signed with
your AWS credentials against AWS.
MessageType: ${MESSAGE_TYPES.join(', ')}; stage: ${STAGES.join(', ')}`;

/** The flags the usage text names: what "did you mean" suggests for an unknown one (only documented flags). */
const OPTIONS = [...new Set([...USAGE.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!))];

/** Every command `main` knows, for "did you mean". */
const COMMANDS = [
  'simulate',
  'send',
  'tail',
  'show',
  'redrive',
  'replay',
  'rejected',
  'audit',
  'doc',
  'docs',
  'expect',
  'silent',
  'reproject',
] as const;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = explainingArgs(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        base: { type: 'string' },
        'queue-url': { type: 'string' },
        'dlq-url': { type: 'string' },
        table: { type: 'string' },
        'documents-table': { type: 'string' },
        bucket: { type: 'string' },
        site: { type: 'string' },
        show: { type: 'string' },
        body: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        since: { type: 'string' },
        once: { type: 'boolean', default: false },
        only: { type: 'string' },
        'test-lpu': { type: 'string' },
        'doc-prefix': { type: 'string' },
        max: { type: 'string' },
        api: { type: 'string' },
        stage: { type: 'string' },
        state: { type: 'string' },
        within: { type: 'string' },
        reason: { type: 'string' },
        ...REPLAY_OPTIONS,
        'new-id': { type: 'boolean', default: false },
        ladder: { type: 'boolean', default: false },
        fleet: { type: 'boolean', default: false },
        sites: { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }),
  );
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command === 'console') return consoleCommand(values);
  const target = await resolveTarget(values);

  switch (command) {
    case 'simulate': {
      const only = values.only ? new RegExp(values.only, 'i') : undefined;
      if (only && !SCENARIOS.some((s) => only.test(s.name)))
        throw new UsageError(`no scenario matches --only ${JSON.stringify(values.only)}: n3-callback simulate --help`);
      const baseUrl = postableBaseUrl(target);
      const marking = markingFor(baseUrl, target.local, values);
      console.error(`Simulating the N3 sender against ${baseUrl}, run ${marking.runId} (${SIMULATION_HEADER})`);
      const results = await simulate(baseUrl, { marking, ...(only ? { only } : {}) });
      console.log(report(results));
      return results.every((r) => r.ok) ? 0 : 1;
    }
    case 'send': {
      const [typeName, file] = rest;
      if (!typeName || !file)
        throw new UsageError('send needs a MessageType and a JSON file: n3-callback send REMDStatus examples/REMDStatus.json');
      const type = findMessageType(typeName);
      if (!type) throw new UsageError(`unknown MessageType "${typeName}": one of ${MESSAGE_TYPES.join(', ')}`);
      const body = values['new-id'] ? withNewMessageId(readFileOrExplain(file), file) : readFileOrExplain(file);
      const url = new URL(type, postableBaseUrl(target));
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(TOOL_DEADLINE.attemptMs),
      });
      const text = await response.text();
      let ack: Ack;
      try {
        ack = JSON.parse(text) as Ack;
      } catch {
        throw new UsageError(`the answer from ${url.href} is not an ack (HTTP ${response.status}): is --base the callback endpoint?`);
      }
      console.log(`HTTP ${response.status}\n${printable(text, { multiline: true })}`);
      return ack.Status === 'Success' ? 0 : 1;
    }
    case 'tail': {
      const tableName = requireValue(target.tableName, 'the table (--table)');
      const since = new Date(Date.now() - durationMs(values.since ?? '15m')).toISOString();
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      if (!values.once) console.error(paint('dim', `Watching ${tableName} (Ctrl-C stops)…`));
      const shown = await tail({
        dynamodb: target.dynamodb,
        tableName,
        json: values.json,
        since,
        follow: !values.once,
        signal: controller.signal,
      });
      if (values.once && shown === 0 && !values.json) console.log(`No callbacks since ${since}.`);
      return 0;
    }
    case 'redrive': {
      const dlqUrl = requireValue(target.dlqUrl, 'the dead-letter queue (--dlq-url)');
      const queueUrl = requireValue(target.queueUrl, 'the MIS queue (--queue-url)');
      const max = values.max === undefined ? undefined : positiveInteger(values.max, '--max');
      const { moved } = await audited(target, { command: 'redrive', selection: { max } }, async () => {
        const result = await redrive({ sqs: target.sqs, dlqUrl, queueUrl, max });
        return { ...result, counts: { moved: result.moved } };
      });
      console.log(`${moved} message(s) moved from the dead-letter queue back to the MIS queue`);
      return 0;
    }
    case 'replay': {
      // Ctrl-C (or a kill) stops it before the next message; the checkpoint holds what was sent.
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop).once('SIGTERM', stop);
      try {
        return await replayCommand(target, values, controller.signal);
      } finally {
        process.off('SIGINT', stop).off('SIGTERM', stop);
      }
    }
    case 'rejected': {
      if (rest[0] === 'readmit') {
        const keys = rest.slice(1);
        if (keys.length === 0 && !values.since)
          throw new UsageError('readmit needs keys or prefixes (n3-callback rejected lists them), or --since 1d --reason CODE');
        if (keys.length === 0 && !values.reason)
          throw new UsageError('readmit --since needs --reason CODE (e.g. invalid_fields): a window alone would run every rejection again');
        const since = values.since ? new Date(Date.now() - durationMs(values.since)) : undefined;
        const report = await readmit(
          target,
          { keys, ...(since ? { since } : {}), ...(values.reason ? { reason: values.reason } : {}) },
          values['dry-run'],
        );
        console.log(formatReadmit(report, values['dry-run'], values.json));
        return 0;
      }
      const bucket = requireValue(target.bucket, 'the bucket (--bucket)');
      if (values.show) {
        try {
          const key = await resolveRejectedKey(target.s3, bucket, values.show, new Date(Date.now() - durationMs(values.since ?? '14d')));
          console.log(await showRejected(target.s3, bucket, key, values.body));
        } catch (error) {
          if ((error as Error).name === 'NoSuchKey')
            throw new UsageError(`no rejected request under "${values.show}": n3-callback rejected lists the keys`);
          throw error;
        }
        return 0;
      }
      const since = new Date(Date.now() - durationMs(values.since ?? '1d'));
      console.log(formatRejected(await listRejected(target.s3, bucket, since), values.json));
      return 0;
    }
    case 'show': {
      const [idOrPrefix] = rest;
      if (!idOrPrefix) throw new UsageError('show needs a MessageId or its start: n3-callback tail lists them');
      const shown = await showMessage({
        dynamodb: target.dynamodb,
        s3: target.s3,
        tableName: requireValue(target.tableName, 'the message table (--table)'),
        idOrPrefix,
        since: new Date(Date.now() - durationMs(values.since ?? '14d')).toISOString(),
      });
      console.log(formatShown(shown, values.json));
      return 0;
    }
    case 'doc': {
      const [documentId] = rest;
      if (!documentId) throw new UsageError('doc needs a document id');
      const view = await documents(target).getDocument(documentId);
      if (!view) {
        console.error(`n3-callback: no document ${printableJson(documentId)}: nothing received about it, and no expectation`);
        return 1;
      }
      // Document views carry what senders wrote (ids, message texts): printed through printable*.
      console.log(values.json ? printableJson(view) : formatDocument(printableStrings(view)));
      return 0;
    }
    case 'docs': {
      if (values.ladder) {
        const ladder = await documents(target).ladder();
        console.log(values.json ? printableJson(ladder) : formatLadder(printableStrings(ladder)));
        return 0;
      }
      const views = await documents(target).listDocuments(documentFilter(values));
      console.log(values.json ? printableJson(views) : formatDocuments(printableStrings(views)));
      return 0;
    }
    case 'expect': {
      const [documentId] = rest;
      if (!documentId) throw new UsageError('expect needs a document id');
      const { stage, within } = stageAndWithin(values);
      const { view } = await audited(target, { command: 'expect', selection: { documentId, stage, within } }, async () => ({
        view: await documents(target).expect(documentId, stage, within),
        counts: { expectations: 1 },
      }));
      const expectation = view.expectations?.find((e) => e.stage === stage);
      console.log(values.json ? printableJson(view) : printable(`expecting ${stage} for ${documentId} by ${expectation?.expectedBy}`));
      return 0;
    }
    case 'silent': {
      const silent = await documents(target).listSilent();
      console.log(values.json ? printableJson(silent) : formatSilent(printableStrings(silent)));
      return 0;
    }
    case 'errors': {
      const since = new Date(Date.now() - durationMs(values.since ?? '1d')).toISOString();
      const summary = summariseCauses(
        await failedAnswersSince(target.dynamodb, requireValue(target.tableName, 'the table (--table)'), since),
      );
      console.log(values.json ? printableJson({ since, ...summary }) : formatCauses(summary, since));
      return 0;
    }
    case 'reproject': {
      const tableName = requireValue(target.tableName, 'the message table (--table)');
      const documentsTableName = requireValue(target.documentsTableName, 'the documents table (--documents-table)');
      const { text } = await audited(target, { command: 'reproject', selection: { tableName, documentsTableName } }, async () => {
        let counts: Record<string, number> = {};
        const text = await reprojectDocuments({
          dynamodb: target.dynamodb,
          tableName,
          documentsTableName,
          json: values.json,
          onResult: (r) => (counts = { ...r }),
        });
        return { text, counts };
      });
      console.log(text);
      return 0;
    }
    case 'audit': {
      const since = new Date(Date.now() - durationMs(values.since ?? '7d'));
      console.log(formatAudit(await listAudit(target, since), values.json));
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"${didYouMean(command, COMMANDS)} (n3-callback --help lists them)`);
  }
}

async function consoleCommand(values: { site?: string; fleet: boolean; sites?: string; port?: string }): Promise<number> {
  if (values.site === undefined && !values.fleet)
    throw new UsageError('console needs --site <id> (a deployed site) or --fleet; npm start serves its own console at <base>/_local/');
  const fleet = values.fleet ? (values.sites ? values.sites.split(',').filter(Boolean) : configuredSiteIds()) : undefined;
  if (values.port !== undefined && !(/^\d{1,5}$/.test(values.port) && Number(values.port) <= 65_535))
    throw new UsageError(`--port takes a port number (0: any free one), got "${values.port}"`);
  const port = values.port === undefined ? undefined : Number(values.port);
  // A site that cannot be found is said now, not as a page of errors.
  if (values.site !== undefined) await consoleSite(values.site);
  const running = await serveConsole({
    ...(values.site ? { siteId: values.site } : {}),
    ...(fleet ? { fleet } : {}),
    ...(port ? { port } : {}),
  });
  const page = fleet ? `${running.url}_local/fleet.html` : `${running.url}_local/`;
  console.log(`Console of ${fleet ? `${fleet.length} site(s)` : `site ${values.site}`}: ${page} (127.0.0.1 only; Ctrl-C stops)`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  await running.close();
  return 0;
}

function documents(target: Target) {
  return createDocumentsClient({ baseUrl: target.documentsApiUrl, ...(target.site ? { region: target.site.region } : {}) });
}

function durationMs(text: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!match) throw new UsageError(`--since takes a duration such as 30s, 15m, 2h, 1d`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

/**
 * Exit codes: 0 done; 1 the endpoint said no (a Failed ack, a failed scenario, an unknown document);
 * 2 the command could not run (a wrong argument, nothing answering, a missing file). Errors are one
 * line that says what to do; DEBUG=1 adds the stack.
 */
export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    // The message may quote what a server answered (a document id, an error text): printed escaped.
    console.error(paint('red', `n3-callback: ${printable(explain(error as Error))}`));
    if (process.env.DEBUG) console.error(printable(String((error as Error).stack), { multiline: true }));
    process.exitCode = 2;
  }
}

/** The one line a person needs, for the errors people meet. */
export function explain(error: Error & { code?: string; cause?: unknown }): string {
  if (error instanceof UsageError || error instanceof BaseUrlError) return error.message;
  // The adapters wrap what the store said (for the functions' retry rules): the tool's reader wants the cause.
  if (error.name === 'StoreUnavailableError' && error.cause instanceof Error) return explain(error.cause);
  const cause = error.cause as { code?: string; address?: string; port?: number } | undefined;
  if (error.message === 'fetch failed' && cause?.code && ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH'].includes(cause.code)) {
    const where = cause.address ? `http://${cause.address}${cause.port ? `:${cause.port}` : ''}/` : 'the base URL';
    return `nothing answers at ${where} — is npm start running? (--base / N3_CALLBACK_BASE)`;
  }
  if (error.message === 'fetch failed' && (cause as Error | undefined)?.message === 'bad port') {
    return 'fetch refuses that port (one browsers block): run npm start on another PORT';
  }
  if (error.name === 'CredentialsProviderError')
    return 'no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID (or point --base at npm start)';
  if (error.name === 'ResourceNotFoundException' || error.name === 'QueueDoesNotExist' || error.name === 'NoSuchBucket') {
    return `${error.message.split('\n')[0]}: check --table / --queue-url / --bucket (the stack outputs)`;
  }
  return `${error.name}: ${error.message.split('\n')[0]} (DEBUG=1 shows where)`;
}

function explainingArgs<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    // Node's advice on '--' is noise here. (Cut by text: the pattern `/\. To specify….*$/` scans quadratically.)
    const message = (error as Error).message.split('\n')[0]!.split('. To specify a positional argument')[0]!;
    const unknown = /^Unknown option '--([^']+)'/.exec(message)?.[1];
    const hint = unknown === undefined ? '' : didYouMean(unknown, OPTIONS).replace(/"(.+)"/, '"--$1"');
    throw new UsageError(`${message}${hint} (n3-callback --help lists the options)`);
  }
}

/** The message in `file` with a fresh MessageId (printed to stderr), so that sending it again is a new message, not a duplicate. */
function withNewMessageId(body: Buffer, file: string): string {
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch {
    throw new UsageError(`--new-id needs a JSON object in ${file}: it is not JSON`);
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message))
    throw new UsageError(`--new-id needs a JSON object in ${file}`);
  const messageId = randomUUID();
  console.error(paint('dim', `MessageId ${messageId}`));
  return JSON.stringify({ ...message, MessageId: messageId });
}

function readFileOrExplain(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${code ?? (error as Error).message}`);
  }
}

function positiveInteger(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} takes a whole number above 0, got "${text}"`);
  return Number(text);
}
