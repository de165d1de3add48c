import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOCUMENT_LIMITS } from '../../contract/documents';
import {
  applyMessage,
  applyMessageWithin,
  cut,
  type DocumentMessage,
  type DocumentState,
  documentMessageOf,
  emptyDocument,
  expectAnswer,
  nextDueOf,
  silentOf,
  stagesOf,
  viewOf,
} from '../../lambdas/documents/projection';
import type { MessageType } from '../../contract/catalog';

/* The document rules, on the pure projection: stage by stage, then as properties over any order. */

let clock = 0;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 26, 8, minute)).toISOString();
function msg(
  messageType: MessageType,
  status: 'Success' | 'Failed',
  minute: number,
  payload: Record<string, unknown> = {},
): DocumentMessage {
  clock++;
  return documentMessageOf({
    messageId: `00000000-0000-4000-8000-${String(clock).padStart(12, '0')}`,
    messageType,
    status,
    receivedAt: at(minute),
    payload: { Message: `${messageType} ${status}`, ...payload },
  });
}
const project = (...messages: DocumentMessage[]): DocumentState => messages.reduce(applyMessage, emptyDocument('doc-1'));
const base = (messageType: MessageType, minute: number) => ({
  messageId: `00000000-0000-4000-9000-${String(++clock).padStart(12, '0')}`,
  messageType,
  status: 'Success' as const,
  receivedAt: at(minute),
  payload: { Message: 'x' },
});

describe('document projection', () => {
  it('takes the CDA and SEMD state from the latest arrival: a resubmission after a failure can succeed', () => {
    const view = viewOf(
      project(
        msg('CDAStatus', 'Failed', 1),
        msg('CDAStatus', 'Success', 2, { IdMedDocument: 1053 }),
        msg('SEMDStatus', 'Success', 3),
        msg('SEMDStatus', 'Failed', 4),
      ),
    );
    expect(view.cda).toMatchObject({ state: 'generated', idMedDocument: 1053, message: 'CDAStatus Success' });
    expect(view.semd).toMatchObject({ state: 'failed' });
  });

  it('reads REMD in steps: accepted (awaiting) → registered with its number; a later Failed does not undo it', () => {
    const accepted = msg('REMDStatus', 'Success', 1, { IdFedRequest: 'fed-1' });
    expect(viewOf(project(accepted)).remd).toMatchObject({ state: 'awaiting', idFedRequest: 'fed-1' });
    const registered = msg('REMDStatus', 'Success', 2, { IdFedRequest: 'fed-1', RemdRegNumber: '215573' });
    const lateFailure = msg('REMDStatus', 'Failed', 3, { IdFedRequest: 'fed-2' });
    const view = viewOf(project(accepted, registered, lateFailure));
    expect(view.remd).toMatchObject({ state: 'registered', regNumber: '215573', idFedRequest: 'fed-1', message: 'REMDStatus Failed' });
    expect(viewOf(project(msg('REMDStatus', 'Failed', 1), msg('REMDStatus', 'Success', 2))).remd?.state).toBe('awaiting');
    expect(viewOf(project(msg('REMDStatus', 'Success', 1), msg('REMDStatus', 'Failed', 2))).remd?.state).toBe('failed');
  });

  it('reads MSE: registered by MseResult, received once a result file arrives (final), failed otherwise', () => {
    expect(viewOf(project(msg('MseResult', 'Success', 1, { IdResultMSE: 'r-1' }))).mse).toMatchObject({
      state: 'registered',
      idResultMse: 'r-1',
    });
    expect(
      viewOf(project(msg('MseResult', 'Success', 1), msg('MseResultData', 'Success', 2), msg('MseResult', 'Failed', 3))).mse?.state,
    ).toBe('received');
    expect(viewOf(project(msg('MseResult', 'Failed', 1))).mse?.state).toBe('failed');
  });

  it('keeps one VIMIS answer per recipient system and SMS type, the latest', () => {
    const view = viewOf(
      project(
        msg('VimisResult', 'Failed', 1, { IdRecipientSystem: 'Онкология', DocType: 5, StatusCode: 2 }),
        msg('VimisResult', 'Success', 2, { IdRecipientSystem: 'Онкология', DocType: 5, StatusCode: 4 }),
        msg('VimisResult', 'Failed', 3, { IdRecipientSystem: 'ССЗ', DocType: 5, StatusCode: 3 }),
      ),
    );
    expect(view.vimis?.map((a) => [a.recipientSystem, a.docType, a.state, a.statusCode])).toEqual([
      ['Онкология', 5, 'Success', 4],
      ['ССЗ', 5, 'Failed', 3],
    ]);
  });

  it('lists every message in the timeline, oldest first, with no payload body', () => {
    const first = msg('CDAStatus', 'Success', 1, { CDA: 'PD94bWw=' });
    const second = msg('REMDStatus', 'Success', 2);
    const view = viewOf(project(second, first));
    expect(view.timeline).toEqual([
      { messageId: first.messageId, messageType: 'CDAStatus', status: 'Success', receivedAt: at(1) },
      { messageId: second.messageId, messageType: 'REMDStatus', status: 'Success', receivedAt: at(2) },
    ]);
    expect(JSON.stringify(view)).not.toContain('PD94bWw=');
  });

  it('never reads a state from the Message text', () => {
    const view = viewOf(project(msg('REMDStatus', 'Failed', 1, { Message: 'ЭМД успешно зарегистрирован' })));
    expect(view.remd?.state).toBe('failed');
  });

  it('counts an unmet expectation past due as silence, and an answer takes the document off the list', () => {
    let state = expectAnswer(emptyDocument('doc-1'), 'remd', at(30), 30);
    expect(silentOf(state, at(29))).toEqual([]);
    expect(silentOf(state, at(31))).toEqual([{ documentId: 'doc-1', stage: 'remd', expectedBy: at(30) }]);
    expect(nextDueOf(state)).toBe(at(30));
    state = applyMessage(state, msg('REMDStatus', 'Success', 40, { IdFedRequest: 'f' })); // accepted only: still waiting
    expect(silentOf(state, at(41))).toHaveLength(1);
    state = applyMessage(state, msg('REMDStatus', 'Success', 45, { RemdRegNumber: '1' }));
    expect(silentOf(state, at(50))).toEqual([]);
    expect(nextDueOf(state)).toBeUndefined();
    expect(viewOf(state).expectations).toEqual([{ stage: 'remd', expectedBy: at(30), metAt: at(45) }]);
  });

  it('keeps the newest timeline entries past the limit, says so, and still decides every stage from the whole set', () => {
    const registration = msg('REMDStatus', 'Success', 0, { RemdRegNumber: '215573' });
    const later = Array.from({ length: DOCUMENT_LIMITS.timeline + 5 }, () => msg('REMDStatus', 'Failed', 1));
    const state = project(registration, ...later);
    const view = viewOf(state);
    expect(view.timeline).toHaveLength(DOCUMENT_LIMITS.timeline);
    expect(view.timeline.at(-1)?.messageId).toBe(later.at(-1)?.messageId);
    expect(view.timelineTruncated).toBe(true);
    expect(view.remd).toMatchObject({ state: 'registered', regNumber: '215573' });
    expect(state.messages.length).toBeLessThanOrEqual(2);
    expect(viewOf(project(registration)).timelineTruncated).toBeUndefined();
  });

  it('cuts long texts and ids to the limits, never inside a surrogate pair, and marks the cut', () => {
    const long = msg('REMDStatus', 'Failed', 1, { Message: 'ы'.repeat(50_000), IdFedRequest: 'f'.repeat(10_000) });
    expect(long.message).toBe(`${'ы'.repeat(DOCUMENT_LIMITS.messageChars)}…`);
    expect(long.idFedRequest).toHaveLength(DOCUMENT_LIMITS.idChars + 1);
    expect(cut(`ab${'😀'.repeat(3)}`, 3)).toBe('ab…');
    expect(cut('short', 10)).toBe('short');
    // A lone surrogate is JSON but not text: a document (DynamoDB attributes, UTF-8) holds U+FFFD instead.
    expect(cut('a\udc00b\ud800', 10)).toBe('a\uFFFDb\uFFFD');
  });

  it('keeps a document as long as its newest message, and an expectation the retention past its due time', () => {
    const a = documentMessageOf({ ...base('CDAStatus', 1), expiresAt: 2_000 });
    const b = documentMessageOf({ ...base('SEMDStatus', 2), expiresAt: 1_000 });
    expect(project(b, a).expiresAt).toBe(2_000);
    const expected = expectAnswer(project(a), 'remd', '2026-12-01T00:00:00.000Z', 30);
    expect(expected.expiresAt).toBe(Date.parse('2026-12-01T00:00:00.000Z') / 1000 + 30 * 86_400);
  });

  describe('properties', () => {
    const types: MessageType[] = ['CDAStatus', 'SEMDStatus', 'REMDStatus', 'MseResult', 'MseResultData', 'VimisResult'];
    const arbitraryMessage = fc
      .record({
        type: fc.constantFrom(...types),
        status: fc.constantFrom('Success' as const, 'Failed' as const),
        minute: fc.integer({ min: 0, max: 59 }),
        regNumber: fc.option(fc.constantFrom('1', '2'), { nil: undefined }),
        recipient: fc.constantFrom('A', 'B'),
        id: fc.uuid(),
      })
      .map((m) =>
        documentMessageOf({
          messageId: m.id,
          messageType: m.type,
          status: m.status,
          receivedAt: at(m.minute),
          payload: { Message: 'x', RemdRegNumber: m.regNumber, IdRecipientSystem: m.recipient, DocType: 1, StatusCode: 1 },
        }),
      );

    // Stored messages are unique by MessageId (the conditional put refuses other content under a used id).
    const stored = (size: { minLength?: number; maxLength: number }) =>
      fc.uniqueArray(arbitraryMessage, { ...size, selector: (m) => m.messageId });

    it('gives the same state for any order of a document’s messages, re-sends included', () => {
      fc.assert(
        fc.property(stored({ minLength: 1, maxLength: 12 }), fc.infiniteStream(fc.nat()), (messages, randomness) => {
          const withResends = [...messages, ...messages.filter((_, i) => i % 3 === 0)];
          const shuffled = [...withResends].sort(() => (randomness.next().value % 3) - 1);
          expect(viewOf(project(...shuffled))).toEqual(viewOf(project(...messages)));
        }),
        { numRuns: 500 },
      );
    });

    // Small limits, so that arbitrary sets pass them: eviction must not depend on the order either.
    const small = { timeline: 3, vimisAnswers: 2, messageChars: 5, idChars: 5 };
    const projectSmall = (...messages: DocumentMessage[]) => messages.reduce(applyMessageWithin(small), emptyDocument('doc-1'));
    const manyRecipients = fc
      .record({
        type: fc.constantFrom<MessageType>('VimisResult', 'REMDStatus', 'CDAStatus'),
        status: fc.constantFrom('Success' as const, 'Failed' as const),
        minute: fc.integer({ min: 0, max: 59 }),
        recipient: fc.constantFrom('A', 'B', 'C', 'D'),
        docType: fc.integer({ min: 1, max: 2 }),
        regNumber: fc.option(fc.constantFrom('1', '2'), { nil: undefined }),
        id: fc.uuid(),
      })
      .map((m) =>
        documentMessageOf({
          messageId: m.id,
          messageType: m.type,
          status: m.status,
          receivedAt: at(m.minute),
          payload: { Message: 'x', IdRecipientSystem: m.recipient, DocType: m.docType, StatusCode: 1, RemdRegNumber: m.regNumber },
        }),
      );

    it('gives the same state for any order past the limits too, re-sends of evicted messages included', () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(manyRecipients, { minLength: 1, maxLength: 14, selector: (m) => m.messageId }),
          fc.infiniteStream(fc.nat()),
          (messages, randomness) => {
            const withResends = [...messages, ...messages.filter((_, i) => i % 2 === 0)];
            const shuffled = [...withResends].sort(() => (randomness.next().value % 3) - 1);
            expect(projectSmall(...shuffled)).toEqual(projectSmall(...messages));
            expect(viewOf(projectSmall(...shuffled))).toEqual(viewOf(projectSmall(...messages)));
          },
        ),
        { numRuns: 500 },
      );
    });

    it('decides every stage from the kept messages as from the whole set (while VIMIS pairs are within the limit)', () => {
      fc.assert(
        fc.property(stored({ minLength: 1, maxLength: 30 }), (messages) => {
          const sorted = [...messages].sort((a, b) =>
            a.receivedAt === b.receivedAt ? a.messageId.localeCompare(b.messageId) : a.receivedAt.localeCompare(b.receivedAt),
          );
          const kept = project(...messages);
          expect(stagesOf(kept)).toEqual(stagesOf({ messages: sorted }));
          expect(kept.messages.length).toBeLessThanOrEqual(6 + DOCUMENT_LIMITS.vimisAnswers);
        }),
      );
    });

    it('keeps at most the limits, whatever arrives', () => {
      fc.assert(
        fc.property(fc.uniqueArray(manyRecipients, { maxLength: 40, selector: (m) => m.messageId }), (messages) => {
          const state = projectSmall(...messages);
          expect(state.timeline.length).toBeLessThanOrEqual(small.timeline);
          expect(state.messages.length).toBeLessThanOrEqual(6 + small.vimisAnswers);
          expect(state.timelineTruncated).toBe(messages.length > small.timeline);
        }),
      );
    });

    it('changes nothing when the same MessageId is applied again', () => {
      fc.assert(
        fc.property(stored({ minLength: 1, maxLength: 8 }), (messages) => {
          const once = project(...messages);
          expect(messages.reduce(applyMessage, once)).toBe(once);
        }),
      );
    });

    it('never lets a registered document fall back, whatever arrives after', () => {
      fc.assert(
        fc.property(stored({ maxLength: 10 }), (later) => {
          const registered = msg('REMDStatus', 'Success', 0, { RemdRegNumber: '777' });
          const view = viewOf(project(registered, ...later));
          expect(view.remd?.state).toBe('registered');
        }),
      );
    });
  });
});
