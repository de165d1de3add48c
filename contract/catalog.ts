import * as z from 'zod/mini';
import type { FieldIssue } from './errors';
import { REASONS, attributeId, id, int, isUnicodeText, optionalBase64, optionalId, status, text, uuid, type Status } from './fields';

/*
 * The one message catalog: the six callback types of the N3 delivery module (spec §3, §5).
 * Schemas, routes, Lambda functions, docs and the queue's MessageGroupId all come from here.
 * Tables are the contract; the examples in the spec are illustrations.
 */

// The shared fields' schemas are made per type (functions), as each type's schema is made when first used (below).
const common = () => ({
  MessageId: uuid(),
  Status: status(),
  Message: text(),
  // Sent on as a queue message attribute, which SQS checks and JSON cannot escape.
  Lpu: attributeId(),
});

/** A document submitted to the document acceptance module (CDA and SEMD news share these). */
const medDocument = () => ({
  IdMedDocumentMis: id(),
  IdMedDocument: int(),
  MedDocumentType: int(),
});

/** The MSE referral and its result document (both MSE messages share these). */
const mseResult = () => ({
  IdMSEMis: id(),
  IdResultMSE: id(),
});

/*
 * Each type's schema is made on first use and kept: zod builds a schema's checks when it is made, which for all six
 * was most of a receiving function's own start-up work (dev/bench/cold-start.ts), and each function reads one type.
 */
const made = new Map<string, unknown>();
const once = <T>(type: string, make: () => T): T => {
  if (!made.has(type)) made.set(type, make());
  return made.get(type) as T;
};

// Unknown fields are kept (looseObject): the sender may add fields in later versions,
// and the MIS should see them rather than lose them.
const CATALOG = {
  CDAStatus: {
    title: 'Статус генерации CDA-описания ЭМД',
    documentKey: 'IdMedDocumentMis',
    aliases: {},
    get schema() {
      return once('CDAStatus', () =>
        z.looseObject({
          ...common(),
          ...medDocument(),
          CDA: optionalBase64(),
        }),
      );
    },
  },
  SEMDStatus: {
    title: 'Результаты выгрузки СЭМД',
    documentKey: 'IdMedDocumentMis',
    aliases: {},
    get schema() {
      return once('SEMDStatus', () =>
        z.looseObject({
          ...common(),
          ...medDocument(),
        }),
      );
    },
  },
  REMDStatus: {
    title: 'Результаты регистрации ЭМД в РЭМД',
    documentKey: 'IdSourceMis',
    aliases: {},
    get schema() {
      return once('REMDStatus', () =>
        z.looseObject({
          ...common(),
          IdSourceMis: id(),
          MedDocumentType: int(),
          IdFedRequest: uuid(),
          RemdRegNumber: optionalId(),
        }),
      );
    },
  },
  MseResult: {
    title: 'Регистрация «Обратного талона» МСЭ в РЭМД ЕГИСЗ',
    documentKey: 'IdMSEMis',
    aliases: {},
    get schema() {
      return once('MseResult', () =>
        z.looseObject({
          ...common(),
          ...mseResult(),
        }),
      );
    },
  },
  MseResultData: {
    title: 'Получение «Обратного талона» МСЭ из РЭМД ЕГИСЗ',
    documentKey: 'IdMSEMis',
    aliases: {},
    get schema() {
      return once('MseResultData', () =>
        z.looseObject({
          ...common(),
          ...mseResult(),
          Data: optionalBase64(),
        }),
      );
    },
  },
  VimisResult: {
    title: 'Статус выгрузки SMS в ВИМИС',
    documentKey: 'IdDocumentMis',
    // The spec's table spells `IdSourse` and `StatusСode` (Cyrillic С); its example sends the Latin names.
    aliases: { IdSourse: 'IdSource', 'Status\u0421ode': 'StatusCode' },
    get schema() {
      return once('VimisResult', () =>
        z.looseObject({
          ...common(),
          DocType: int(),
          IdSource: id(),
          IdRecipientSystem: id(),
          StatusCode: int(),
          IdCaseMis: id(),
          IdDocumentMis: id(),
        }),
      );
    },
  },
} as const satisfies Record<string, MessageTypeSpec>;

interface MessageTypeSpec {
  /** The spec's own name of the message, for docs and operators. */
  readonly title: string;
  /** The field naming the document the message is about: the FIFO group, so one document's news stays in order. */
  readonly documentKey: string;
  /** Spellings the sender may use → the one name consumers get. */
  readonly aliases: Readonly<Record<string, string>>;
  readonly schema: z.ZodMiniType<Record<string, unknown>>;
}

export type MessageType = keyof typeof CATALOG;
export const MESSAGE_TYPES = Object.keys(CATALOG) as MessageType[];

export type Payload<T extends MessageType = MessageType> = z.output<(typeof CATALOG)[T]['schema']>;

export const messageSpec = (type: MessageType): MessageTypeSpec => CATALOG[type];

/** The fields the type's table names (canonical spellings), as opposed to extras the sender added. */
export const knownFields = (type: MessageType): readonly string[] => Object.keys(CATALOG[type].schema.shape);

const OWN_NAMES = new Map<MessageType, ReadonlySet<string>>();

/** Every top-level name that is the type's own, as the sender may spell it: its fields and their aliases. */
export const ownNames = (type: MessageType): ReadonlySet<string> => {
  if (!OWN_NAMES.has(type)) OWN_NAMES.set(type, new Set([...knownFields(type), ...Object.keys(CATALOG[type].aliases)]));
  return OWN_NAMES.get(type)!;
};

/** Resolves a path segment to a type; exact names first, then ignoring case (a hand-typed URL). */
export function findMessageType(segment: string): MessageType | undefined {
  if (Object.hasOwn(CATALOG, segment)) return segment as MessageType;
  const lower = segment.toLowerCase();
  return MESSAGE_TYPES.find((type) => type.toLowerCase() === lower);
}

export type { FieldIssue };

/** A message that passed its table's checks, normalised (aliases renamed, UUIDs lower-cased, nulls dropped). */
export interface ParsedMessage {
  readonly type: MessageType;
  /** Lower-cased: the idempotency key. */
  readonly messageId: string;
  readonly status: Status;
  readonly lpu: string;
  readonly documentKey: string;
  readonly payload: Record<string, unknown>;
}

export type ParseResult = { ok: true; message: ParsedMessage } | { ok: false; issues: FieldIssue[] };

export function parseMessage(type: MessageType, body: Record<string, unknown>): ParseResult {
  const spec = CATALOG[type];
  const { renamed, issues: aliasIssues } = applyAliases(body, spec.aliases);
  const result = spec.schema.safeParse(renamed);
  const issues = [...notUnicode(body, ownNames(type)), ...aliasIssues];
  if (!result.success) {
    for (const issue of result.error.issues) {
      // Already named by notUnicode, under the spelling the sender used (an alias is checked under its canonical name).
      if (issue.message === REASONS.loneSurrogate) continue;
      issues.push({ field: issue.path.map(String).join('.') || '(body)', reason: issue.message });
    }
  }
  if (!result.success || issues.length > 0) return { ok: false, issues: dedupeByField(issues) };

  const payload = result.data;
  return {
    ok: true,
    message: {
      type,
      messageId: payload.MessageId as string,
      status: payload.Status as Status,
      lpu: payload.Lpu as string,
      documentKey: payload[spec.documentKey] as string,
      payload,
    },
  };
}

function applyAliases(
  body: Record<string, unknown>,
  aliases: Readonly<Record<string, string>>,
): { renamed: Record<string, unknown>; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  let renamed = body;
  for (const [alias, canonical] of Object.entries(aliases)) {
    if (!Object.hasOwn(body, alias)) continue;
    if (renamed === body) renamed = { ...body };
    const value = renamed[alias];
    delete renamed[alias];
    if (Object.hasOwn(renamed, canonical) && !sameJson(renamed[canonical], value)) {
      issues.push({ field: alias, reason: `${REASONS.aliasClash} (${canonical})` });
      continue;
    }
    renamed[canonical] = value;
  }
  return { renamed, issues };
}

/** How an ack names a field the type's table does not: by position, since its name is the sender's text. */
export const extraFieldName = (position: number) => `поле вне таблицы №${position}`;

/*
 * Every string a message carries, keys and nested values included, must be Unicode text. A lone surrogate is
 * valid JSON (`"\ud800"`) but not text: JSON.stringify writes it back as that escape, which strict readers
 * (.NET's System.Text.Json among them) refuse, so a message acked Success could never be read by the MIS.
 * Named per top-level field: a table's field by name, an extra one by its position among the extras (in
 * the order JavaScript lists an object's keys: as sent, integer-like names first). Linear in the body:
 * decode.ts has bounded its depth and its number of values.
 */
function notUnicode(body: Record<string, unknown>, own: ReadonlySet<string>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  let extras = 0;
  for (const [name, value] of Object.entries(body)) {
    const field = own.has(name) ? name : extraFieldName(++extras);
    if (!isUnicodeText(name)) issues.push({ field, reason: REASONS.loneSurrogateName });
    else if (!allText(value)) issues.push({ field, reason: REASONS.loneSurrogate });
  }
  return issues;
}

function allText(value: unknown): boolean {
  if (typeof value === 'string') return isUnicodeText(value);
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(allText);
  return Object.entries(value).every(([key, inner]) => isUnicodeText(key) && allText(inner));
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

// One line per field keeps the ack readable when zod reports several checks of one value.
function dedupeByField(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter(({ field }) => !seen.has(field) && seen.add(field));
}
