import {
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
} from '../contract/documents';
import type { MessageType } from '../protocol/catalog';
import type { Status } from '../protocol/fields';

/*
 * The document projection, pure: a document's state is a function of the *set* of stored messages
 * about it (and the MIS's expectations), never of the order they were applied in. Applying a message
 * adds it to the set (by MessageId: twice is once); every stage is then derived from the set in
 * arrival order (`receivedAt`, then MessageId). So it can be rebuilt from the messages at any time,
 * and any permutation of them, re-sends included, gives the same state (property-tested).
 *
 * The rules, per stage:
 *  - cda, semd: the latest arrival decides (a resubmission after a failure can succeed);
 *  - remd: a registration (`Success` with `RemdRegNumber`) is final — a later or re-sent `Failed`
 *    does not undo it; otherwise the latest decides: `Success` without a number is `awaiting`
 *    (accepted, federal validation pending), `Failed` is `failed`;
 *  - mse: a received result file (`MseResultData` `Success`) is final; otherwise the latest decides:
 *    `MseResult` `Success` is `registered`, any `Failed` is `failed`;
 *  - vimis: per recipient system and SMS type, the latest answer.
 * No state is read from the `Message` text: it is kept as the platform wrote it, for people.
 */

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
}

export interface DocumentState {
  readonly documentId: string;
  /** Unique by MessageId, in arrival order. */
  readonly messages: readonly DocumentMessage[];
  readonly expectations: Readonly<Partial<Record<Stage, { readonly expectedBy: string }>>>;
}

/** The facts of a stored message (its normalised payload) that the projection reads. */
export function documentMessageOf(stored: {
  messageId: string;
  messageType: MessageType;
  status: Status;
  receivedAt: string;
  payload: Readonly<Record<string, unknown>>;
}): DocumentMessage {
  const p = stored.payload;
  const text = (name: string) => (typeof p[name] === 'string' ? (p[name] as string) : undefined);
  const number = (name: string) => (typeof p[name] === 'number' ? (p[name] as number) : undefined);
  const facts: Record<string, unknown> = {
    messageId: stored.messageId,
    messageType: stored.messageType,
    status: stored.status,
    receivedAt: stored.receivedAt,
    message: text('Message') ?? '',
    idMedDocument: number('IdMedDocument'),
    regNumber: text('RemdRegNumber'),
    idFedRequest: text('IdFedRequest'),
    idResultMse: text('IdResultMSE'),
    recipientSystem: text('IdRecipientSystem'),
    docType: number('DocType'),
    statusCode: number('StatusCode'),
  };
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as unknown as DocumentMessage;
}

const byArrival = (a: DocumentMessage, b: DocumentMessage) =>
  a.receivedAt === b.receivedAt ? a.messageId.localeCompare(b.messageId) : a.receivedAt.localeCompare(b.receivedAt);

export const emptyDocument = (documentId: string): DocumentState => ({ documentId, messages: [], expectations: {} });

/** Adds a message (a MessageId already there changes nothing). */
export function applyMessage(state: DocumentState, message: DocumentMessage): DocumentState {
  if (state.messages.some((m) => m.messageId === message.messageId)) return state;
  return { ...state, messages: [...state.messages, message].sort(byArrival) };
}

/** Records that the MIS expects a final answer for `stage` by `expectedBy` (the latest word wins). */
export function expectAnswer(state: DocumentState, stage: Stage, expectedBy: string): DocumentState {
  return { ...state, expectations: { ...state.expectations, [stage]: { expectedBy } } };
}

const latest = (messages: readonly DocumentMessage[]) => messages.at(-1);
const ofType = (state: DocumentState, ...types: MessageType[]) => state.messages.filter((m) => types.includes(m.messageType));

function cdaOrSemd(messages: readonly DocumentMessage[], success: 'generated' | 'uploaded') {
  const last = latest(messages);
  if (!last) return undefined;
  return {
    state: last.status === 'Success' ? success : ('failed' as const),
    message: last.message,
    updatedAt: last.receivedAt,
    ...(last.idMedDocument !== undefined ? { idMedDocument: last.idMedDocument } : {}),
  };
}

function remdOf(messages: readonly DocumentMessage[]): RemdStage | undefined {
  const last = latest(messages);
  if (!last) return undefined;
  const registration = latest(messages.filter((m) => m.status === 'Success' && m.regNumber));
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
  const last = latest(messages);
  if (!last) return undefined;
  const received = latest(messages.filter((m) => m.messageType === 'MseResultData' && m.status === 'Success'));
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
    const key = `${m.recipientSystem ?? ''}\u0000${m.docType ?? 0}`;
    answers.set(key, {
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
export function stagesOf(state: DocumentState): Omit<DocumentView, 'documentId' | 'timeline' | 'expectations' | 'updatedAt'> {
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
  const timeline: TimelineEntry[] = state.messages.map((m) => ({
    messageId: m.messageId,
    messageType: m.messageType,
    status: m.status,
    receivedAt: m.receivedAt,
  }));
  const updatedAt = state.messages.at(-1)?.receivedAt ?? '';
  return {
    documentId: state.documentId,
    ...stages,
    ...(expectations.length ? { expectations } : {}),
    timeline,
    updatedAt,
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
