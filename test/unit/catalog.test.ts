import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPES, extraFieldName, findMessageType, messageSpec, parseMessage, type MessageType } from '../../contract/catalog';
import { REASONS } from '../../contract/fields';
import { EXAMPLES, freshMessage } from '../../testing/messages';
import { INTEGERS, REQUIRED } from '../support/spec-fields';

const issuesOf = (type: MessageType, body: Record<string, unknown>) => {
  const result = parseMessage(type, body);
  if (result.ok) throw new Error(`expected ${type} to be rejected`);
  return result.issues;
};

describe('catalog', () => {
  it('has the six message types of the spec', () => {
    expect(MESSAGE_TYPES).toEqual(['CDAStatus', 'SEMDStatus', 'REMDStatus', 'MseResult', 'MseResultData', 'VimisResult']);
  });

  it.each(MESSAGE_TYPES)('accepts the spec example of %s', (type) => {
    const result = parseMessage(type, EXAMPLES[type]);
    expect(result.ok).toBe(true);
  });

  it.each(MESSAGE_TYPES)('takes the document key of %s from its own field', (type) => {
    const result = parseMessage(type, EXAMPLES[type]);
    if (!result.ok) throw new Error('rejected');
    expect(result.message.documentKey).toBe(EXAMPLES[type][messageSpec(type).documentKey]);
  });

  it('uses the document ids the issue names as FIFO groups', () => {
    expect(Object.fromEntries(MESSAGE_TYPES.map((t) => [t, messageSpec(t).documentKey]))).toEqual({
      CDAStatus: 'IdMedDocumentMis',
      SEMDStatus: 'IdMedDocumentMis',
      REMDStatus: 'IdSourceMis',
      MseResult: 'IdMSEMis',
      MseResultData: 'IdMSEMis',
      VimisResult: 'IdDocumentMis',
    });
  });

  describe.each(MESSAGE_TYPES)('%s', (type) => {
    it.each(REQUIRED[type])('rejects a message without %s, naming it', (field) => {
      const body = freshMessage(type);
      delete body[field];
      expect(issuesOf(type, body)).toEqual([{ field, reason: REASONS.missing }]);
    });

    it.each(REQUIRED[type])('rejects %s = null as a required field', (field) => {
      expect(issuesOf(type, freshMessage(type, { [field]: null }))).toEqual([{ field, reason: REASONS.isNull }]);
    });

    it.each(INTEGERS[type])('rejects %s sent as a string, a fraction or beyond 2^53', (field) => {
      expect(issuesOf(type, freshMessage(type, { [field]: '33' }))).toEqual([{ field, reason: REASONS.int }]);
      expect(issuesOf(type, freshMessage(type, { [field]: 33.5 }))).toEqual([{ field, reason: REASONS.int }]);
      expect(issuesOf(type, freshMessage(type, { [field]: 2 ** 53 + 2 }))).toEqual([{ field, reason: REASONS.intRange }]);
    });

    it('keeps unknown fields and forwards them', () => {
      const result = parseMessage(type, freshMessage(type, { FutureField: { nested: ['x'] }, Another: 1 }));
      if (!result.ok) throw new Error('rejected');
      expect(result.message.payload).toMatchObject({ FutureField: { nested: ['x'] }, Another: 1 });
    });

    it('reports every bad field at once', () => {
      const issues = issuesOf(type, freshMessage(type, { MessageId: 'not-a-uuid', Status: 'OK', Lpu: 7 }));
      expect(issues).toEqual([
        { field: 'MessageId', reason: REASONS.uuid },
        { field: 'Status', reason: REASONS.status },
        { field: 'Lpu', reason: REASONS.string },
      ]);
    });
  });

  it('accepts a MessageId in upper case and normalises it to lower case', () => {
    const result = parseMessage('SEMDStatus', freshMessage('SEMDStatus', { MessageId: 'B097FEA5-E6F6-4417-9829-53AB6A562719' }));
    if (!result.ok) throw new Error('rejected');
    expect(result.message.messageId).toBe('b097fea5-e6f6-4417-9829-53ab6a562719');
    expect(result.message.payload.MessageId).toBe('b097fea5-e6f6-4417-9829-53ab6a562719');
  });

  it('checks IdFedRequest as a UUID in any case', () => {
    expect(parseMessage('REMDStatus', freshMessage('REMDStatus', { IdFedRequest: '8ED37CDF-8ED0-427E-9A94-14F40BBEA18A' })).ok).toBe(true);
    expect(issuesOf('REMDStatus', freshMessage('REMDStatus', { IdFedRequest: '215573' }))).toEqual([
      { field: 'IdFedRequest', reason: REASONS.uuid },
    ]);
  });

  it('accepts only Success or Failed as Status', () => {
    expect(parseMessage('MseResult', freshMessage('MseResult', { Status: 'Failed' })).ok).toBe(true);
    expect(issuesOf('MseResult', freshMessage('MseResult', { Status: 'success' }))).toEqual([{ field: 'Status', reason: REASONS.status }]);
  });

  it('allows an empty Message but not an empty identifier', () => {
    expect(parseMessage('MseResult', freshMessage('MseResult', { Message: '' })).ok).toBe(true);
    expect(issuesOf('MseResult', freshMessage('MseResult', { IdMSEMis: '' }))).toEqual([{ field: 'IdMSEMis', reason: REASONS.empty }]);
  });

  it('refuses a lone surrogate in an identifier (it becomes a DynamoDB key), naming the field; a well-formed pair is text', () => {
    const body = freshMessage('REMDStatus', { IdSourceMis: 'doc-\udc00', RemdRegNumber: '\ud800' });
    expect(parseMessage('REMDStatus', body)).toEqual({
      ok: false,
      issues: [
        { field: 'IdSourceMis', reason: REASONS.loneSurrogate },
        { field: 'RemdRegNumber', reason: REASONS.loneSurrogate },
      ],
    });
    expect(parseMessage('REMDStatus', freshMessage('REMDStatus', { IdSourceMis: 'doc-😀', Message: 'текст \ud83e\ude7a' })).ok).toBe(true);
  });

  describe('every string is Unicode text (issue 24, finding 9: strict JSON readers refuse a lone surrogate escape)', () => {
    it.each([
      ['a high surrogate', '\ud800'],
      ['a low surrogate', 'текст \udc00'],
      ['a pair written backwards', '\udc00\ud800'],
    ])('refuses %s in Message, naming Message', (_name, message) => {
      expect(issuesOf('SEMDStatus', freshMessage('SEMDStatus', { Message: message }))).toEqual([
        { field: 'Message', reason: REASONS.loneSurrogate },
      ]);
    });

    it('refuses one in an extra field, however deep, naming the extra field by its position, never by its name', () => {
      const body = freshMessage('MseResult', { Комментарий: 'ok', Детали: { список: ['a', { b: 'x\udfff' }] } });
      expect(issuesOf('MseResult', body)).toEqual([{ field: extraFieldName(2), reason: REASONS.loneSurrogate }]);
    });

    it('refuses one in a key: at the top and inside an extra field', () => {
      expect(issuesOf('MseResult', freshMessage('MseResult', { 'Поле\ud800': 1 }))).toEqual([
        { field: extraFieldName(1), reason: REASONS.loneSurrogateName },
      ]);
      expect(issuesOf('MseResult', freshMessage('MseResult', { Доп: { 'k\udc00': 1 } }))).toEqual([
        { field: extraFieldName(1), reason: REASONS.loneSurrogate },
      ]);
    });

    it('refuses one in an aliased field under the spelling the sender used', () => {
      const body = freshMessage('VimisResult');
      delete body.IdSource;
      body.IdSourse = 'src\ud800';
      expect(issuesOf('VimisResult', body)).toEqual([{ field: 'IdSourse', reason: REASONS.loneSurrogate }]);
    });

    it('takes astral characters, noncharacters and control characters: they are text (the queue adapter escapes what SQS refuses)', () => {
      const body = freshMessage('SEMDStatus', { Message: '🩺 \u{10FFFD} \uFFFF \u0001', Доп: ['\u{1F600}'] });
      expect(parseMessage('SEMDStatus', body).ok).toBe(true);
    });
  });

  it('treats null optional fields as absent and drops them', () => {
    const result = parseMessage('CDAStatus', freshMessage('CDAStatus', { CDA: null }));
    if (!result.ok) throw new Error('rejected');
    expect(canonicalKeys(result.message.payload)).not.toContain('CDA');
    expect(parseMessage('REMDStatus', freshMessage('REMDStatus', { RemdRegNumber: null })).ok).toBe(true);
  });

  it('rejects a CDA or Data that is not base64, and accepts line-wrapped base64', () => {
    expect(issuesOf('CDAStatus', freshMessage('CDAStatus', { CDA: '<ClinicalDocument/>' }))).toEqual([
      { field: 'CDA', reason: REASONS.base64 },
    ]);
    expect(issuesOf('MseResultData', freshMessage('MseResultData', { Data: 12 }))).toEqual([{ field: 'Data', reason: REASONS.base64 }]);
    expect(parseMessage('CDAStatus', freshMessage('CDAStatus', { CDA: 'PD94bWwg\r\ndmVyc2lv\r\nbj0iMS4wIj8+' })).ok).toBe(true);
  });

  describe('VimisResult aliases', () => {
    const base = () => {
      const body = freshMessage('VimisResult');
      delete body.IdSource;
      delete body.StatusCode;
      return body;
    };

    it('accepts the table spellings IdSourse and StatusСode (Cyrillic С) and hands over the Latin names', () => {
      const result = parseMessage('VimisResult', { ...base(), IdSourse: '12393', 'Status\u0421ode': 4 });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.message.payload).toMatchObject({ IdSource: '12393', StatusCode: 4 });
      expect(canonicalKeys(result.message.payload)).not.toContain('IdSourse');
      expect(canonicalKeys(result.message.payload)).not.toContain('Status\u0421ode');
    });

    it('accepts both spellings when they agree', () => {
      expect(parseMessage('VimisResult', { ...base(), IdSource: '1', IdSourse: '1', StatusCode: 4 }).ok).toBe(true);
    });

    it('rejects both spellings with different values, naming the alias', () => {
      const issues = issuesOf('VimisResult', { ...base(), IdSource: '1', IdSourse: '2', StatusCode: 4 });
      expect(issues).toEqual([{ field: 'IdSourse', reason: `${REASONS.aliasClash} (IdSource)` }]);
    });

    it('checks the aliased value by the canonical field rules', () => {
      expect(issuesOf('VimisResult', { ...base(), IdSource: '1', 'Status\u0421ode': 'four' })).toEqual([
        { field: 'StatusCode', reason: REASONS.int },
      ]);
    });
  });

  it('finds a type by exact name first, then ignoring case, and nothing else', () => {
    expect(findMessageType('REMDStatus')).toBe('REMDStatus');
    expect(findMessageType('remdstatus')).toBe('REMDStatus');
    expect(findMessageType('REMD')).toBeUndefined();
    expect(findMessageType('constructor')).toBeUndefined();
    expect(findMessageType('__proto__')).toBeUndefined();
  });
});

const canonicalKeys = (value: Record<string, unknown>) => Object.keys(JSON.parse(JSON.stringify(value)) as object);
