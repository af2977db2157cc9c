/**
 * h2load (nghttp2-client) as a load generator for the HTTPS scenarios: HTTP/2 streams on
 * few connections, HTTP/1.1 over TLS, and batches of fresh TLS connections. Each run
 * reports its own CPU time (the shell's `times` after h2load exits), so a figure can be
 * checked for a client that was itself the bottleneck. Latencies come from h2load's
 * per-request `--log-file` (start, status, duration in µs), since its summary prints only
 * min, max, mean and sd.
 *
 * @typedef {import('./load.js').LoadResult & { clientCpuSeconds: number, wallSeconds: number, meanMs: number }} H2loadResult
 *   `wallSeconds`: the whole h2load process, its start-up included
 */

import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import { percentile } from './load.js';
import { tempDir } from './processes.js';

/** Why h2load cannot run here, or null. */
export function h2loadMissing() {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return null;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT'
      ? 'h2load not found (apt-get install nghttp2-client)'
      : null;
  }
}

/** @param {string} s a POSIX shell word */
const quote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/** `times` prints the shell's and then its children's user and system time, as `0m0.060000s`. */
function childCpuSeconds(/** @type {string} */ out) {
  const lines = out
    .trim()
    .split('\n')
    .filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l));
  const last = lines.at(-1);
  if (!last) return NaN;
  return last
    .split(' ')
    .map((t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
    })
    .reduce((a, b) => a + b, 0);
}

/**
 * One h2load run. `url` carries the name the client puts in SNI and `:authority`/Host;
 * `connectTo` is where it really connects (the tunnel names do not resolve).
 * @param {{ url: string, connectTo?: string, h1?: boolean, clients: number, streams?: number,
 *   requests?: number, durationS?: number }} o
 * @returns {Promise<H2loadResult>}
 */
export async function runH2load(o) {
  const log = join(tempDir('burrow-bench-h2load-'), 'requests.tsv');
  const args = [
    ...(o.h1 ? ['--h1'] : []),
    '-t1',
    `-c${o.clients}`,
    `-m${o.streams ?? 1}`,
    ...(o.durationS !== undefined ? ['-D', String(Math.max(1, Math.round(o.durationS)))] : []),
    ...(o.requests !== undefined ? [`-n${o.requests}`] : []),
    '-T5',
    `--log-file=${log}`,
    ...(o.connectTo ? [`--connect-to=${o.connectTo}`] : []),
    o.url,
  ];
  const limitS = (o.durationS ?? 10) + 60;
  const started = performance.now();
  const out = await new Promise((resolveRun, reject) => {
    execFile(
      'sh',
      ['-c', `h2load ${args.map(quote).join(' ')} && times`],
      { timeout: limitS * 1000, maxBuffer: 4 * 2 ** 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`h2load failed: ${err.message}\n${stdout}\n${stderr}`));
        else resolveRun(stdout);
      },
    );
  });
  const text = /** @type {string} */ (out);
  const finished = /finished in ([\d.]+)(ms|s),/.exec(text);
  const counts =
    /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      text,
    );
  const codes = /status codes: (\d+) 2xx/.exec(text);
  if (!finished || !counts || !codes) throw new Error(`h2load printed no summary for ${o.url}:\n${text}`);
  const durationS = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  const ok = Number(codes[1]);
  const total = Number(counts[1]);
  const durations = readFileSync(log, 'utf8')
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((f) => f[1] !== undefined && f[1].startsWith('2'))
    .map((f) => Number(f[2]) / 1000)
    .sort((a, b) => a - b);
  return {
    tool: o.h1 ? 'h2load --h1' : 'h2load',
    requests: total,
    errors: total - ok,
    durationS,
    rps: ok / durationS,
    p50Ms: percentile(durations, 50),
    p99Ms: percentile(durations, 99),
    maxMs: durations.at(-1) ?? NaN,
    meanMs: durations.reduce((a, b) => a + b, 0) / (durations.length || 1),
    clientCpuSeconds: childCpuSeconds(text),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * New TLS connections per second: batches of `batch` fresh connections, each doing its full
 * handshake and one GET over HTTP/1.1, repeated for `durationS`. The rate is connections over
 * the summed batch times (h2load's own clock, without its start-up).
 * @param {{ url: string, connectTo?: string, batch: number, durationS: number }} o
 */
export async function newConnectionsPerSecond(o) {
  const deadline = Date.now() + o.durationS * 1000;
  let connections = 0;
  let errors = 0;
  let seconds = 0;
  let cpu = 0;
  let wall = 0;
  for (let i = 0; i < 100_000 && (i === 0 || Date.now() < deadline); i += 1) {
    const r = await runH2load({
      url: o.url,
      connectTo: o.connectTo,
      h1: true,
      clients: o.batch,
      requests: o.batch,
    });
    connections += r.requests;
    errors += r.errors;
    seconds += r.durationS;
    cpu += r.clientCpuSeconds;
    wall += r.wallSeconds;
  }
  return {
    connections,
    errors,
    seconds,
    perSecond: (connections - errors) / seconds,
    /** h2load's CPU time over its processes' lifetimes: near 1 would mean the client was the bottleneck. */
    clientCpuShare: cpu / wall,
  };
}

/** @param {string} url @param {string} host name for SNI and Host */
export function withHost(url, host) {
  const u = new URL(url);
  return { url: `${u.protocol}//${host}${u.pathname}`, connectTo: u.host };
}
