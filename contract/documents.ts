/*
 * Document status: what the MIS asks about, in one shape shared by the projection, the HTTPS API,
 * the CLI and the consumer library. A document is the MIS's own id: `IdMedDocumentMis` (CDAStatus,
 * SEMDStatus) and `IdSourceMis` (REMDStatus) are one id space; MSE news is keyed by the referral
 * (`IdMSEMis`), VIMIS news by `IdDocumentMis`.
 */

export const STAGES = ['cda', 'semd', 'remd', 'mse', 'vimis'] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_STATES = {
  cda: ['generated', 'failed'],
  semd: ['uploaded', 'failed'],
  remd: ['awaiting', 'registered', 'failed'],
  mse: ['registered', 'received', 'failed'],
  vimis: ['Success', 'Failed'],
} as const satisfies Record<Stage, readonly string[]>;

/** States after which nothing more is awaited for the stage: an expectation is met by them. */
export const FINAL_STATES: Readonly<Record<Stage, readonly string[]>> = {
  cda: ['generated', 'failed'],
  semd: ['uploaded', 'failed'],
  remd: ['registered', 'failed'],
  mse: ['received', 'failed'],
  vimis: ['Success', 'Failed'],
};

interface StageBase {
  /** The last message's own text (`Message`), as the platform wrote it. */
  readonly message: string;
  /** When the message that decided the state arrived. */
  readonly updatedAt: string;
}

export interface CdaStage extends StageBase {
  readonly state: 'generated' | 'failed';
  readonly idMedDocument?: number;
}
export interface SemdStage extends StageBase {
  readonly state: 'uploaded' | 'failed';
  readonly idMedDocument?: number;
}
export interface RemdStage extends StageBase {
  readonly state: 'awaiting' | 'registered' | 'failed';
  readonly regNumber?: string;
  readonly idFedRequest?: string;
}
export interface MseStage extends StageBase {
  readonly state: 'registered' | 'received' | 'failed';
  readonly idResultMse?: string;
}
export interface VimisAnswer extends StageBase {
  readonly recipientSystem: string;
  readonly docType: number;
  readonly state: 'Success' | 'Failed';
  readonly statusCode: number;
}

export interface TimelineEntry {
  readonly messageId: string;
  readonly messageType: string;
  readonly status: 'Success' | 'Failed';
  readonly receivedAt: string;
}

export interface Expectation {
  readonly stage: Stage;
  readonly expectedBy: string;
  /** When the stage reached a final state, if it has. */
  readonly metAt?: string;
}

export interface DocumentView {
  readonly documentId: string;
  readonly cda?: CdaStage;
  readonly semd?: SemdStage;
  readonly remd?: RemdStage;
  readonly mse?: MseStage;
  /** One answer per recipient system and SMS type. */
  readonly vimis?: readonly VimisAnswer[];
  readonly expectations?: readonly Expectation[];
  /**
   * The messages about the document, oldest first (no payload bodies): every one, or, past
   * `DOCUMENT_LIMITS.timeline` of them, the newest that many (then `timelineTruncated` is true).
   */
  readonly timeline: readonly TimelineEntry[];
  /** Present (true) when older messages are left out of `timeline`; the message table keeps them all. */
  readonly timelineTruncated?: boolean;
  readonly updatedAt: string;
}

/**
 * What one document keeps, so that its stored item (DynamoDB: at most 400 KB) and its view stay within
 * a fixed size whatever the number of messages about it and however long their fields.
 */
export const DOCUMENT_LIMITS = {
  /** Timeline entries: the newest this many (`timelineTruncated` says when there were more). */
  timeline: 100,
  /** VIMIS answers (one per recipient system and SMS type): the most recently answered this many. */
  vimisAnswers: 20,
  /** Characters of a message's `Message` text kept in the document; a longer one is cut and ends in `…`. */
  messageChars: 1000,
  /** Characters of an id read from a message (`RemdRegNumber`, `IdFedRequest`, `IdResultMSE`, `IdRecipientSystem`), cut likewise. */
  idChars: 128,
  /** UTF-8 bytes of a document id: a DynamoDB key takes 2,048, and no MIS id is this long. Longer ids are not projected. */
  documentIdBytes: 1024,
} as const;

/** Whether a document id can name a document (not empty, at most `DOCUMENT_LIMITS.documentIdBytes`). */
export function isDocumentId(id: string): boolean {
  // Every UTF-16 unit is at least one byte: a longer string is refused without reading it.
  return id.length > 0 && id.length <= DOCUMENT_LIMITS.documentIdBytes && utf8Bytes(id) <= DOCUMENT_LIMITS.documentIdBytes;
}

/** UTF-8 length without Buffer (this module also runs outside Node); a lone surrogate counts as U+FFFD, 3 bytes. */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A document the MIS expected an answer about, and got none in time. */
export interface SilentDocument {
  readonly documentId: string;
  readonly stage: Stage;
  readonly expectedBy: string;
}

export interface DocumentFilter {
  readonly stage?: Stage;
  readonly state?: string;
  /** Updated within this long (a duration, `1d`), or since this ISO time. */
  readonly since?: string;
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `15m`, `24h`, `2d` → milliseconds; anything else → undefined. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 ? ms : undefined;
}

export const isStage = (value: unknown): value is Stage => typeof value === 'string' && (STAGES as readonly string[]).includes(value);
