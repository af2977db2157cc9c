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
 *   step of a few MiB), read by V8 at every full GC so it works when set late.
 *
 * Measured (bench/memory.js, 10 s of 50-connection GET load, medians of 3): edge + agent
 * RSS after load 275 → 177 MB; about 3.5× as many scavenges, ~+1.5 µs of main-thread GC
 * per request in the agent.
 *
 * Not for library users (`startAgent()`): V8 flags are process-wide, so only the CLIs,
 * which own their process, call this.
 */

import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Both semi-spaces together, in bytes, as V8 reports new_space's size. */
export const NEW_SPACE_CAP_BYTES = 8 * 1024 * 1024;
const OLD_SPACE_GROWING_PERCENT = 50;
/** V8's default growth factor. */
const GROWING = 2;
const NOT_GROWING = 1;

/** The semi-space growth factor to use when the young generation has `newSpaceBytes`. */
export function semiSpaceGrowthFactor(newSpaceBytes, capBytes = NEW_SPACE_CAP_BYTES) {
  return newSpaceBytes >= capBytes ? NOT_GROWING : GROWING;
}

function newSpaceSize() {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return 0;
}

let installed = false;

/** Applies the sizing above to this process; idempotent. Never keeps the process alive. */
export function tuneHeapForProxy() {
  if (installed) return;
  installed = true;
  setFlagsFromString(`--heap-growing-percent=${OLD_SPACE_GROWING_PERCENT}`);
  let factor = GROWING;
  const apply = () => {
    const wanted = semiSpaceGrowthFactor(newSpaceSize());
    if (wanted === factor) return;
    factor = wanted;
    setFlagsFromString(`--semi-space-growth-factor=${wanted}`);
  };
  // GC entries are delivered after the collection, in a later tick; a few per second at most.
  new PerformanceObserver(apply).observe({ entryTypes: ['gc'] });
  apply();
}
