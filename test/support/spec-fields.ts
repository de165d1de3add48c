import type { MessageType } from '../../contract/catalog';

/*
 * The spec's tables (§5), re-read independently of the catalog code, as data for the
 * property tests: field → kind and multiplicity.
 */

export type FieldKind = 'uuid' | 'status' | 'text' | 'id' | 'int' | 'base64';
export interface FieldSpec {
  readonly kind: FieldKind;
  readonly required: boolean;
}

const r = (kind: FieldKind): FieldSpec => ({ kind, required: true });
const o = (kind: FieldKind): FieldSpec => ({ kind, required: false });

const common = { MessageId: r('uuid'), Status: r('status'), Message: r('text'), Lpu: r('id') };

export const SPEC_FIELDS: Readonly<Record<MessageType, Readonly<Record<string, FieldSpec>>>> = {
  CDAStatus: { ...common, IdMedDocumentMis: r('id'), IdMedDocument: r('int'), MedDocumentType: r('int'), CDA: o('base64') },
  SEMDStatus: { ...common, IdMedDocumentMis: r('id'), IdMedDocument: r('int'), MedDocumentType: r('int') },
  REMDStatus: { ...common, IdSourceMis: r('id'), MedDocumentType: r('int'), IdFedRequest: r('uuid'), RemdRegNumber: o('id') },
  MseResult: { ...common, IdMSEMis: r('id'), IdResultMSE: r('id') },
  MseResultData: { ...common, IdMSEMis: r('id'), IdResultMSE: r('id'), Data: o('base64') },
  VimisResult: {
    ...common,
    DocType: r('int'),
    IdSource: r('id'),
    IdRecipientSystem: r('id'),
    StatusCode: r('int'),
    IdCaseMis: r('id'),
    IdDocumentMis: r('id'),
  },
};

/** Other spellings the spec uses for a field. */
export const SPEC_ALIASES: Readonly<Partial<Record<MessageType, Readonly<Record<string, string>>>>> = {
  VimisResult: { IdSource: 'IdSourse', StatusCode: 'Status\u0421ode' },
};

/** Required fields per type, straight from the spec tables (1..1), independent of the catalog code. */
export const REQUIRED: Readonly<Record<MessageType, readonly string[]>> = {
  CDAStatus: ['IdMedDocumentMis', 'IdMedDocument', 'MedDocumentType', 'Lpu', 'MessageId', 'Status', 'Message'],
  SEMDStatus: ['IdMedDocumentMis', 'IdMedDocument', 'MedDocumentType', 'Lpu', 'MessageId', 'Status', 'Message'],
  REMDStatus: ['IdSourceMis', 'MedDocumentType', 'Lpu', 'MessageId', 'Status', 'Message', 'IdFedRequest'],
  MseResult: ['Lpu', 'MessageId', 'IdMSEMis', 'IdResultMSE', 'Message', 'Status'],
  MseResultData: ['Lpu', 'MessageId', 'IdMSEMis', 'IdResultMSE', 'Message', 'Status'],
  VimisResult: [
    'MessageId',
    'Message',
    'Status',
    'Lpu',
    'DocType',
    'IdSource',
    'IdRecipientSystem',
    'StatusCode',
    'IdCaseMis',
    'IdDocumentMis',
  ],
};

/** Integer fields per type (spec type `int`). */
export const INTEGERS: Readonly<Record<MessageType, readonly string[]>> = {
  CDAStatus: ['IdMedDocument', 'MedDocumentType'],
  SEMDStatus: ['IdMedDocument', 'MedDocumentType'],
  REMDStatus: ['MedDocumentType'],
  MseResult: [],
  MseResultData: [],
  VimisResult: ['DocType', 'StatusCode'],
};
