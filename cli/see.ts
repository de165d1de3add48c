import { CAUSES, type CauseSummary } from '../contract/causes';
import { LADDER_RUNGS, type Ladder } from '../contract/ladder';
import { paint, printable, table } from './ui';

/* `docs --ladder` and `errors`: the age ladder and the Failed answers by cause, for people (tables) and programs (`--json`). */

export function formatLadder(ladder: Ladder): string {
  if (ladder.total === 0) return 'No document is awaiting a final answer.';
  const header = ['waits on', ...LADDER_RUNGS.map((rung) => rung.en)];
  const rows = Object.entries(ladder.byStage).map(([stage, counts]) => [
    stage,
    ...LADDER_RUNGS.map((rung) => String(counts?.[rung.id] ?? 0)),
  ]);
  rows.push([paint('bold', 'documents'), ...LADDER_RUNGS.map((rung) => paint('bold', String(ladder.rungs[rung.id])))]);
  const oldest = ladder.oldest.slice(0, 5).map((w) => `  ${printable(w.documentId)} (${w.stage}) since ${w.since}`);
  return [table(header, rows), '', `${ladder.total} document(s) awaiting a final answer at ${ladder.at}; the oldest:`, ...oldest].join(
    '\n',
  );
}

const causeLabel = (id: string) => CAUSES.find((c) => c.id === id)?.en ?? id;

/**
 * The causes, with each one's newest examples. The example texts are the platform's own words about a document
 * (medical-adjacent): printed for the operator at the terminal only, escaped, never logged.
 */
export function formatCauses(summary: CauseSummary, since: string): string {
  if (summary.total === 0) return `No Failed answers since ${since}.`;
  const lines = [
    table(
      ['cause', 'count', 'by type'],
      summary.causes.map((c) => [
        c.cause === 'unclassified' ? paint('yellow', causeLabel(c.cause)) : causeLabel(c.cause),
        String(c.count),
        Object.entries(c.byType)
          .map(([type, n]) => `${type} ${n}`)
          .join(', '),
      ]),
    ),
  ];
  for (const c of summary.causes) {
    lines.push('', paint('bold', `${causeLabel(c.cause)} — newest ${c.examples.length}:`));
    for (const e of c.examples)
      lines.push(
        `  ${e.receivedAt} ${e.messageType} ${printable(e.documentKey)} ${e.messageId}${e.statusCode !== undefined ? ` code ${e.statusCode}` : ''}: ${printable(e.message)}`,
      );
  }
  lines.push(
    '',
    `${summary.total} Failed answer(s) since ${since}; causes from contract/causes.ts (docs/errors.md says how to add a rule).`,
  );
  return lines.join('\n');
}
