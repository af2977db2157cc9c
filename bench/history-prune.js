/**
 * Event-loop cost of request-history retention passes on a SQLite file of 1M records
 * (100 tunnels × 10,000, each at the default cap, none past the age limit), in a temp dir
 * removed afterwards; with `--small-tunnels N` also N tunnels of `--small-per-tunnel`
 * records each (default 10), far under the cap, as temporary names leave behind. Runs
 * against the built store (`npm run build` first):
 *
 *   1. the first pass after the store opens;
 *   2. an idle pass: nothing inserted since, nothing to delete;
 *   3. a pass after 1,000 inserts into one tunnel (1,000 to delete);
 *   4. an age cut of the oldest 100,000.
 *
 * For each: wall time, event-loop active time (`eventLoopUtilization`) and the longest
 * stall: the longest gap between the ticks of a 1 ms interval.
 *
 * With `--database-url URL` the same on PostgreSQL instead, in that database (empty, made
 * for the run: its request_records are deleted at the end). There the pass's time is
 * mostly the server's, not the event loop's.
 *
 * Usage: node bench/history-prune.js [--tunnels N] [--per-tunnel N] [--small-tunnels N]
 *          [--small-per-tunnel N] [--database-url URL]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgresStore } from '../packages/edge/dist/store/postgres-store.js';
import { openSqliteStore } from '../packages/edge/dist/store/sqlite-store.js';

function flag(name, fallback) {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

const TUNNELS = Number(flag('--tunnels', 100));
const PER_TUNNEL = Number(flag('--per-tunnel', 10_000));
const SMALL_TUNNELS = Number(flag('--small-tunnels', 0));
const SMALL_PER_TUNNEL = Number(flag('--small-per-tunnel', 10));
const DATABASE_URL = flag('--database-url', undefined);
const BATCH = 5_000;
const DAY = 86_400_000;
const now = Date.now();

/** A plain record; ids are time-first like the edge's, unique per (n). */
function record(n, tunnel, startedAt) {
  return {
    id: `${String(startedAt).padStart(14, '0')}-${String(n).padStart(8, '0')}`,
    tunnel,
    userId: 'usr_bench',
    startedAt: new Date(startedAt),
    method: 'GET',
    path: `/items/${n % 997}?page=${n % 13}`,
    host: `${tunnel}.tunnel.test`,
    status: 200,
    upgrade: false,
    bytesIn: 0,
    bytesOut: 1_234,
    clientAddress: '127.0.0.2',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    errorCode: null,
    timing: { edgeMs: 0.2, tunnelMs: 1.1, originMs: 2.5, totalMs: 4.0 },
    replayOf: null,
    capture: null,
  };
}

/** One pass, measured; `deleted` from either shape the store answers (a count, or stats). */
async function measuredPass(store, label, olderThan = now - 7 * DAY) {
  // The longest gap between 1 ms ticks: a pass that never yields is one gap.
  let last = performance.now();
  let longest = 0;
  const probe = setInterval(() => {
    const at = performance.now();
    longest = Math.max(longest, at - last);
    last = at;
  }, 1);
  const before = performance.eventLoopUtilization();
  const started = performance.now();
  const result = await store.pruneRequestRecords({
    olderThan: new Date(olderThan),
    keepPerTunnel: PER_TUNNEL,
  });
  const wallMs = performance.now() - started;
  const elu = performance.eventLoopUtilization(before);
  await sleep(5);
  clearInterval(probe);
  const stats = typeof result === 'number' ? { deleted: result } : result;
  const line = {
    pass: label,
    wallMs: Number(wallMs.toFixed(1)),
    eventLoopActiveMs: Number(elu.active.toFixed(1)),
    longestStallMs: Number(longest.toFixed(1)),
    ...stats,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const dir = await mkdtemp(join(tmpdir(), 'burrow-prune-bench-'));
try {
  const file = join(dir, 'history.db');
  const open = () =>
    DATABASE_URL === undefined ? openSqliteStore({ file }) : openPostgresStore({ url: DATABASE_URL });
  let store = await open();
  const total = TUNNELS * PER_TUNNEL;
  const small = SMALL_TUNNELS * SMALL_PER_TUNNEL;
  const filling = performance.now();
  for (let start = 0; start < total; start += BATCH) {
    const batch = [];
    for (let n = start; n < Math.min(total, start + BATCH); n++) {
      batch.push(record(n, `t${String(n % TUNNELS).padStart(3, '0')}`, now - DAY + n));
    }
    await store.insertRequestRecords(batch);
  }
  // Small tunnels after the big ones' rows in time, so the age cut below still takes the big ones' oldest.
  for (let start = 0; start < small; start += BATCH) {
    const batch = [];
    for (let n = start; n < Math.min(small, start + BATCH); n++) {
      const at = now - DAY + total + 1_000 + n;
      batch.push(record(total + 1_000 + n, `s${String(n % SMALL_TUNNELS).padStart(6, '0')}`, at));
    }
    await store.insertRequestRecords(batch);
  }
  await store.close();
  process.stdout.write(
    `${JSON.stringify({ rows: total + small, tunnels: TUNNELS + SMALL_TUNNELS, fillSeconds: Number(((performance.now() - filling) / 1000).toFixed(1)) })}\n`,
  );

  // A fresh store, as after a restart: nothing inserted through it yet.
  store = await open();
  await measuredPass(store, 'first after open');
  await measuredPass(store, 'idle');
  await measuredPass(store, 'idle again');
  await store.insertRequestRecords(
    Array.from({ length: 1_000 }, (_, k) => record(total + k, 't007', now - DAY + total + k)),
  );
  await measuredPass(store, 'after 1,000 inserts into one tunnel');
  await measuredPass(store, 'idle after that');
  // The oldest 100,000 (1,000 of each tunnel), contiguous in time.
  await measuredPass(store, 'age cut of 100,000', now - DAY + 100_000);
  if (DATABASE_URL !== undefined)
    await store.pruneRequestRecords({ olderThan: new Date(now + DAY), keepPerTunnel: 0 });
  await store.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
