import { isDeepStrictEqual } from 'node:util';
import {
  DOCUMENT_LIMITS,
  type DocumentView,
  type Expectation,
  FINAL_STATES,
  type MseStage,
  type RemdStage,
  type SilentDocument,
  STAGES,
  type Stage,
  type TimelineEntry,
  type VimisAnswer,
} from '../../contract/documents';
import type { MessageRecord } from '../ingest/ports';
import type { MessageType } from '../../contract/catalog';
import type { Status } from '../../contract/fields';

/*
 * The document projection, pure: a document's state is a function of the *set* of stored messages
 * about it (and the MIS's expectations), never of the order they were applied in. Every stage is
 * derived from the set in arrival order (`receivedAt`, then MessageId), so it can be rebuilt from the
 * messages at any time, and any permutation of them, re-sends included, gives the same state
 * (property-tested).
 *
 * Bounded: the state keeps only what the rules read — per stage the messages that decide it (the latest,
 * a REMD registration, an MSE result file, the latest VIMIS answer per pair) — and the newest timeline
 * entries, with every kept field cut to `DOCUMENT_LIMITS`. Each selection is "the latest of those that
 * match", so selecting from (what was kept ∪ a new message) is selecting from (all messages ∪ it):
 * applying a message stays order-independent, and the stored item has a fixed upper size however many
 * messages a document gets (one holding every message passed DynamoDB's 400 KB item limit at ~100 long
 * texts, and every stream batch touching it then failed).
 *
 * The rules, per stage:
 *  - cda, semd: the latest arrival decides (a resubmission after a failure can succeed);
 *  - remd: a registration (`Success` with `RemdRegNumber`) is final — a later or re-sent `Failed`
 *    does not undo it; otherwise the latest decides: `Success` without a number is `awaiting`
 *    (accepted, federal validation pending), `Failed` is `failed`;
 *  - mse: a received result file (`MseResultData` `Success`) is final; otherwise the latest decides:
 *    `MseResult` `Success` is `registered`, any `Failed` is `failed`;
 *  - vimis: per recipient system and SMS type, the latest answer (the most recently answered pairs).
 * No state is read from the `Message` text: it is kept as the platform wrote it, for people.
 */

/** Bump when the rules or the stored shape change: a document written by another version is rewritten when next touched (`reproject` touches them all). */
export const PROJECTION_VERSION = 2;

export type DocumentLimits = { readonly [K in 'timeline' | 'vimisAnswers' | 'messageChars' | 'idChars']: number };

/** What the projection keeps of one stored message: its facts, never its payload body. */
export interface DocumentMessage {
  readonly messageId: string;
  readonly messageType: MessageType;
  readonly status: Status;
  readonly receivedAt: string;
  readonly message: string;
  readonly idMedDocument?: number;
  readonly regNumber?: string;
  readonly idFedRequest?: string;
  readonly idResultMse?: string;
  readonly recipientSystem?: string;
  readonly docType?: number;
  readonly statusCode?: number;
  /** When the stored message expires (epoch seconds, the message table's TTL): the document lives as long as its newest message. */
  readonly expiresAt?: number;
}

export interface DocumentState {
  readonly documentId: string;
  /** The messages that decide a stage (see `decisiveOf`), unique by MessageId, in arrival order. */
  readonly messages: readonly DocumentMessage[];
  /** The newest timeline entries (at most `DOCUMENT_LIMITS.timeline`), oldest first. */
  readonly timeline: readonly TimelineEntry[];
  /** More messages arrived than `timeline` keeps. */
  readonly timelineTruncated: boolean;
  readonly expectations: Readonly<Partial<Record<Stage, { readonly expectedBy: string }>>>;
  /** Epoch seconds until which the document is kept (its TTL): the latest of its messages' and its expectations'. */
  readonly expiresAt?: number;
}

// A lone surrogate is valid in JSON but not Unicode text: it becomes U+FFFD in a document, which is stored as
// DynamoDB attributes (UTF-8), not as escaped JSON like the message's own payload.
const LONE_SURROGATE = /\p{Cs}/gu;

/** A text cut to `max` characters (not inside a surrogate pair), ending in `…` when it was cut; lone surrogates as U+FFFD. */
export function cut(raw: string, max: number): string {
  const text = raw.replace(LONE_SURROGATE, '\uFFFD');
  if (text.length <= max) return text;
  const high = text.charCodeAt(max - 1);
  const end = high >= 0xd800 && high <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

/** The facts of a stored message (its normalised payload) that the projection reads, each cut to the limits. */
export function documentMessageOf(
  stored: {
    messageId: string;
    messageType: MessageType;
    status: Status;
    receivedAt: string;
    payload: Readonly<Record<string, unknown>>;
    expiresAt?: number;
  },
  limits: Pick<DocumentLimits, 'messageChars' | 'idChars'> = DOCUMENT_LIMITS,
): DocumentMessage {
  const p = stored.payload;
  const text = (name: string, max: number) => (typeof p[name] === 'string' ? cut(p[name] as string, max) : undefined);
  const number = (name: string) => (typeof p[name] === 'number' ? (p[name] as number) : undefined);
  const facts: Record<string, unknown> = {
    messageId: stored.messageId,
    messageType: stored.messageType,
    status: stored.status,
    receivedAt: stored.receivedAt,
    message: text('Message', limits.messageChars) ?? '',
    idMedDocument: number('IdMedDocument'),
    regNumber: text('RemdRegNumber', limits.idChars),
    idFedRequest: text('IdFedRequest', limits.idChars),
    idResultMse: text('IdResultMSE', limits.idChars),
    recipientSystem: text('IdRecipientSystem', limits.idChars),
    docType: number('DocType'),
    statusCode: number('StatusCode'),
    expiresAt: stored.expiresAt,
  };
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as unknown as DocumentMessage;
}

/** A stored message record as the projection sees it: its document and its facts (the payload inline, or the claim check's `facts`). */
export function storedMessageOf(record: MessageRecord): { documentId: string; message: DocumentMessage } {
  const payload = JSON.parse(record.payload ?? record.facts ?? '{}') as Record<string, unknown>;
  return { documentId: record.documentKey, message: documentMessageOf({ ...record, payload }) };
}

const byArrival = (a: { receivedAt: string; messageId: string }, b: { receivedAt: string; messageId: string }) =>
  a.receivedAt === b.receivedAt ? a.messageId.localeCompare(b.messageId) : a.receivedAt.localeCompare(b.receivedAt);

export const emptyDocument = (documentId: string): DocumentState => ({
  documentId,
  messages: [],
  timeline: [],
  timelineTruncated: false,
  expectations: {},
});

const vimisPair = (m: DocumentMessage) => `${m.recipientSystem ?? ''}\u0000${m.docType ?? 0}`;

/**
 * The messages the stage rules read, from a set unique by MessageId: exactly what `stagesOf` needs, so
 * `stagesOf` gives the same answer on them as on the whole set (property-tested).
 */
export function decisiveOf(
  messages: readonly DocumentMessage[],
  limits: Pick<DocumentLimits, 'vimisAnswers'> = DOCUMENT_LIMITS,
): DocumentMessage[] {
  const kept = new Map<string, DocumentMessage>();
  const latestOf = (matches: (m: DocumentMessage) => boolean) => {
    let latest: DocumentMessage | undefined;
    for (const m of messages) if (matches(m) && (!latest || byArrival(latest, m) < 0)) latest = m;
    if (latest) kept.set(latest.messageId, latest);
  };
  latestOf((m) => m.messageType === 'CDAStatus');
  latestOf((m) => m.messageType === 'SEMDStatus');
  latestOf((m) => m.messageType === 'REMDStatus');
  latestOf((m) => m.messageType === 'REMDStatus' && m.status === 'Success' && !!m.regNumber);
  latestOf((m) => m.messageType === 'MseResult' || m.messageType === 'MseResultData');
  latestOf((m) => m.messageType === 'MseResultData' && m.status === 'Success');
  const answers = new Map<string, DocumentMessage>();
  for (const m of messages) {
    if (m.messageType !== 'VimisResult') continue;
    const current = answers.get(vimisPair(m));
    if (!current || byArrival(current, m) < 0) answers.set(vimisPair(m), m);
  }
  for (const m of [...answers.values()].sort(byArrival).slice(-limits.vimisAnswers)) kept.set(m.messageId, m);
  return [...kept.values()].sort(byArrival);
}

const entryOf = (m: DocumentMessage): TimelineEntry => ({
  messageId: m.messageId,
  messageType: m.messageType,
  status: m.status,
  receivedAt: m.receivedAt,
});

/** Adds a message to a document; a MessageId already applied changes nothing (the same state object is returned). */
export function applyMessageWithin(limits: DocumentLimits) {
  return (state: DocumentState, message: DocumentMessage): DocumentState => {
    // A stored message is immutable under its MessageId: the incoming copy replaces a kept one (same facts, or newer cuts).
    const messages = decisiveOf([...state.messages.filter((m) => m.messageId !== message.messageId), message], limits);
    const entries = [...state.timeline.filter((t) => t.messageId !== message.messageId), entryOf(message)].sort(byArrival);
    const timeline = entries.slice(-limits.timeline);
    // More entries than kept means more messages than kept, whichever order they came in (a re-sent evicted one finds it already true).
    const timelineTruncated = state.timelineTruncated || entries.length > limits.timeline;
    const expiresAt = latest(state.expiresAt, message.expiresAt);
    if (
      timelineTruncated === state.timelineTruncated &&
      expiresAt === state.expiresAt &&
      isDeepStrictEqual(timeline, state.timeline) &&
      isDeepStrictEqual(messages, state.messages)
    )
      return state;
    return { ...state, messages, timeline, timelineTruncated, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  };
}

/** Adds a message within `DOCUMENT_LIMITS`. */
export const applyMessage = applyMessageWithin(DOCUMENT_LIMITS);

const latest = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

/**
 * Records that the MIS expects a final answer for `stage` by `expectedBy` (the latest word wins); the
 * document is then kept at least `retentionDays` past that time, so an unanswered one is still there to report.
 */
export function expectAnswer(state: DocumentState, stage: Stage, expectedBy: string, retentionDays: number): DocumentState {
  const keepUntil = Math.floor(Date.parse(expectedBy) / 1000) + retentionDays * 86_400;
  return { ...state, expectations: { ...state.expectations, [stage]: { expectedBy } }, expiresAt: latest(state.expiresAt, keepUntil) };
}

const lastOf = (messages: readonly DocumentMessage[]) => messages.at(-1);
const ofType = (state: Pick<DocumentState, 'messages'>, ...types: MessageType[]) =>
  state.messages.filter((m) => types.includes(m.messageType));

function cdaOrSemd(messages: readonly DocumentMessage[], success: 'generated' | 'uploaded') {
  const last = lastOf(messages);
  if (!last) return undefined;
  return {
    state: last.status === 'Success' ? success : ('failed' as const),
    message: last.message,
    updatedAt: last.receivedAt,
    ...(last.idMedDocument !== undefined ? { idMedDocument: last.idMedDocument } : {}),
  };
}

function remdOf(messages: readonly DocumentMessage[]): RemdStage | undefined {
  const last = lastOf(messages);
  if (!last) return undefined;
  const registration = lastOf(messages.filter((m) => m.status === 'Success' && m.regNumber));
  const decisive = registration ?? last;
  const state = registration ? 'registered' : last.status === 'Success' ? 'awaiting' : 'failed';
  return {
    state,
    message: last.message,
    updatedAt: decisive.receivedAt,
    ...(registration?.regNumber ? { regNumber: registration.regNumber } : {}),
    ...(decisive.idFedRequest ? { idFedRequest: decisive.idFedRequest } : {}),
  };
}

function mseOf(messages: readonly DocumentMessage[]): MseStage | undefined {
  const last = lastOf(messages);
  if (!last) return undefined;
  const received = lastOf(messages.filter((m) => m.messageType === 'MseResultData' && m.status === 'Success'));
  const decisive = received ?? last;
  const state = received ? 'received' : last.status === 'Success' ? 'registered' : 'failed';
  return {
    state,
    message: last.message,
    updatedAt: decisive.receivedAt,
    ...(decisive.idResultMse ? { idResultMse: decisive.idResultMse } : {}),
  };
}

function vimisOf(messages: readonly DocumentMessage[]): VimisAnswer[] | undefined {
  if (messages.length === 0) return undefined;
  const answers = new Map<string, VimisAnswer>();
  for (const m of messages) {
    answers.set(vimisPair(m), {
      recipientSystem: m.recipientSystem ?? '',
      docType: m.docType ?? 0,
      state: m.status,
      statusCode: m.statusCode ?? 0,
      message: m.message,
      updatedAt: m.receivedAt,
    });
  }
  return [...answers.values()].sort((a, b) => a.recipientSystem.localeCompare(b.recipientSystem) || a.docType - b.docType);
}

/** The state of each stage. */
export function stagesOf(
  state: Pick<DocumentState, 'messages'>,
): Omit<DocumentView, 'documentId' | 'timeline' | 'timelineTruncated' | 'expectations' | 'updatedAt'> {
  const cda = cdaOrSemd(ofType(state, 'CDAStatus'), 'generated');
  const semd = cdaOrSemd(ofType(state, 'SEMDStatus'), 'uploaded');
  const remd = remdOf(ofType(state, 'REMDStatus'));
  const mse = mseOf(ofType(state, 'MseResult', 'MseResultData'));
  const vimis = vimisOf(ofType(state, 'VimisResult'));
  return {
    ...(cda ? { cda: cda as DocumentView['cda'] } : {}),
    ...(semd ? { semd: semd as DocumentView['semd'] } : {}),
    ...(remd ? { remd } : {}),
    ...(mse ? { mse } : {}),
    ...(vimis ? { vimis } : {}),
  };
}

/** Whether a stage has reached a final state, and when. */
function metAt(view: ReturnType<typeof stagesOf>, stage: Stage): string | undefined {
  if (stage === 'vimis') return view.vimis?.[0] ? view.vimis.map((a) => a.updatedAt).sort()[0] : undefined;
  const current = view[stage];
  return current && FINAL_STATES[stage].includes(current.state) ? current.updatedAt : undefined;
}

export function viewOf(state: DocumentState): DocumentView {
  const stages = stagesOf(state);
  const expectations: Expectation[] = STAGES.flatMap((stage) => {
    const expected = state.expectations[stage];
    if (!expected) return [];
    const met = metAt(stages, stage);
    return [{ stage, expectedBy: expected.expectedBy, ...(met ? { metAt: met } : {}) }];
  });
  return {
    documentId: state.documentId,
    ...stages,
    ...(expectations.length ? { expectations } : {}),
    timeline: state.timeline,
    ...(state.timelineTruncated ? { timelineTruncated: true } : {}),
    updatedAt: state.timeline.at(-1)?.receivedAt ?? '',
  };
}

/** Unmet expectations past due at `now`: the documents N3 never answered. */
export function silentOf(state: DocumentState, now: string): SilentDocument[] {
  const stages = stagesOf(state);
  return STAGES.flatMap((stage) => {
    const expected = state.expectations[stage];
    if (!expected || expected.expectedBy > now || metAt(stages, stage)) return [];
    return [{ documentId: state.documentId, stage, expectedBy: expected.expectedBy }];
  });
}

/** The earliest due time among unmet expectations: when the document may next fall silent. */
export function nextDueOf(state: DocumentState): string | undefined {
  const stages = stagesOf(state);
  const due = STAGES.flatMap((stage) => {
    const expected = state.expectations[stage];
    return expected && !metAt(stages, stage) ? [expected.expectedBy] : [];
  }).sort();
  return due[0];
}

/** One state word per stage, for filtering lists (`remd: registered`, `vimis: Failed` if any answer failed). */
export function statesOf(state: DocumentState): Partial<Record<Stage, string>> {
  const stages = stagesOf(state);
  const states: Partial<Record<Stage, string>> = {};
  for (const stage of STAGES) {
    if (stage === 'vimis') {
      if (stages.vimis) states.vimis = stages.vimis.some((a) => a.state === 'Failed') ? 'Failed' : 'Success';
    } else if (stages[stage]) states[stage] = stages[stage].state;
  }
  return states;
}

/** Message types whose answers a stage waits on. */
const STAGE_TYPES: Readonly<Record<Stage, readonly MessageType[]>> = {
  cda: ['CDAStatus'],
  semd: ['SEMDStatus'],
  remd: ['REMDStatus'],
  mse: ['MseResult', 'MseResultData'],
  vimis: ['VimisResult'],
};

/**
 * The stages of a document still waiting for a final answer, and since when (the age ladder, contract/ladder.ts):
 * REMD accepted but not registered (`remd: awaiting`) and an MSE referral registered without its result file
 * (`mse: registered`), waiting since the stage's first message; and a stage the MIS expects (`expect`) that has no
 * final state yet, waiting since the document's first message, or, with none, since `now` (the expect call's time).
 */
export function waitingOf(state: DocumentState, now: string): Partial<Record<Stage, string>> {
  const stages = stagesOf(state);
  const firstOf = (stage: Stage) => state.timeline.find((entry) => (STAGE_TYPES[stage] as readonly string[]).includes(entry.messageType));
  const waiting: Partial<Record<Stage, string>> = {};
  if (stages.remd?.state === 'awaiting') waiting.remd = firstOf('remd')?.receivedAt ?? stages.remd.updatedAt;
  if (stages.mse?.state === 'registered') waiting.mse = firstOf('mse')?.receivedAt ?? stages.mse.updatedAt;
  for (const stage of STAGES) {
    if (!state.expectations[stage] || metAt(stages, stage) || waiting[stage]) continue;
    waiting[stage] = state.timeline[0]?.receivedAt ?? now;
  }
  return waiting;
}
