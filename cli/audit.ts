import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { TOOL_DEADLINE } from '../contract/deadlines';
import { BUCKET_PREFIXES } from '../contract/names';
import { type AuditIdentity, type AuditPhase, type AuditRecord, type AuditStore, S3AuditStore } from '../lambdas/adapters';
import { requireValue, type Target, UsageError } from './target';
import { paint, printable, printableJson, table } from './ui';

/*
 * The audit trail of actions that change a site's data or its queue (issue 27): who (the caller's identity from
 * STS), when, the command and its selection, counts and outcome, recorded before and after the action in the
 * site's own bucket under audit/ (lambdas/adapters/audit-log.ts: why there). No record before, no action: an
 * action nobody could record does not run. `n3-callback audit` lists them.
 * What this cannot see: anyone changing the table, queue or bucket with the AWS console, the AWS CLI or their
 * own code. CloudTrail data events (DynamoDB, S3 and SQS data planes) record those; see docs/operations.md.
 */

export type { AuditIdentity, AuditRecord };

export interface AuditedAction {
  /** The command as typed, e.g. `replay`, `rejected readmit`, `redrive`, `reproject`, `expect`. */
  readonly command: string;
  /** The selection it acts on (flags, ids, windows): never payload text. */
  readonly selection: Readonly<Record<string, unknown>>;
  readonly dryRun?: boolean;
}

export interface AuditOutcome {
  /** What it did, counted (e.g. `{ sent: 12, skipped: 1 }`). */
  readonly counts: Readonly<Record<string, number>>;
}

/** Runs `run` between a "started" and a "finished"/"failed" (or, on Ctrl-C, "interrupted") record of it. */
export async function audited<T extends AuditOutcome>(target: Target, action: AuditedAction, run: () => Promise<T>): Promise<T> {
  const bucket = requireValue(target.bucket, 'the bucket the audit trail is kept in (--bucket)');
  return recordAround(
    {
      store: new S3AuditStore(target.s3, bucket),
      who: await callerIdentity(target),
      site: siteOf(target),
      where: `s3://${bucket}/${BUCKET_PREFIXES.audit}`,
    },
    action,
    run,
  );
}

export interface AuditContext {
  readonly store: AuditStore;
  readonly who: AuditIdentity;
  readonly site: string;
  /** Where the records go, as a person would look there (for the one-line errors). */
  readonly where: string;
  readonly now?: () => Date;
  /** Which process signals count as an interruption (tests pass their own emitter). */
  readonly signals?: Pick<NodeJS.Process, 'prependOnceListener' | 'off' | 'listenerCount'> & { exit?: (code: number) => never };
}

/** `audited`, over any store: the records it writes and when. */
export async function recordAround<T extends AuditOutcome>(
  context: AuditContext,
  action: AuditedAction,
  run: () => Promise<T>,
): Promise<T> {
  const now = context.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const base = {
    id: `${startedAt.slice(0, 10).replaceAll('-', '')}-${randomUUID().slice(0, 8)}`,
    startedAt,
    site: context.site,
    who: context.who,
    command: action.command,
    selection: action.selection,
    dryRun: action.dryRun ?? false,
  };
  const write = (phase: AuditPhase, extra: Partial<AuditRecord> = {}) =>
    context.store.put({ ...base, phase, at: phase === 'started' ? startedAt : now().toISOString(), ...extra });

  try {
    await write('started');
  } catch (error) {
    throw new UsageError(
      `${action.command} did not run: its audit record could not be written to ${context.where} (${oneLine(error)}); it needs s3:PutObject there`,
    );
  }

  let ended = false;
  const signals = context.signals ?? process;
  const onSignal = (signal: NodeJS.Signals) => {
    // Counted now, before the other handlers run: Node removes a once-listener (replay's, cli/main.ts) before calling it.
    const alone = signals.listenerCount(signal) === 0;
    if (ended) return;
    ended = true;
    const exitIfAlone = () => {
      // The action may stop itself on the signal (replay keeps a checkpoint); else the signal's usual end.
      if (alone) (signals.exit ?? process.exit)(130);
    };
    write('interrupted', { error: `stopped by ${signal}` }).then(exitIfAlone, (error) => {
      console.error(paint('red', `n3-callback: the interruption of ${action.command} could not be recorded (${oneLine(error)})`));
      exitIfAlone();
    });
  };
  // First in line, so that it sees the action's own handlers still registered (see `alone`).
  signals.prependOnceListener('SIGINT', onSignal);
  signals.prependOnceListener('SIGTERM', onSignal);
  const settle = async (phase: AuditPhase, extra: Partial<AuditRecord>) => {
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
    if (ended) return;
    ended = true;
    try {
      await write(phase, extra);
    } catch (error) {
      // It ran: failing the command now would say it did not. Said loudly instead.
      console.error(
        paint('red', `n3-callback: ${action.command} ran, but its end could not be recorded in ${context.where} (${oneLine(error)})`),
      );
    }
  };

  let result: T;
  try {
    result = await run();
  } catch (error) {
    await settle('failed', { error: oneLine(error) });
    throw error;
  }
  await settle('finished', { counts: result.counts });
  return result;
}

const oneLine = (error: unknown) => {
  const { name, message } = error as Error;
  return `${name ?? 'Error'}: ${String(message ?? error).split('\n')[0]}`.slice(0, 300);
};

function siteOf(target: Target): string {
  return target.site?.siteId ?? target.localInfo?.siteId ?? process.env.N3_SITE_ID ?? '';
}

/**
 * Who is calling, as STS says (GetCallerIdentity: allowed to everyone, no permission needed). Against npm start,
 * `local`. When STS cannot be reached the action still runs, its record saying who could not be told and why:
 * the records must not stop a recovery in an incident, and the credentials' owner is in CloudTrail.
 */
export async function callerIdentity(target: Pick<Target, 'local' | 'site'>, env = process.env): Promise<AuditIdentity> {
  const osUser = safeOsUser();
  if (target.local) return { arn: 'local', account: 'local', ...(osUser ? { osUser } : {}) };
  try {
    return {
      ...(await stsCallerIdentity(target.site?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION, env)),
      ...(osUser ? { osUser } : {}),
    };
  } catch (error) {
    const unresolved = oneLine(error);
    console.error(paint('dim', `n3-callback: who you are could not be told (STS: ${unresolved}); recorded as unknown`));
    return { arn: 'unknown', account: 'unknown', unresolved, ...(osUser ? { osUser } : {}) };
  }
}

function safeOsUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/**
 * STS GetCallerIdentity, signed with the operator's credentials (the SDK's default chain), as consumer/documents.ts
 * signs the document API: the project has no STS client, and this one call does not need one. The SDK's own
 * AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL) points it elsewhere, e.g. at a test's fake.
 */
async function stsCallerIdentity(region: string | undefined, env: NodeJS.ProcessEnv): Promise<Omit<AuditIdentity, 'osUser'>> {
  const endpoint = new URL(
    env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || (region ? `https://sts.${region}.amazonaws.com/` : 'https://sts.amazonaws.com/'),
  );
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signer = new SignatureV4({
    service: 'sts',
    region: region ?? 'us-east-1',
    credentials: defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path: endpoint.pathname,
      headers: { host: endpoint.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    }),
  );
  // A hung STS ends (contract/deadlines.ts, TOOL_DEADLINE), and sooner: it only names who ran the action.
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body,
    signal: AbortSignal.timeout(Math.min(TOOL_DEADLINE.attemptMs, 10_000)),
  });
  const xml = await response.text();
  // The text of the first <name> element: found by position, not by a pattern built at run time.
  const field = (name: string) => {
    const start = xml.indexOf(`<${name}>`);
    const end = start < 0 ? -1 : xml.indexOf('<', start + name.length + 2);
    return end < 0 ? undefined : xml.slice(start + name.length + 2, end);
  };
  if (!response.ok) throw Object.assign(new Error(field('Message') ?? `HTTP ${response.status}`), { name: field('Code') ?? 'StsError' });
  const arn = field('Arn');
  const account = field('Account');
  if (!arn || !account) throw Object.assign(new Error('no Arn or Account in the answer'), { name: 'StsError' });
  const userId = field('UserId');
  return { arn, account, ...(userId ? { userId } : {}) };
}

/** One action as listed: its start and its end (if one was recorded) together; the rest as its records say. */
export interface AuditedActionView extends Omit<AuditRecord, 'phase' | 'at'> {
  readonly endedAt?: string;
  /** finished, failed, interrupted; `running?` when only the start is recorded (still running, or killed). */
  readonly outcome: Exclude<AuditPhase, 'started'> | 'running?';
}

/** Records, paired into actions by id, in order of their start. An end whose start is before the window stands alone. */
export function actionsOf(records: readonly AuditRecord[]): AuditedActionView[] {
  const byId = new Map<string, AuditedActionView>();
  for (const record of [...records].sort((a, b) => a.at.localeCompare(b.at))) {
    const known = byId.get(record.id);
    const { id, startedAt, site, who, command, selection, dryRun } = record;
    const view: AuditedActionView = known ?? { id, startedAt, site, who, command, selection, dryRun, outcome: 'running?' };
    byId.set(
      id,
      record.phase === 'started'
        ? view
        : {
            ...view,
            outcome: record.phase,
            endedAt: record.at,
            ...(record.counts ? { counts: record.counts } : {}),
            ...(record.error ? { error: record.error } : {}),
          },
    );
  }
  return [...byId.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

export async function listAudit(target: Target, since: Date, until = new Date()): Promise<AuditedActionView[]> {
  const bucket = requireValue(target.bucket, 'the bucket the audit trail is kept in (--bucket)');
  return actionsOf(await new S3AuditStore(target.s3, bucket).list(since, until));
}

export function formatAudit(actions: readonly AuditedActionView[], json: boolean): string {
  // Every field is printed escaped: what was typed (keys, ids), and the records themselves, which anyone who may
  // write to the bucket could have put there by hand.
  if (json) return actions.map((a) => printableJson(a)).join('\n');
  if (actions.length === 0) return 'No audited actions in that period.';
  const outcomeColour = { finished: 'green', failed: 'red', interrupted: 'yellow', 'running?': 'yellow' } as const;
  return table(
    ['started', 'who', 'command', 'selection', 'outcome', 'counts'],
    actions.map((a) => [
      printable(String(a.startedAt).replace('T', ' ').slice(0, 19)),
      printable(a.who.arn === 'unknown' ? `unknown${a.who.osUser ? ` (${a.who.osUser})` : ''}` : a.who.arn),
      printable(`${a.command}${a.dryRun ? ' --dry-run' : ''}`),
      printable(compact(a.selection)),
      paint(outcomeColour[a.outcome] ?? 'yellow', printable(String(a.outcome))),
      printable(a.error ?? compact(a.counts ?? {})),
    ]),
  );
}

const compact = (values: Readonly<Record<string, unknown>>) =>
  Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
    .slice(0, 80);
