import type { Stage } from './documents';

/*
 * The age ladder: documents still waiting for a final answer, counted by how long they have waited. The rungs are
 * the ones a regional REMD monitoring dashboard uses ("up to 5 min" … "up to 15 days", then "no answer"): one home
 * here, read by the document API, the CLI (`docs --ladder`), the console and the fleet page.
 */

/** Upper edges (inclusive) of every rung but the last, in milliseconds; a wait past the last edge is "no answer". */
export const LADDER_RUNGS = [
  { id: '5m', maxMs: 5 * 60_000, ru: 'до 5 мин', en: '≤ 5 min' },
  { id: '1h', maxMs: 3_600_000, ru: 'до 1 ч', en: '≤ 1 h' },
  { id: '1d', maxMs: 86_400_000, ru: 'до 1 сут', en: '≤ 1 day' },
  { id: '7d', maxMs: 7 * 86_400_000, ru: 'до 7 сут', en: '≤ 7 days' },
  { id: '15d', maxMs: 15 * 86_400_000, ru: 'до 15 сут', en: '≤ 15 days' },
  { id: 'none', maxMs: Number.POSITIVE_INFINITY, ru: 'нет ответа', en: 'no answer' },
] as const;

export type RungId = (typeof LADDER_RUNGS)[number]['id'];
export const RUNG_IDS: readonly RungId[] = LADDER_RUNGS.map((rung) => rung.id);

/** The rung of a wait of `ageMs` (a negative age, a clock ahead of the writer's, counts as the first rung). */
export function rungOf(ageMs: number): RungId {
  return LADDER_RUNGS.find((rung) => ageMs <= rung.maxMs)!.id;
}

/**
 * A document waiting for a final answer, as the documents table's `updated` index holds it: the stage it waits
 * on (`remd` accepted but not yet registered, `mse` registered but no result file, or a stage the MIS said it
 * expects and that has no final state yet) and since when it waits.
 */
export interface OpenDocument {
  readonly documentId: string;
  readonly stage: Stage;
  readonly since: string;
}

export type RungCounts = Readonly<Record<RungId, number>>;

export interface Ladder {
  /** When the ladder was computed (ages are measured from it). */
  readonly at: string;
  readonly total: number;
  readonly rungs: RungCounts;
  /** The same counts per stage waited on (the "type" of the wait). */
  readonly byStage: Readonly<Partial<Record<Stage, RungCounts>>>;
  /** The oldest waits (ids only), for a person to open: at most `LADDER_OLDEST`. */
  readonly oldest: readonly OpenDocument[];
}

export const LADDER_OLDEST = 20;

export const emptyRungs = (): Record<RungId, number> => Object.fromEntries(RUNG_IDS.map((id) => [id, 0])) as Record<RungId, number>;

/** Counts open documents by rung and by stage at `now`. A document waiting on two stages counts once per stage in `byStage`, once in `rungs` (by its oldest wait). */
export function ladderOf(open: readonly OpenDocument[], now: Date): Ladder {
  const rungs = emptyRungs();
  const byStage: Partial<Record<Stage, Record<RungId, number>>> = {};
  const oldestPerDocument = new Map<string, OpenDocument>();
  for (const wait of open) {
    const rung = rungOf(now.getTime() - Date.parse(wait.since));
    byStage[wait.stage] ??= emptyRungs();
    byStage[wait.stage]![rung]++;
    const known = oldestPerDocument.get(wait.documentId);
    if (!known || wait.since < known.since) oldestPerDocument.set(wait.documentId, wait);
  }
  for (const wait of oldestPerDocument.values()) rungs[rungOf(now.getTime() - Date.parse(wait.since))]++;
  const oldest = [...oldestPerDocument.values()].sort((a, b) => a.since.localeCompare(b.since)).slice(0, LADDER_OLDEST);
  return { at: now.toISOString(), total: oldestPerDocument.size, rungs, byStage, oldest };
}

/** Adds ladders (a fleet's, from its sites'). */
export function sumRungs(counts: readonly RungCounts[]): RungCounts {
  const sum = emptyRungs();
  for (const one of counts) for (const id of RUNG_IDS) sum[id] += one[id] ?? 0;
  return sum;
}
