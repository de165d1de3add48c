/*
 * Errors by cause: every Failed answer the platform sent (`Status: Failed`) sorted into a cause by the table below,
 * matched on its `Message` text and, where a rule names them, its `StatusCode` (VimisResult) and MessageType. The
 * first rule that matches wins, so the narrow ones come first (a failed signature check is "signature", not
 * "structure", though its text says validation). A text no rule matches is "unclassified": shown and counted, so
 * that the table can grow from what operators actually see (docs/errors.md says how to add a rule).
 *
 * The patterns run on text a sender wrote: each must run in linear time (test/hostile/regex-safety.test.ts checks
 * every literal here with recheck). Keep them plain alternations of word stems, with the `i` and `u` flags.
 *
 * The text is medical-adjacent (it may name a patient's data): it is shown to the operator in the console and the
 * CLI, never logged; summaries carry message ids and counts.
 */

import type { MessageType } from './catalog';

export const CAUSES = [
  { id: 'signature', ru: 'подпись и сертификаты', en: 'signature and certificates' },
  { id: 'patient', ru: 'данные пациента', en: 'patient data' },
  { id: 'clinician', ru: 'данные медработника', en: 'clinician data' },
  { id: 'organisation', ru: 'данные организации (ФРМО)', en: 'organisation data (FRMO)' },
  { id: 'reference', ru: 'справочники (НСИ)', en: 'reference data (NSI)' },
  { id: 'registration', ru: 'регистрация (РЭМД)', en: 'registration (REMD)' },
  { id: 'communication', ru: 'связь', en: 'communication' },
  { id: 'technical', ru: 'технические', en: 'technical' },
  { id: 'structure', ru: 'структура и валидация', en: 'structure and validation' },
  { id: 'unclassified', ru: 'не классифицировано', en: 'unclassified' },
] as const;

export type CauseId = (typeof CAUSES)[number]['id'];

export interface CauseRule {
  readonly cause: Exclude<CauseId, 'unclassified'>;
  /** Matched against the answer's `Message` text. */
  readonly text?: RegExp;
  /** Or: one of these `StatusCode` values (VimisResult). */
  readonly statusCodes?: readonly number[];
  /** Only answers of these types (all when absent). */
  readonly types?: readonly MessageType[];
}

/** The table, in order: edit it here (and say why in docs/errors.md). */
export const CAUSE_RULES: readonly CauseRule[] = [
  {
    cause: 'signature',
    text: /подпис|(?<!\p{L})ЭЦ?П(?!\p{L})|УКЭП|сертификат|certificate|signature|криптопро|cryptopro|отозван/iu,
  },
  {
    cause: 'patient',
    text: /пациент|СНИЛС|полис|(?<!\p{L})ЕНП(?!\p{L})|(?<!\p{L})ОМС(?!\p{L})|дата рождения|документ(?:а)?,? удостоверяющ|patient|snils/iu,
  },
  {
    cause: 'clinician',
    text: /врач|медицинск(?:ого|ий|им) работник|медработник|сотрудник|(?<!\p{L})ФРМР(?!\p{L})|должност|специальност|автор(?:а)? документа|clinician|practitioner/iu,
  },
  {
    cause: 'organisation',
    text: /(?<!\p{L})ФРМО(?!\p{L})|(?<!\p{L})МО не(?!\p{L})|медицинск(?:ой|ая) организац|подразделени|OID организац|organi[sz]ation/iu,
  },
  {
    cause: 'reference',
    text: /(?<!\p{L})НСИ(?!\p{L})|справочник|(?<!\p{L})OID(?!\p{L})|1\.2\.643\.|значени[ея] (?:не )?(?:из|соответству)|не найден(?:о)? в (?:справочник|словар)|dictionary|reference data/iu,
  },
  {
    cause: 'registration',
    text: /уже зарегистрирован|повторн(?:ая|ой) регистрац|дубл|already registered|duplicate|аннулир|в регистрации отказано/iu,
    types: ['REMDStatus', 'MseResult', 'MseResultData'],
  },
  {
    cause: 'communication',
    text: /тайм-?аут|timeout|timed out|недоступ|unavailable|соединени|connection|превышено время|не отвечает|no response/iu,
  },
  {
    cause: 'technical',
    text: /внутренн(?:яя|ей) ошибк|internal|exception|(?<!\p{L})null(?!\p{L})|ошибка сервера|server error|непредвиденн/iu,
  },
  {
    cause: 'structure',
    text: /валидац|(?<!\p{L})ФЛК(?!\p{L})|форматно-логическ|(?<!\p{L})XSD(?!\p{L})|схем[аеуы](?!\p{L})|(?<!\p{L})XML(?!\p{L})|структур|обязательн|не заполнен|некорректн|формат|validation|schema|required/iu,
  },
];

/** One Failed answer, as the message table keeps it (its text only for classification and for the operator's eyes). */
export interface FailedAnswer {
  readonly messageId: string;
  readonly messageType: string;
  readonly receivedAt: string;
  readonly documentKey: string;
  readonly message: string;
  readonly statusCode?: number;
}

/** The cause of one Failed answer under `rules` (default: the table above). */
export function causeOf(answer: Pick<FailedAnswer, 'message' | 'messageType' | 'statusCode'>, rules = CAUSE_RULES): CauseId {
  for (const rule of rules) {
    if (rule.types && !(rule.types as readonly string[]).includes(answer.messageType)) continue;
    if (rule.statusCodes && answer.statusCode !== undefined && rule.statusCodes.includes(answer.statusCode)) return rule.cause;
    if (rule.text?.test(answer.message)) return rule.cause;
  }
  return 'unclassified';
}

/** Examples kept per cause. */
export const CAUSE_EXAMPLES = 5;

export interface CauseCount {
  readonly cause: CauseId;
  readonly count: number;
  /** Counts by MessageType. */
  readonly byType: Readonly<Record<string, number>>;
  /** The newest answers of this cause: ids and times, and the text (for the operator's eyes only). */
  readonly examples: readonly FailedAnswer[];
}

export interface CauseSummary {
  readonly total: number;
  /** Every cause with at least one answer, most frequent first; "unclassified" included when it has any. */
  readonly causes: readonly CauseCount[];
}

export function summariseCauses(answers: readonly FailedAnswer[], rules = CAUSE_RULES): CauseSummary {
  const byCause = new Map<CauseId, { count: number; byType: Record<string, number>; examples: FailedAnswer[] }>();
  const newestFirst = [...answers].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  for (const answer of newestFirst) {
    const cause = causeOf(answer, rules);
    const entry = byCause.get(cause) ?? { count: 0, byType: {}, examples: [] };
    entry.count++;
    entry.byType[answer.messageType] = (entry.byType[answer.messageType] ?? 0) + 1;
    if (entry.examples.length < CAUSE_EXAMPLES) entry.examples.push(answer);
    byCause.set(cause, entry);
  }
  const order = CAUSES.map((c) => c.id as CauseId);
  const causes = [...byCause]
    .map(([cause, entry]) => ({ cause, ...entry }))
    .sort((a, b) => b.count - a.count || order.indexOf(a.cause) - order.indexOf(b.cause));
  return { total: answers.length, causes };
}
