import { describe, expect, it } from 'vitest';
import { LADDER_RUNGS, ladderOf, rungOf } from '../../contract/ladder';
import { documentMessageOf } from '../../lambdas/documents/projection';
import { expectStage, project, waitingLadder } from '../../lambdas/documents/service';
import { InMemoryDocumentStore } from '../../testing/fakes';

const NOW = new Date('2026-11-26T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

type Type = 'CDAStatus' | 'SEMDStatus' | 'REMDStatus' | 'MseResult' | 'MseResultData';
let n = 0;
const news = (documentId: string, type: Type, status: 'Success' | 'Failed', receivedAt: string, payload: Record<string, unknown> = {}) => ({
  documentId,
  message: documentMessageOf({ messageId: `m-${++n}`, messageType: type, status, receivedAt, payload }),
});

describe('the age ladder', () => {
  it('puts each wait on the rung whose upper edge it does not pass, edges inclusive, and past 15 days on "no answer"', () => {
    expect(LADDER_RUNGS.map((r) => r.id)).toEqual(['5m', '1h', '1d', '7d', '15d', 'none']);
    expect(rungOf(0)).toBe('5m');
    expect(rungOf(5 * MIN)).toBe('5m');
    expect(rungOf(5 * MIN + 1)).toBe('1h');
    expect(rungOf(HOUR)).toBe('1h');
    expect(rungOf(DAY)).toBe('1d');
    expect(rungOf(DAY + 1)).toBe('7d');
    expect(rungOf(7 * DAY)).toBe('7d');
    expect(rungOf(15 * DAY)).toBe('15d');
    expect(rungOf(15 * DAY + 1)).toBe('none');
    expect(rungOf(-MIN)).toBe('5m');
  });

  it('counts a document once (by its oldest wait) in the total and once per stage it waits on', () => {
    const ladder = ladderOf(
      [
        { documentId: 'a', stage: 'remd', since: ago(2 * MIN) },
        { documentId: 'b', stage: 'remd', since: ago(3 * HOUR) },
        { documentId: 'b', stage: 'mse', since: ago(20 * DAY) },
        { documentId: 'c', stage: 'mse', since: ago(10 * DAY) },
      ],
      NOW,
    );
    expect(ladder.total).toBe(3);
    expect(ladder.rungs).toEqual({ '5m': 1, '1h': 0, '1d': 0, '7d': 0, '15d': 1, none: 1 });
    expect(ladder.byStage).toEqual({
      remd: { '5m': 1, '1h': 0, '1d': 1, '7d': 0, '15d': 0, none: 0 },
      mse: { '5m': 0, '1h': 0, '1d': 0, '7d': 0, '15d': 1, none: 1 },
    });
    expect(ladder.oldest.map((w) => w.documentId)).toEqual(['b', 'c', 'a']);
  });

  it('from seeded documents: REMD accepted but unregistered and MSE without its result wait; final answers do not', async () => {
    const store = new InMemoryDocumentStore();
    const at = NOW.toISOString();
    await project(
      store,
      [
        // Accepted by REMD 3 minutes ago, no registration: ≤ 5 min.
        news('remd-new', 'REMDStatus', 'Success', ago(3 * MIN)),
        // First REMD word 2 days ago, a second "accepted" 1 hour ago: it waits since the first (≤ 7 days).
        news('remd-old', 'REMDStatus', 'Success', ago(2 * DAY)),
        news('remd-old', 'REMDStatus', 'Success', ago(HOUR)),
        // Registered: final.
        news('remd-done', 'REMDStatus', 'Success', ago(3 * DAY)),
        news('remd-done', 'REMDStatus', 'Success', ago(2 * DAY), { RemdRegNumber: '77' }),
        // Failed: final (it is an error, counted by cause, not a wait).
        news('remd-failed', 'REMDStatus', 'Failed', ago(DAY)),
        // CDA generated: no further answer is promised by the platform.
        news('cda-only', 'CDAStatus', 'Success', ago(30 * MIN)),
        // MSE referral registered 20 days ago, no result file: "no answer".
        news('mse-open', 'MseResult', 'Success', ago(20 * DAY)),
        // MSE with its result file: final.
        news('mse-done', 'MseResult', 'Success', ago(5 * DAY)),
        news('mse-done', 'MseResultData', 'Success', ago(4 * DAY)),
      ],
      at,
    );
    // The MIS expects a SEMD answer for cda-only (first heard of 30 min ago): it waits on semd, ≤ 1 h.
    await expectStage(store, 'cda-only', 'semd', ago(-DAY), at, 90);
    const ladder = await waitingLadder(store, NOW, 90);
    expect(ladder.total).toBe(4);
    expect(ladder.rungs).toEqual({ '5m': 1, '1h': 1, '1d': 0, '7d': 1, '15d': 0, none: 1 });
    expect(ladder.byStage.remd).toEqual({ '5m': 1, '1h': 0, '1d': 0, '7d': 1, '15d': 0, none: 0 });
    expect(ladder.byStage.mse).toEqual({ '5m': 0, '1h': 0, '1d': 0, '7d': 0, '15d': 0, none: 1 });
    expect(ladder.byStage.semd).toEqual({ '5m': 0, '1h': 1, '1d': 0, '7d': 0, '15d': 0, none: 0 });
    expect(ladder.oldest.map((w) => `${w.documentId}:${w.stage}`)).toEqual([
      'mse-open:mse',
      'remd-old:remd',
      'cda-only:semd',
      'remd-new:remd',
    ]);
  });

  it('a registration moves a waiting document off the ladder', async () => {
    const store = new InMemoryDocumentStore();
    await project(store, [news('d', 'REMDStatus', 'Success', ago(2 * HOUR))], NOW.toISOString());
    expect((await waitingLadder(store, NOW, 90)).total).toBe(1);
    await project(store, [news('d', 'REMDStatus', 'Success', ago(HOUR), { RemdRegNumber: '1' })], NOW.toISOString());
    expect((await waitingLadder(store, NOW, 90)).total).toBe(0);
  });
});
