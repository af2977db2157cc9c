import { describe, expect, it } from 'vitest';
import { binValueMs, LATENCY_BIN_COUNT, LATENCY_EDGES_MS, latencyBin, quantileMs } from './latency-bins.js';

describe('latency bins', () => {
  it('use the R10 series from 0.1 ms to 1,000 s', () => {
    expect(Array.from(LATENCY_EDGES_MS.slice(0, 11))).toEqual([
      0.1, 0.125, 0.16, 0.2, 0.25, 0.315, 0.4, 0.5, 0.63, 0.8, 1,
    ]);
    expect(Array.from(LATENCY_EDGES_MS.slice(-3))).toEqual([630_000, 800_000, 1_000_000]);
    expect(LATENCY_BIN_COUNT).toBe(72);
  });

  it('put a value in the bin whose upper edge is the first at or above it', () => {
    expect(binValueMs(latencyBin(10))).toBe(10);
    expect(binValueMs(latencyBin(10.01))).toBe(12.5);
    expect(binValueMs(latencyBin(3.2))).toBe(4);
    expect(binValueMs(latencyBin(0))).toBe(0.1);
    expect(binValueMs(latencyBin(0.05))).toBe(0.1);
  });

  it('count nonsense as zero and everything past 1,000 s in the last bin', () => {
    expect(latencyBin(-5)).toBe(0);
    expect(latencyBin(Number.NaN)).toBe(0);
    expect(latencyBin(2_000_000)).toBe(LATENCY_BIN_COUNT - 1);
    expect(binValueMs(LATENCY_BIN_COUNT - 1)).toBe(1_000_000);
  });

  it('report a value at most 28% above the true one across the whole range', () => {
    for (let ms = 0.11; ms < 1_000_000; ms *= 1.07) {
      const reported = binValueMs(latencyBin(ms));
      expect(reported).toBeGreaterThanOrEqual(ms);
      expect(reported / ms).toBeLessThanOrEqual(1.28);
    }
  });

  it('read nearest-rank quantiles from counts', () => {
    const counts = new Uint32Array(LATENCY_BIN_COUNT);
    counts[latencyBin(5)] = 3;
    counts[latencyBin(50)] = 1;
    expect(quantileMs(counts, 4, 0.5)).toBe(5);
    expect(quantileMs(counts, 4, 0.75)).toBe(5);
    expect(quantileMs(counts, 4, 0.76)).toBe(50);
    expect(quantileMs(new Uint32Array(LATENCY_BIN_COUNT), 0, 0.5)).toBeNull();
  });
});
