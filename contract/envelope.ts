/*
 * What the MIS's consumers receive: one versioned JSON envelope per MessageId. The one contract
 * between the endpoint (ingest writes it), the consumer library (reads it), and the OpenAPI
 * document (describes it). Consumers read `version` first; new fields may be added, never renamed.
 */

export const ENVELOPE_VERSION = 1;

/** A payload kept in the bucket (claim check): consumers fetch it and check size and sha256. */
export interface PayloadRef {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
}

export interface EnvelopeHead {
  readonly version: typeof ENVELOPE_VERSION;
  readonly site: string;
  readonly messageType: string;
  readonly messageId: string;
  readonly receivedAt: string;
}

/** The payload inline, or (claim check) where to fetch it: never both. */
export type Envelope = EnvelopeHead &
  (
    | { readonly payload: Record<string, unknown>; readonly payloadRef?: never }
    | { readonly payloadRef: PayloadRef; readonly payload?: never }
  );
