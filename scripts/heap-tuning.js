/**
 * V8 heap sizing for the edge and agent processes: process tuning, so it belongs to the CLI
 * bootstrap, not to a library package. heap-prelude.js, the first module of each CLI bundle
 * (see bundle.js), calls it. Plain JS, so the bundler and test/heap-tuning.test.ts load it as it is.
 *
 * A proxy allocates a lot of short-lived garbage per request and keeps little. With V8's
 * defaults under load the young generation grows to two 16 MiB semi-spaces and the old
 * generation is let grow up to 4× its live size before a full GC, so each process sat at
 * ~125 MB RSS after a burst of small requests while holding ~15 MB of live objects.
 *
 * - Young generation capped at two 4 MiB semi-spaces. `--max-semi-space-size` only works
 *   on the command line (the heap is sized at start-up), so the cap is kept from inside:
 *   after each GC the growth factor is set to 1 once the cap is reached, and back to 2 if
 *   V8 shrank the space (it shrinks it when idle). Smaller caps (1–2 MiB) promote so much
 *   that the old generation grows instead.
 * - Old generation grows by 50% of the live size after a full GC (V8 enforces a minimum
 *   step of a few MiB), read by V8 at every full GC so it works when set late. Once full
 *   GCs come less than 2 s apart the growth is 300% (4× live, the most V8's own heuristic
 *   picks), and the 50% returns once one comes 30 s or more after the one before. Leaving
 *   it to V8 (`--heap-growing-percent=0`) did not do: its factor follows the GC's recent
 *   speed, so under this load it settled at ~1.5 as well after a few seconds.
 *   Why: V8 counts external memory reported since the last full GC against the old
 *   generation's limit, and Node reports 49 KiB for each live TLS socket (`TLSWrap`), so a
 *   burst of 200 handshakes looks like ~10 MB of old-generation allocation. At 50% over a
 *   ~20 MB heap that started a full GC every 0.3-0.5 s under new TLS connections, about a
 *   fifth of the edge's CPU (docs/performance.md, 6 December 2026). A growth percent given
 *   on the command line (`--heap-growing-percent=N`) is left alone, so it can be A/B tested.
 *
 * Measured (bench/memory.js, 10 s of 50-connection GET load, medians of 3): edge + agent
 * RSS after load 275 → 177 MB; about 3.5× as many scavenges, ~+1.5 µs of main-thread GC
 * per request in the agent.
 *
 * Not for library users (`startAgent()`): V8 flags are process-wide, so only the CLIs,
 * which own their process, call this.
 */

import { constants, PerformanceObserver } from 'node:perf_hooks';
import process from 'node:process';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Both semi-spaces together, in bytes, as V8 reports new_space's size. */
export const NEW_SPACE_CAP_BYTES = 8 * 1024 * 1024;
const OLD_SPACE_GROWING_PERCENT = 50;
/** Growth while full GCs crowd: 4× live, the most V8's own heuristic ever picks. */
const CROWDED_GROWING_PERCENT = 300;
/** Full GCs closer than this: the fixed 50% is too little headroom for the load. */
export const CROWDED_MAJOR_GC_MS = 2_000;
/** A full GC this long after the previous one: the load has eased, back to 50%. */
export const SPARSE_MAJOR_GC_MS = 30_000;
/** V8's default growth factor. */
const GROWING = 2;
const NOT_GROWING = 1;

/** The semi-space growth factor to use when the young generation has `newSpaceBytes`. */
export function semiSpaceGrowthFactor(newSpaceBytes, capBytes = NEW_SPACE_CAP_BYTES) {
  return newSpaceBytes >= capBytes ? NOT_GROWING : GROWING;
}

/**
 * The old generation's growth percent to set after a full GC that came `sinceLastMajorMs`
 * after the previous one, when `current` is set now (50 or 300).
 */
export function oldSpaceGrowingPercent(current, sinceLastMajorMs) {
  if (sinceLastMajorMs < CROWDED_MAJOR_GC_MS) return CROWDED_GROWING_PERCENT;
  if (sinceLastMajorMs >= SPARSE_MAJOR_GC_MS) return OLD_SPACE_GROWING_PERCENT;
  return current;
}

function newSpaceSize() {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return 0;
}

let installed = false;
/**
 * What this process has set, for tests and diagnostics; `oldSpaceGrowingPercent` is null
 * when the command line set it.
 * @type {{ oldSpaceGrowingPercent: number | null, semiSpaceGrowthFactor: number }}
 */
const state = { oldSpaceGrowingPercent: OLD_SPACE_GROWING_PERCENT, semiSpaceGrowthFactor: GROWING };

/** The growth settings in force now (V8 flags cannot be read back from JavaScript). */
export function heapTuningState() {
  return { ...state };
}

/** Applies the sizing above to this process; idempotent. Never keeps the process alive. */
export function tuneHeapForProxy() {
  if (installed) return;
  installed = true;
  const tuneOldSpace = !process.execArgv.some((a) => a.startsWith('--heap-growing-percent'));
  if (tuneOldSpace) setFlagsFromString(`--heap-growing-percent=${OLD_SPACE_GROWING_PERCENT}`);
  else state.oldSpaceGrowingPercent = null;
  let lastMajorMs = -Infinity;
  const apply = (/** @type {import('node:perf_hooks').PerformanceEntry[]} */ entries) => {
    for (const entry of entries) {
      if (state.oldSpaceGrowingPercent === null || entry.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR)
        continue;
      // V8 read the flag during this collection; a change applies from the next one on.
      const wanted = oldSpaceGrowingPercent(state.oldSpaceGrowingPercent, entry.startTime - lastMajorMs);
      lastMajorMs = entry.startTime;
      if (wanted === state.oldSpaceGrowingPercent) continue;
      state.oldSpaceGrowingPercent = wanted;
      setFlagsFromString(`--heap-growing-percent=${wanted}`);
    }
    const wantedFactor = semiSpaceGrowthFactor(newSpaceSize());
    if (wantedFactor === state.semiSpaceGrowthFactor) return;
    state.semiSpaceGrowthFactor = wantedFactor;
    setFlagsFromString(`--semi-space-growth-factor=${wantedFactor}`);
  };
  // GC entries are delivered after the collection, in a later tick; a few per second at most.
  new PerformanceObserver((list) => apply(list.getEntries())).observe({ entryTypes: ['gc'] });
  apply([]);
}
