/**
 * Load generators for the small-GET scenarios: wrk (when installed), autocannon (always),
 * and a sequential one-connection loop timed with the monotonic clock. Each returns the
 * same shape, latencies in milliseconds, so direct and tunnel runs compare like for like.
 *
 * @typedef {{ tool: string, requests: number, errors: number, durationS: number,
 *   rps: number, p50Ms: number, p99Ms: number, maxMs: number }} LoadResult
 */

import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import autocannon from 'autocannon';
import { tempDir } from './processes.js';

/** Whether a usable `wrk` is on PATH. */
export function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // `wrk --version` prints its usage and exits 1; only a missing binary is ENOENT.
    return /** @type {NodeJS.ErrnoException} */ (err).code !== 'ENOENT';
  }
}

/** @param {string} s */
const luaString = (s) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/**
 * @param {string[] | undefined} hosts rotate the Host header over these, one per request
 */
function wrkScript(hosts) {
  const rotate = hosts
    ? `local hosts = { ${hosts.map(luaString).join(', ')} }
local i = 0
request = function()
  i = i + 1
  if i > #hosts then i = 1 end
  return wrk.format('GET', nil, { Host = hosts[i] })
end
`
    : '';
  return `${rotate}done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;
}

/**
 * Runs wrk for `durationS` seconds against `url`.
 * @param {{ url: string, host?: string, hosts?: string[], connections: number, threads?: number, durationS: number }} o
 * @returns {Promise<LoadResult>}
 */
export async function runWrk(o) {
  const script = join(tempDir('burrow-bench-wrk-'), 'report.lua');
  writeFileSync(script, wrkScript(o.hosts));
  const args = [
    `-t${o.threads ?? 1}`,
    `-c${o.connections}`,
    `-d${Math.max(1, Math.round(o.durationS))}s`,
    '--timeout',
    '5s',
    '-s',
    script,
    ...(o.host ? ['-H', `Host: ${o.host}`] : []),
    o.url,
  ];
  const stdout = await new Promise((resolveRun, reject) => {
    execFile('wrk', args, { timeout: (o.durationS + 30) * 1000 }, (err, out, errOut) => {
      if (err) reject(new Error(`wrk failed: ${err.message}\n${errOut}`));
      else resolveRun(out);
    });
  });
  const line = /** @type {string} */ (stdout).split('\n').find((l) => l.startsWith('BENCHJSON '));
  if (!line) throw new Error(`wrk printed no report:\n${/** @type {string} */ (stdout)}`);
  const r = /** @type {Record<string, number>} */ (JSON.parse(line.slice('BENCHJSON '.length)));
  const durationS = r.durationUs / 1e6;
  const errors = r.connect + r.read + r.write + r.status + r.timeout;
  return {
    tool: 'wrk',
    requests: r.requests,
    errors,
    durationS,
    rps: (r.requests - r.status) / durationS,
    p50Ms: r.p50Us / 1000,
    p99Ms: r.p99Us / 1000,
    maxMs: r.maxUs / 1000,
  };
}

/**
 * Runs autocannon in this process. Its latency histogram has 1 ms resolution.
 * @param {{ url: string, host?: string, hosts?: string[], connections: number, durationS: number }} o
 * @returns {Promise<LoadResult>}
 */
export async function runAutocannon(o) {
  const url = new URL(o.url);
  /** @type {import('autocannon').Options} */
  const options = {
    url: url.origin,
    connections: o.connections,
    duration: o.durationS,
    timeout: 5,
    headers: o.host ? { host: o.host } : {},
    requests: o.hosts
      ? o.hosts.map((host) => ({ method: 'GET', path: url.pathname, headers: { host } }))
      : [{ method: 'GET', path: url.pathname }],
  };
  const r = await autocannon(options);
  const ok = r['2xx'];
  return {
    tool: 'autocannon',
    requests: r.requests.total,
    errors: r.errors + r.timeouts + r.non2xx,
    durationS: r.duration,
    rps: ok / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
  };
}

/**
 * One connection, one request at a time, each timed from write to the end of the body.
 * @param {{ url: string, host?: string, durationS: number }} o
 * @returns {Promise<LoadResult>}
 */
export async function runSequential(o) {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  /** @type {number[]} */
  const samples = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + o.durationS * 1000;
  try {
    while (performance.now() < deadline && samples.length < 1_000_000) {
      const t0 = performance.now();
      const status = await new Promise((resolveReq, reject) => {
        const req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            headers: o.host ? { host: o.host } : {},
            timeout: 5000,
          },
          (res) => {
            res.on('data', () => undefined);
            res.on('end', () => resolveReq(res.statusCode));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end();
      }).catch(() => 0);
      if (status === 200) samples.push(performance.now() - t0);
      else errors += 1;
      if (errors > 100) throw new Error(`sequential load: ${errors} failed requests to ${o.url}`);
    }
  } finally {
    agent.destroy();
  }
  const durationS = (performance.now() - started) / 1000;
  samples.sort((a, b) => a - b);
  return {
    tool: 'sequential',
    requests: samples.length + errors,
    errors,
    durationS,
    rps: samples.length / durationS,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    maxMs: samples.at(-1) ?? NaN,
  };
}

/**
 * @param {number[]} sorted ascending
 * @param {number} p 0..100
 */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return /** @type {number} */ (sorted[rank]);
}

/** @param {number[]} values */
export function median(values) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? /** @type {number} */ (finite[mid]) : (finite[mid - 1] + finite[mid]) / 2;
}
