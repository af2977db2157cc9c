/**
 * Where the edge's and the agent's RSS goes, idle and after scenario 1's load:
 * process.memoryUsage(), V8 heap spaces and /proc/<pid>/smaps_rollup, read through the
 * inspector (both processes start with --inspect), before and after a forced GC.
 *
 *   node bench/memory.js [--seconds 10] [--node-arg --max-semi-space-size=4 ...] [--env K=V ...]
 *
 * --node-arg and --env go to the edge and the agent; they let an A/B of a V8 flag or a
 * malloc setting run without rebuilding. --agent-out FILE keeps the agent's stdout (e.g.
 * with --node-arg --trace-gc).
 */

import { readFileSync } from 'node:fs';
import process from 'node:process';
import { collectAndMeasure, connectInspector, INSPECT_FLAG } from './inspector.js';
import { hasWrk, runAutocannon, runWrk } from './load.js';
import { startAgentCli, startEdge, startOrigin, tempDir } from './processes.js';
import { join } from 'node:path';

const argv = process.argv.slice(2);
/** @param {string} name */
const values = (name) =>
  argv.flatMap((a, i) => (a === name && argv[i + 1] !== undefined ? [argv[i + 1]] : []));
const seconds = Number(values('--seconds')[0] ?? 10);
const nodeArgs = [INSPECT_FLAG, ...values('--node-arg')];
const env = Object.fromEntries(values('--env').map((kv) => kv.split('=', 2)));

const MB = 1e6;
/** @param {number} n */
const mb = (n) => (n / MB).toFixed(1);

/** @param {number} pid */
function smaps(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  /** @type {Record<string, number>} */
  const out = {};
  for (const m of text.matchAll(/^(\w+):\s+(\d+) kB/gm))
    out[/** @type {string} */ (m[1])] = Number(m[2]) * 1024;
  return out;
}

const HEAP_EXPR = `JSON.stringify({
  mem: process.memoryUsage(),
  spaces: process.getBuiltinModule('v8').getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size, s.space_used_size]),
})`;

/** @param {import('./inspector.js').InspectorSession} session */
async function heap(session) {
  const r = await session.call('Runtime.evaluate', { expression: HEAP_EXPR, returnByValue: true });
  return JSON.parse(/** @type {{ value: string }} */ (r.result).value);
}

/**
 * @param {string} label
 * @param {{ pid: number }} proc
 * @param {import('./inspector.js').InspectorSession} session
 */
async function report(label, proc, session) {
  const h = await heap(session);
  const s = smaps(proc.pid);
  summary[label] = s.Rss ?? 0;
  const spaces = h.spaces
    .filter((/** @type {[string, number, number]} */ x) => x[1] > 0)
    .map(
      (/** @type {[string, number, number]} */ x) => `${x[0].replace(/_space$/, '')} ${mb(x[1])}/${mb(x[2])}`,
    )
    .join(', ');
  process.stdout.write(
    `${label.padEnd(22)} rss ${mb(s.Rss ?? 0)} (anon ${mb(s.Anonymous ?? 0)}, file ${mb((s.Rss ?? 0) - (s.Anonymous ?? 0))})` +
      ` heapTotal ${mb(h.mem.heapTotal)} used ${mb(h.mem.heapUsed)} external ${mb(h.mem.external)} arrayBuffers ${mb(h.mem.arrayBuffers)}\n` +
      `${''.padEnd(22)} spaces size/used: ${spaces}\n`,
  );
}

/** @type {Record<string, number>} RSS per report label, printed as one JSON line at the end */
const summary = {};
const origin = await startOrigin();
const edge = await startEdge({ nodeArgs, env });
const dir = tempDir();
const agent = await startAgentCli({
  edgeUrl: edge.url,
  originPort: origin.port,
  nodeArgs,
  stdoutFile: values('--agent-out')[0] ?? join(dir, 'agent.jsonl'),
});
try {
  const [es, as] = await Promise.all([connectInspector(edge.proc), connectInspector(agent.proc)]);
  const host = `${agent.name}.localhost:${edge.port}`;
  await report('edge idle', edge.proc, es);
  await report('agent idle', agent.proc, as);
  const load = { url: `${edge.url}/hello`, host, connections: 50, durationS: seconds };
  const r = await (hasWrk() ? runWrk(load) : runAutocannon(load));
  process.stdout.write(`load: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms\n`);
  summary.rps = r.rps;
  await report('edge after load', edge.proc, es);
  await report('agent after load', agent.proc, as);
  await collectAndMeasure(es);
  await collectAndMeasure(as);
  await report('edge after GC', edge.proc, es);
  await report('agent after GC', agent.proc, as);
  es.close();
  as.close();
  process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`);
} finally {
  await Promise.all([agent.proc.stop(), edge.proc.stop(), origin.proc.stop()]);
}
