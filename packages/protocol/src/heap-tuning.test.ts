import { describe, expect, it } from 'vitest';
import { NEW_SPACE_CAP_BYTES, semiSpaceGrowthFactor } from './heap-tuning.js';

describe('semiSpaceGrowthFactor', () => {
  it('lets the young generation grow below the cap and stops it at the cap', () => {
    expect(semiSpaceGrowthFactor(2 * 1024 * 1024)).toBe(2);
    expect(semiSpaceGrowthFactor(NEW_SPACE_CAP_BYTES - 1)).toBe(2);
    expect(semiSpaceGrowthFactor(NEW_SPACE_CAP_BYTES)).toBe(1);
    expect(semiSpaceGrowthFactor(4 * NEW_SPACE_CAP_BYTES)).toBe(1);
  });
});
