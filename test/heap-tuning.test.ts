import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** What scripts/heap-tuning.js exports (plain JS, loaded by path so it needs no declaration file). */
interface HeapTuning {
  NEW_SPACE_CAP_BYTES: number;
  semiSpaceGrowthFactor: (newSpaceBytes: number, capBytes?: number) => number;
  oldSpaceGrowingPercent: (current: number, sinceLastMajorMs: number) => number;
  CROWDED_MAJOR_GC_MS: number;
  SPARSE_MAJOR_GC_MS: number;
}

const modulePath = '../scripts/heap-tuning.js';
const {
  NEW_SPACE_CAP_BYTES,
  semiSpaceGrowthFactor,
  oldSpaceGrowingPercent,
  CROWDED_MAJOR_GC_MS,
  SPARSE_MAJOR_GC_MS,
} = (await import(modulePath)) as HeapTuning;

describe('semiSpaceGrowthFactor', () => {
  it('lets the young generation grow below the cap and stops it at the cap', () => {
    expect(semiSpaceGrowthFactor(2 * 1024 * 1024)).toBe(2);
    expect(semiSpaceGrowthFactor(NEW_SPACE_CAP_BYTES - 1)).toBe(2);
    expect(semiSpaceGrowthFactor(NEW_SPACE_CAP_BYTES)).toBe(1);
    expect(semiSpaceGrowthFactor(4 * NEW_SPACE_CAP_BYTES)).toBe(1);
  });
});

describe('oldSpaceGrowingPercent', () => {
  it('gives the old generation 4× headroom once full GCs crowd, and 50% back once they are sparse', () => {
    expect(oldSpaceGrowingPercent(50, CROWDED_MAJOR_GC_MS - 1)).toBe(300);
    expect(oldSpaceGrowingPercent(50, CROWDED_MAJOR_GC_MS)).toBe(50);
    expect(oldSpaceGrowingPercent(300, CROWDED_MAJOR_GC_MS)).toBe(300);
    expect(oldSpaceGrowingPercent(300, SPARSE_MAJOR_GC_MS - 1)).toBe(300);
    expect(oldSpaceGrowingPercent(300, SPARSE_MAJOR_GC_MS)).toBe(50);
    expect(oldSpaceGrowingPercent(50, Number.POSITIVE_INFINITY)).toBe(50);
  });
});

/** Runs `code` in a fresh Node process (V8 flags are process-wide) and parses its last line. */
function runNode(args: string[], code: string): unknown {
  const out = execFileSync(process.execPath, [...args, '--input-type=module', '-e', code], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? 'null');
}

const twoFullGcs = `
  import { heapTuningState, tuneHeapForProxy } from './scripts/heap-tuning.js';
  tuneHeapForProxy();
  const tick = () => new Promise((r) => setTimeout(r, 50));
  const seen = [heapTuningState().oldSpaceGrowingPercent];
  globalThis.gc(); await tick(); seen.push(heapTuningState().oldSpaceGrowingPercent);
  globalThis.gc(); await tick(); seen.push(heapTuningState().oldSpaceGrowingPercent);
  console.log(JSON.stringify(seen));
`;

describe('tuneHeapForProxy', () => {
  it('switches to the crowded growth when two full GCs come within the window', () => {
    expect(runNode(['--expose-gc'], twoFullGcs)).toEqual([50, 50, 300]);
  });

  it('leaves a growth percent given on the command line alone', () => {
    expect(runNode(['--expose-gc', '--heap-growing-percent=120'], twoFullGcs)).toEqual([null, null, null]);
  });
});
