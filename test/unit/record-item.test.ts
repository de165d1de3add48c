import { describe, expect, it } from 'vitest';
import { arrivalFromIndexItem, fromItem, itemBytes, MissingAttributeError, toItem } from '../../lambdas/adapters/record-item';
import { shardOf, TABLE } from '../../contract/shapes';
import type { MessageRecord } from '../../lambdas/ingest/ports';

const record: MessageRecord = {
  messageId: 'b097fea5-e6f6-4417-9829-53ab6a562719',
  state: 'RECEIVED',
  messageType: 'REMDStatus',
  site: 'mo-1',
  lpu: '20dfadd0-c709-43b0-a130-5a16301b0217',
  status: 'Success',
  documentKey: 'doc-1',
  payloadHash: 'ab12',
  payload: '{"a":1}',
  payloadBytes: 7,
  receivedAt: '2026-11-26T07:00:00.000Z',
  expiresAt: 1_800_000_000,
};

describe('record item', () => {
  it('maps a record to its item and back, unchanged', () => {
    expect(fromItem(toItem(record))).toEqual(record);
    const forwarded = { ...record, state: 'FORWARDED' as const, forwardedAt: '2026-11-26T07:00:01.000Z', payload: undefined };
    const ref = { bucket: 'b', key: 'k', size: 9, sha256: 'cd' };
    const { payload: _, ...withoutPayload } = forwarded;
    expect(fromItem(toItem({ ...withoutPayload, payloadRef: ref }))).toEqual({ ...withoutPayload, payloadRef: ref });
    const simulated = { ...record, simulation: { runId: 'sim-1' } };
    expect(fromItem(toItem(simulated))).toEqual(simulated);
  });

  it('lists a RECEIVED record in the pending index and a FORWARDED one not, on the shard of its MessageId', () => {
    expect(toItem(record)[TABLE.pendingIndex.partitionKey]).toBe(`PENDING#${shardOf(record.messageId)}`);
    expect(toItem(record)[TABLE.dayIndex.partitionKey]).toBe(`2026-11-26#${shardOf(record.messageId)}`);
    expect(toItem({ ...record, state: 'FORWARDED' })[TABLE.pendingIndex.partitionKey]).toBeUndefined();
  });

  it('keeps an UNDELIVERABLE record, with when and why, out of the pending index', () => {
    const refused = {
      ...record,
      state: 'UNDELIVERABLE' as const,
      undeliverableAt: '2026-11-26T07:00:01.000Z',
      refusal: 'InvalidMessageContents',
    };
    expect(fromItem(toItem(refused))).toEqual(refused);
    expect(toItem(refused)[TABLE.pendingIndex.partitionKey]).toBeUndefined();
    expect(toItem(refused)[TABLE.pendingIndex.sortKey]).toBeUndefined();
  });

  it('sizes an item as DynamoDB does, or larger: names and values in UTF-8 bytes', () => {
    expect(itemBytes({ a: 'xyz' })).toBeGreaterThanOrEqual(1 + 3);
    expect(itemBytes({ ключ: 'значение' })).toBeGreaterThanOrEqual(8 + 16);
    expect(itemBytes({ n: 1234567890123456 })).toBeGreaterThanOrEqual(1 + 21);
    expect(itemBytes(toItem({ ...record, documentKey: 'д'.repeat(1000) }))).toBeGreaterThan(itemBytes(toItem(record)) + 1990);
  });

  it('names the attribute an item lacks instead of reading it as empty or zero', () => {
    const { status: _, ...item } = toItem(record);
    expect(() => fromItem(item)).toThrow(MissingAttributeError);
    expect(() => fromItem(item)).toThrow(`item ${record.messageId} has no "status"`);
    expect(() => fromItem({ ...toItem(record), payloadBytes: '7' })).toThrow('"payloadBytes"');
    expect(() => arrivalFromIndexItem({ [TABLE.partitionKey]: record.messageId }, 'FORWARDED')).toThrow('"receivedAt"');
  });
});
