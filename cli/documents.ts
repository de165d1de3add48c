import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDocumentStore, type ReprojectProgress, reproject, scanStoredMessages } from '../lambdas/adapters';
import {
  DOCUMENT_LIMITS,
  type DocumentFilter,
  type DocumentView,
  isStage,
  parseDuration,
  type SilentDocument,
  STAGES,
} from '../contract/documents';
import { paint, table } from './ui';
import { UsageError } from './target';

/* `doc`, `docs`, `expect`, `silent`, `reproject`: the document status, for people (tables) and programs (`--json`). */

export function formatDocument(view: DocumentView): string {
  const rows: string[][] = [];
  if (view.cda)
    rows.push([
      'cda',
      colour(view.cda.state),
      view.cda.idMedDocument !== undefined ? `IdMedDocument ${view.cda.idMedDocument}` : '',
      view.cda.message,
    ]);
  if (view.semd) rows.push(['semd', colour(view.semd.state), '', view.semd.message]);
  if (view.remd) {
    const detail = [
      view.remd.regNumber ? `№ ${view.remd.regNumber}` : '',
      view.remd.idFedRequest ? `request ${view.remd.idFedRequest}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    rows.push(['remd', colour(view.remd.state), detail, view.remd.message]);
  }
  if (view.mse) rows.push(['mse', colour(view.mse.state), view.mse.idResultMse ?? '', view.mse.message]);
  for (const answer of view.vimis ?? [])
    rows.push([
      'vimis',
      colour(answer.state),
      `${answer.recipientSystem}, SMS ${answer.docType}, code ${answer.statusCode}`,
      answer.message,
    ]);
  const lines = [
    paint('bold', `Document ${view.documentId}`),
    rows.length ? table(['stage', 'state', 'detail', 'message'], rows) : '(no answer yet)',
  ];
  for (const e of view.expectations ?? []) {
    lines.push(`expects ${e.stage} by ${e.expectedBy}: ${e.metAt ? `answered ${e.metAt}` : paint('yellow', 'no answer yet')}`);
  }
  lines.push('');
  if (view.timelineTruncated)
    lines.push(paint('dim', `(the newest ${view.timeline.length} messages; older ones are in the message table)`));
  lines.push(
    table(
      ['received', 'type', 'Status', 'MessageId'],
      view.timeline.map((t) => [t.receivedAt, t.messageType, t.status, t.messageId]),
    ),
  );
  return lines.join('\n');
}

export function formatDocuments(views: readonly DocumentView[]): string {
  if (views.length === 0) return 'No documents match.';
  return table(
    ['document', ...STAGES, 'updated'],
    views.map((v) => [
      v.documentId,
      ...STAGES.map((stage) => {
        if (stage === 'vimis') return v.vimis ? colour(v.vimis.some((a) => a.state === 'Failed') ? 'Failed' : 'Success') : '';
        return v[stage] ? colour(v[stage].state) : '';
      }),
      v.updatedAt,
    ]),
  );
}

export function formatSilent(silent: readonly SilentDocument[]): string {
  if (silent.length === 0) return 'No silent documents: every expected answer arrived in time.';
  return table(
    ['document', 'stage', 'expected by'],
    silent.map((s) => [s.documentId, s.stage, paint('yellow', s.expectedBy)]),
  );
}

/** `--stage` / `--state` / `--since` as a filter, checked. */
export function documentFilter(values: { stage?: string; state?: string; since?: string }): DocumentFilter {
  if (values.stage !== undefined && !isStage(values.stage)) throw new UsageError(`--stage must be one of ${STAGES.join(', ')}`);
  if (values.state !== undefined && values.stage === undefined) throw new UsageError('--state needs --stage');
  if (values.since !== undefined && parseDuration(values.since) === undefined)
    throw new UsageError('--since takes a duration such as 30s, 15m, 24h, 2d');
  return {
    ...(values.stage ? { stage: values.stage } : {}),
    ...(values.state ? { state: values.state } : {}),
    ...(values.since ? { since: values.since } : {}),
  };
}

export function stageAndWithin(values: { stage?: string; within?: string }) {
  if (!isStage(values.stage)) throw new UsageError(`expect needs --stage, one of ${STAGES.join(', ')}`);
  if (!values.within || parseDuration(values.within) === undefined)
    throw new UsageError('expect needs --within, a duration such as 30s, 15m, 24h, 2d');
  return { stage: values.stage, within: values.within };
}

function colour(state: string): string {
  if (state === 'failed' || state === 'Failed') return paint('red', state);
  return paint(state === 'awaiting' ? 'yellow' : 'green', state);
}

/**
 * `reproject`: rebuilds every document from the message table (after the projector gave up on a
 * stream batch, or after a projection change). Progress goes to stderr (one line, rewritten on a
 * terminal); the summary to stdout. Safe beside the live projector, and a second run writes nothing.
 */
export async function reprojectDocuments(options: {
  dynamodb: DynamoDBClient;
  tableName: string;
  documentsTableName: string;
  json: boolean;
  progress?: NodeJS.WriteStream;
  /** Told the counts at the end (the audit record's). */
  onResult?: (result: ReprojectProgress) => void;
}): Promise<string> {
  const progress = options.progress ?? process.stderr;
  let shownAt = 0;
  const show = (p: ReprojectProgress, final = false) => {
    const line = `reproject: ${p.messages} messages read, ${p.written} document writes, ${p.unchanged} already current`;
    if (progress.isTTY) progress.write(`\r${line}${final ? '\n' : ''}`);
    else if (final || Date.now() - shownAt >= 2_000) {
      progress.write(`${line}\n`);
      shownAt = Date.now();
    }
  };
  const result = await reproject(
    scanStoredMessages(options.dynamodb, options.tableName),
    new DynamoDbDocumentStore(options.dynamodb, options.documentsTableName),
    { now: () => new Date().toISOString(), onProgress: (p) => show(p) },
  );
  options.onResult?.(result);
  if (!options.json) show(result, true);
  if (options.json) return JSON.stringify(result);
  const notes = [
    result.skipped ? `${result.skipped} skipped (document id over ${DOCUMENT_LIMITS.documentIdBytes} bytes)` : '',
    result.unreadable ? `${result.unreadable} items that are not message records left alone` : '',
  ].filter(Boolean);
  return `Reprojected ${result.messages} messages from ${options.tableName} into ${options.documentsTableName}: ${result.written} document writes, ${result.unchanged} already current${notes.length ? `; ${notes.join('; ')}` : ''}.`;
}
