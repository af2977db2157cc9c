/**
 * The property suites' fast-check parameters: a property cut short by the time limit must
 * fail, not pass with fewer runs than asked.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters } from './property-support.js';

describe('fuzzParameters', () => {
  it('fails a property the time limit interrupted before all its runs', async () => {
    let runs = 0;
    const slow = fc.asyncProperty(fc.nat(), async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    await expect(fc.assert(slow, fuzzParameters('interrupted on purpose', 1000, 100))).rejects.toThrow();
    expect(runs).toBeLessThan(1000);
  });

  it('passes a property that finishes its runs inside the limit', async () => {
    let runs = 0;
    const quick = fc.asyncProperty(fc.nat(), async () => {
      runs++;
      await Promise.resolve();
    });
    await fc.assert(quick, fuzzParameters('quick', 50, 10_000));
    expect(runs).toBe(50);
  });
});
