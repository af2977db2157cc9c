/**
 * What one `/metrics` render costs the edge at the tunnel-series cap: EdgeMetrics (the
 * built dist) with `--tunnels` named tunnels (default 1,000, metrics.maxTunnelSeries's
 * default), each having seen all six status classes and one error code, rendered
 * `--renders` times in process.
 *
 *   node bench/metrics-render.js [--tunnels 1000] [--renders 12] [--json]
 *   node --cpu-prof bench/metrics-render.js   (then bench/profile-summary.js on the profile)
 *
 * Figures per render: wall time from `render()` to its body as bytes (a body rendered as
 * one string, as before the edge wrote its own text, is encoded here, as answering the
 * scrape did), the process's CPU time meanwhile (V8's GC threads included), and the longest
 * the event loop was held meanwhile (perf_hooks.monitorEventLoopDelay, 1 ms resolution, so
 * a figure under ~1 ms reads as ~1 ms); median, min and max over the renders, after one
 * warm-up.
 */

import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { median } from './load.js';
import { ROOT } from './processes.js';

const { EdgeMetrics } = await import(
  pathToFileURL(join(ROOT, 'packages/edge/dist/observe/edge-metrics.js')).href
);

const argv = process.argv.slice(2);
/** @param {string} name @param {number} fallback */
const numberArg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const tunnels = numberArg('--tunnels', 1_000);
const renders = numberArg('--renders', 12);

const metrics = new EdgeMetrics({ maxTunnelSeries: tunnels, reuseMs: 0 });
const timing = { edgeMs: 1, tunnelMs: 2, originMs: 3, totalMs: 12 };
for (let t = 0; t < tunnels; t++) {
  const tunnel = `tunnel-${String(t).padStart(4, '0')}`;
  metrics.admitTunnel(tunnel);
  const base = { id: 'r', tunnel, userId: null, startedAt: new Date(0), method: 'GET', path: '/' };
  const rest = { host: 'h', upgrade: false, bytesIn: 1, bytesOut: 2, clientAddress: '127.0.0.1' };
  const more = { traceId: null, replayOf: null, capture: null };
  for (const status of [0, 101, 200, 301, 404, 503])
    metrics.record({ ...base, ...rest, ...more, status, errorCode: null, timing });
  metrics.record({ ...base, ...rest, ...more, status: 502, errorCode: 'TUN_ERR_ORIGIN_REFUSED', timing });
}

const delay = monitorEventLoopDelay({ resolution: 1 });
/** @type {{ ms: number, cpuMs: number, maxDelayMs: number, bytes: number, lines: number }[]} */
const runs = [];
for (let i = 0; i <= renders; i++) {
  // The monitor counts from its first tick: started, then given time to tick, before the render.
  delay.reset();
  delay.enable();
  await sleep(20);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const { body } = await metrics.render();
  /** @type {Buffer[]} */
  const chunks = typeof body === 'string' ? [Buffer.from(body)] : body;
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  // The monitor's timer records a held loop only when it fires next.
  await sleep(5);
  delay.disable();
  let lines = 0;
  let bytes = 0;
  for (const chunk of chunks) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines += 1;
  }
  if (i > 0)
    runs.push({ ms, cpuMs: (cpu.user + cpu.system) / 1000, maxDelayMs: delay.max / 1e6, bytes, lines });
}

/** @param {number[]} values */
const spread = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
});
const summary = {
  tunnels,
  renders,
  lines: runs[0]?.lines,
  bytes: runs[0]?.bytes,
  renderMs: spread(runs.map((r) => r.ms)),
  cpuMs: spread(runs.map((r) => r.cpuMs)),
  maxLoopDelayMs: spread(runs.map((r) => r.maxDelayMs)),
};
if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(summary)}\n`);
else {
  const f = (/** @type {{ median: number, min: number, max: number }} */ s) =>
    `median ${s.median.toFixed(1)}, min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}`;
  const mb = ((summary.bytes ?? 0) / 1e6).toFixed(2);
  process.stdout.write(
    `${tunnels} tunnels: ${summary.lines} lines, ${mb} MB\n` +
      `render + encode ms:      ${f(summary.renderMs)}\n` +
      `  of it CPU ms:          ${f(summary.cpuMs)}\n` +
      `event-loop max delay ms: ${f(summary.maxLoopDelayMs)}\n`,
  );
}
