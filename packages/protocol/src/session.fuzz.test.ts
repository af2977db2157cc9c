import { describe, it } from 'vitest';
import { protocolFuzzTargets } from '../../../test/fuzz/protocol.fuzz.js';

// A small bounded run on every test pass; BURROW_FUZZ_RUNS raises it for a long fuzz session,
// and BURROW_FUZZ_SEED replays a reported failure.
const numRuns = Number(process.env.BURROW_FUZZ_RUNS ?? 200);
const seed = process.env.BURROW_FUZZ_SEED === undefined ? undefined : Number(process.env.BURROW_FUZZ_SEED);
const timeout = Math.max(30_000, numRuns * 20);

describe('protocol fuzz', () => {
  for (const target of protocolFuzzTargets()) {
    it(target.name, () => target.check({ numRuns, ...(seed === undefined ? {} : { seed }) }), timeout);
  }
});
