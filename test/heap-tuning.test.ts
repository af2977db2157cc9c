import { describe, expect, it } from 'vitest';

/** What scripts/heap-tuning.js exports (plain JS, loaded by path so it needs no declaration file). */
interface HeapTuning {
  NEW_SPACE_CAP_BYTES: number;
  semiSpaceGrowthFactor: (newSpaceBytes: number, capBytes?: number) => number;
}

const modulePath = '../scripts/heap-tuning.js';
const { NEW_SPACE_CAP_BYTES, semiSpaceGrowthFactor } = (await import(modulePath)) as HeapTuning;

describe('semiSpaceGrowthFactor', () => {
  it('lets the young generation grow below the cap and stops it at the cap', () => {
    expect(semiSpaceGrowthFactor(2 * 1024 * 1024)).toBe(2);
    expect(semiSpaceGrowthFactor(NEW_SPACE_CAP_BYTES - 1)).toBe(2);
    expect(semiSpaceGrowthFactor(NEW_SPACE_CAP_BYTES)).toBe(1);
    expect(semiSpaceGrowthFactor(4 * NEW_SPACE_CAP_BYTES)).toBe(1);
  });
});
