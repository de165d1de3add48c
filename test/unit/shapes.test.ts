import { describe, expect, it } from 'vitest';
import { TABLE, shardOf, updatedPartitions, utcDays } from '../../contract/shapes';

describe('key shapes', () => {
  it('lists the UTC days between two times, oldest first, across a month end, and stops at the bound', () => {
    expect(utcDays('2026-11-29T23:59:00Z', '2026-12-02T00:01:00Z')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
    expect(utcDays('2026-11-26T08:00:00Z', '2026-11-26T09:00:00Z')).toEqual(['2026-11-26']);
    expect(utcDays('2026-01-01T00:00:00Z', '2026-12-31T00:00:00Z', 32)).toHaveLength(32);
  });

  it('spreads MessageIds over every shard, and reads each shard of a day', () => {
    const seen = new Set(Array.from({ length: 500 }, (_, i) => shardOf(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)));
    expect(seen.size).toBe(TABLE.shards);
    expect(updatedPartitions('2026-11-26')).toHaveLength(TABLE.shards);
  });
});
