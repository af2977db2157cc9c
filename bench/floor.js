/**
 * `node bench/floor.js`: the floor under any tunnel written in Node.js on this machine.
 * Scenarios 1, 2 and 3 (the download) run against the origin directly, through one logic-free TCP pipe
 * process (bench/pipe.js) and through two chained pipes, the shape of edge + agent without
 * a byte of HTTP parsing, framing or policy. The two-pipe ratio is what Burrow's ratios
 * can at best approach here: every request still crosses two more processes. The download
 * is timed like scenario 3 of run.js (curl -o /dev/null, or a node client that only counts
 * bytes) and checked by hashing in a separate pass, once per path.
 *
 *   node bench/floor.js [--runs N] [--duration S] [--no-wrk] [--quick] [--out file.json]
 *
 * Prints medians over N alternating runs (default 3) and writes JSON to bench/results/
 * (or --out). --quick: one run of 1 s loads and a 5 MiB download, a smoke check.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { hasWrk, median, runAutocannon, runWrk } from './load.js';
import { exitOnSignals, ROOT, startListening, startOrigin } from './processes.js';
import { timedTransfer, verifyTransfer } from './transfer.js';

/**
 * @param {string} name
 * @param {number} fallback
 */
function flagValue(name, fallback) {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const quick = process.argv.includes('--quick');
const runs = flagValue('--runs', quick ? 1 : 3);
const durationS = flagValue('--duration', quick ? 1 : 5);
const useWrk = !process.argv.includes('--no-wrk') && hasWrk();
const DOWNLOAD_BYTES = (quick ? 5 : 100) * 1024 * 1024;
const outFlag = process.argv.indexOf('--out');

/** @param {number} target */
function startPipe(target) {
  return startListening('pipe', [join(ROOT, 'bench/pipe.js'), '--target', String(target)]);
}

exitOnSignals();
const origin = await startOrigin();
const one = await startPipe(origin.port);
const two = await startPipe(one.port);
const paths = [
  { name: 'direct', port: origin.port },
  { name: 'one pipe', port: one.port },
  { name: 'two pipes', port: two.port },
];
/** @type {Record<string, { rps: number[], p99Ms: number[], p50OneMs: number[], mbPerS: number[] }>} */
const figures = Object.fromEntries(
  paths.map((p) => [p.name, { rps: [], p99Ms: [], p50OneMs: [], mbPerS: [] }]),
);

try {
  // Warm every path up once, then alternate so drift on a noisy machine hits all alike.
  for (const p of paths) {
    const url = `http://127.0.0.1:${p.port}/hello`;
    await (useWrk ? runWrk : runAutocannon)({ url, connections: 50, durationS: 1 });
  }
  for (let run = 0; run < runs; run++) {
    for (const p of paths) {
      const url = `http://127.0.0.1:${p.port}/hello`;
      const load = await (useWrk ? runWrk : runAutocannon)({ url, connections: 50, durationS });
      if (load.errors > 0) throw new Error(`${p.name}: ${load.errors} errors under load`);
      const one = await (useWrk ? runWrk : runAutocannon)({ url, connections: 1, durationS });
      const transfer = {
        kind: /** @type {const} */ ('download'),
        url: `http://127.0.0.1:${p.port}`,
        bytes: DOWNLOAD_BYTES,
        timeoutMs: 60_000,
      };
      if (run === 0 && !(await verifyTransfer(transfer)).ok)
        throw new Error(`${p.name}: download checksum mismatch`);
      const got = await timedTransfer(transfer);
      figures[p.name].rps.push(load.rps);
      figures[p.name].p99Ms.push(load.p99Ms);
      figures[p.name].p50OneMs.push(one.p50Ms);
      figures[p.name].mbPerS.push(got.mbPerS);
    }
  }
} finally {
  await Promise.all([two.proc.stop(), one.proc.stop(), origin.proc.stop()]);
}

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const direct = figures.direct;
const rows = paths.map((p) => {
  const f = figures[p.name];
  return {
    path: p.name,
    rps: median(f.rps),
    rpsRatio: median(f.rps) / median(direct.rps),
    p99Ms: median(f.p99Ms),
    p99Ratio: median(f.p99Ms) / median(direct.p99Ms),
    p50OneMs: median(f.p50OneMs),
    p50OneRatio: median(f.p50OneMs) / median(direct.p50OneMs),
    mbPerS: median(f.mbPerS),
    downloadRatio: median(f.mbPerS) / median(direct.mbPerS),
  };
});
/** @param {number} n @param {number} [digits] */
const fmt = (n, digits = 2) => n.toFixed(digits);
log(
  `floor: medians of ${runs} runs, GET /hello with 50 and 1 connections (${useWrk ? 'wrk' : 'autocannon'}), ${DOWNLOAD_BYTES / 1024 / 1024} MiB GET`,
);
log('path        req/s    ratio   p99 ms   ratio  p50 1c ms  ratio   MB/s   ratio');
for (const r of rows) {
  log(
    `${r.path.padEnd(10)} ${fmt(r.rps, 0).padStart(7)}  ${fmt(r.rpsRatio).padStart(5)}×  ${fmt(r.p99Ms).padStart(7)}  ${fmt(r.p99Ratio).padStart(5)}×  ${fmt(r.p50OneMs, 3).padStart(9)}  ${fmt(r.p50OneRatio).padStart(5)}×  ${fmt(r.mbPerS, 0).padStart(5)}  ${fmt(r.downloadRatio).padStart(5)}×`,
  );
}
const dir = join(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
const out =
  outFlag === -1
    ? join(dir, `floor-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
    : resolve(process.argv[outFlag + 1] ?? '');
writeFileSync(
  out,
  `${JSON.stringify({ runs, durationS, tool: useWrk ? 'wrk' : 'autocannon', figures, rows }, null, 2)}\n`,
);
log(`results: ${out}`);
