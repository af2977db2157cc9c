/**
 * Scenario 9: what recording every request costs. Scenario 1's load (small GET, 50
 * connections) through two more edges of the same build, each with its own `burrow http`
 * agent to the same origin: one with request history and metrics on (the defaults), one
 * with both off (config file `history: {enabled: false}, metrics: {enabled: false}`). Runs
 * alternate off/on so drift on a shared machine hits both. Rows: requests/s and p99 with
 * "off" in the direct column and "on" in Burrow's, so the ratio is on/off (targets ≥ 0.9
 * and ≤ 1.2×), and the history writer's dropped records scraped from the "on" edge's
 * /metrics after the runs (target 0).
 */

import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { median, runAutocannon, runWrk } from './load.js';
import { sleep, startAgentCli, startEdge, tempDir } from './processes.js';
import { row } from './report.js';

/**
 * Starts an edge with `settings` as its config file; null when this build refuses them
 * (an unknown key), so the caller can try fewer.
 * @param {string} label
 * @param {Record<string, unknown>} settings
 * @param {string[]} args
 */
async function edgeWith(label, settings, args = []) {
  const dir = tempDir('burrow-bench-observe-');
  const file = join(dir, 'edge.json');
  writeFileSync(file, JSON.stringify(settings));
  try {
    return await startEdge({ label, args: ['--config', file, ...args] });
  } catch (err) {
    if (/is not a known setting/.test(String(err))) return null;
    throw err;
  }
}

/**
 * The body of a plain GET.
 * @param {string} url
 * @returns {Promise<string>}
 */
function getText(url) {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/**
 * The history writer's dropped-record count from a /metrics exposition; null when the
 * edge exports none (a build without the history writer).
 * @param {string} text
 */
export function droppedRecords(text) {
  const line = text.split('\n').find((l) => l.startsWith('burrow_request_log_dropped_total'));
  return line === undefined ? null : Number(line.split(/\s+/)[1]);
}

/**
 * @param {import('./scenarios.js').Context} ctx
 */
export async function observeOverhead(ctx) {
  const { cfg, log } = ctx;
  /** Everything started here, stopped in the end whatever happens. */
  /** @type {import('./processes.js').Child[]} */
  const started = [];
  try {
    // The "on" edge keeps every default; metricsListen only lets the harness read the dropped counter.
    const on = await startEdge({ label: 'edge (observe on)', args: ['--metrics-listen', '127.0.0.1:0'] });
    started.push(on.proc);
    const { metricsPort } = on;
    if (metricsPort === undefined) throw new Error('the "on" edge did not report its metrics port');
    let note = '';
    let off = await edgeWith('edge (observe off)', {
      history: { enabled: false },
      metrics: { enabled: false },
    });
    if (off === null) {
      note = 'this build has no history setting: only metrics are off on the "off" edge';
      log(`scenario 9: ${note}`);
      off = await edgeWith('edge (observe off)', { metrics: { enabled: false } });
    }
    if (off === null) throw new Error('the "off" edge refused metrics.enabled');
    started.push(off.proc);
    const dir = tempDir('burrow-bench-observe-agents-');
    /** @param {'on' | 'off'} which @param {string} edgeUrl */
    const agent = async (which, edgeUrl) => {
      const a = await startAgentCli({
        edgeUrl,
        originPort: ctx.origin.port,
        label: `agent (observe ${which})`,
        stdoutFile: join(dir, `${which}.jsonl`),
      });
      started.push(a.proc);
      return a;
    };
    const agents = { on: await agent('on', on.url), off: await agent('off', off.url) };
    const edges = { on, off };
    const tool = ctx.wrk ? 'wrk' : 'autocannon';
    const run = ctx.wrk ? runWrk : runAutocannon;
    /** @type {Record<'on' | 'off', import('./load.js').LoadResult[]>} */
    const results = { on: [], off: [] };
    const rounds = cfg.quick ? 1 : 3;
    for (let i = 0; i < rounds; i++) {
      for (const which of /** @type {const} */ (['off', 'on'])) {
        const edge = edges[which];
        const host = `${agents[which].name}.localhost:${edge.port}`;
        /** @param {number} durationS */
        const load = (durationS) => run({ url: `${edge.url}/hello`, host, connections: 50, durationS });
        if (cfg.warmupS > 0) await load(cfg.warmupS);
        const r = await load(cfg.loadS);
        if (r.requests === 0 || r.errors > r.requests * 0.01)
          throw new Error(`${tool} observe ${which}: ${r.errors} errors in ${r.requests} requests`);
        results[which].push(r);
      }
    }
    // Whatever the writer still has queued is flushed within its interval; then read the count.
    await sleep(1_000);
    const dropped = droppedRecords(await getText(`http://127.0.0.1:${metricsPort}/metrics`));
    const scenario = `9. history+metrics on vs off, 50 connections (${tool}; direct column = off)`;
    const rps = (/** @type {'on' | 'off'} */ w) => median(results[w].map((r) => r.rps));
    const p99 = (/** @type {'on' | 'off'} */ w) => median(results[w].map((r) => r.p99Ms));
    const rows = [
      row({
        scenario,
        metric: 'requests/s',
        unit: '',
        direct: rps('off'),
        tunnel: rps('on'),
        target: { kind: 'ratio', op: '>=', value: 0.9 },
        ...(note ? { note } : {}),
      }),
      row({
        scenario,
        metric: 'p99',
        unit: 'ms',
        direct: p99('off'),
        tunnel: p99('on'),
        target: { kind: 'ratio', op: '<=', value: 1.2 },
      }),
      dropped === null
        ? row({
            scenario,
            metric: 'history records dropped',
            unit: '',
            tunnel: NaN,
            note: 'no history writer in this build',
          })
        : row({
            scenario,
            metric: 'history records dropped',
            unit: '',
            tunnel: dropped,
            target: { kind: 'tunnel', op: '<=', value: 0 },
          }),
    ];
    log(
      `scenario 9: history records dropped on the "on" edge: ${dropped ?? 'n/a (no history writer in this build)'}`,
    );
    return { raw: { tool, results, dropped, note }, rows };
  } finally {
    // Agents before their edges, so nothing reconnects while stopping.
    await Promise.all(started.slice(2).map((p) => p.stop()));
    await Promise.all(started.slice(0, 2).map((p) => p.stop()));
  }
}
