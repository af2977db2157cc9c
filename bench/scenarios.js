/**
 * The scenarios of `npm run bench`. Each measures the same work on every path (directly
 * against the origin, through each reference that runs: nginx, ssh -R, and through
 * Burrow's edge and agent), returns its raw figures (for the JSON) and its rows (for the
 * table), and throws only when the harness or the data is broken (a failed request, a
 * checksum mismatch), never because a figure is slow.
 *
 * @typedef {import('./report.js').Row} Row
 * @typedef {import('./load.js').LoadResult} LoadResult
 * @typedef {import('./references.js').Proc} Proc
 * @typedef {import('./references.js').Reference} Reference
 * @typedef {{ proc: import('./processes.js').Child, port: number, url: string, dataDir: string, listeningMs: number,
 *   httpsPort?: number }} Edge
 * @typedef {{ proc: import('./processes.js').Child, name: string, url: string }} Tunnel
 * @typedef {{ quick: boolean, loadS: number, warmupS: number, seqS: number, downloadBytes: number,
 *   uploadBytes: number, echoBytes: number, transferReps: number, wsClients: number, wsBytes: number,
 *   wsS: number, scaleAgents: number, scaleLoadS: number, settleMs: number, startupReps: number,
 *   restartReps: number, handshakeBatch: number, handshakeS: number, h2Requests: number | null }} Config
 *   `h2Requests`: scenario 8c sends this many requests instead of running for `loadS`
 * @typedef {{ cfg: Config, wrk: boolean, origin: { port: number, url: string },
 *   edge: Edge, tunnel: Tunnel, host: string, refs: Reference[], log: (line: string) => void }} Context
 * @typedef {{ key: string, label: string, url: string, host?: string, procs: () => Proc[],
 *   skips?: Record<string, string> }} Path
 * @typedef {{ rssBytes: Record<string, number>, cpuSeconds: Record<string, number> }} PathStats
 *   per process label (processes with the same label summed)
 * @typedef {{ idle: Record<string, PathStats>, requests: Record<string, number>,
 *   cpuSeconds: Record<string, Record<string, number>> }} Scenario1Stats per path key
 */

import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import { median, runAutocannon, runSequential, runWrk } from './load.js';
import { collectAndMeasure, connectInspector, INSPECT_FLAG } from './inspector.js';
import { Child, jsonLine, procStats, sleep, startAgentCli, startEdge } from './processes.js';
import { row } from './report.js';
import { CURL, timedTransfer, verifyTransfer } from './transfer.js';
import { websocketEcho } from './websockets.js';

/** Fails the scenario when a load run saw errors on more than 1% of requests. */
function checkErrors(/** @type {LoadResult} */ r, /** @type {string} */ what) {
  if (r.requests === 0 || r.errors > r.requests * 0.01) {
    throw new Error(`${what}: ${r.errors} errors in ${r.requests} requests (${r.tool})`);
  }
}

/**
 * Every path a scenario measures, in table order: direct, the references, Burrow.
 * @param {Context} ctx
 * @returns {Path[]}
 */
export function paths(ctx) {
  return [
    { key: 'direct', label: 'direct', url: ctx.origin.url, procs: () => [] },
    ...ctx.refs.map((r) => ({ key: r.key, label: r.label, url: r.url, procs: r.procs, skips: r.skips })),
    {
      key: 'burrow',
      label: 'burrow',
      url: ctx.edge.url,
      host: ctx.host,
      procs: () => [
        { label: 'edge', pid: ctx.edge.proc.pid },
        { label: 'agent', pid: ctx.tunnel.proc.pid },
      ],
    },
  ];
}

/** What a load run reports, by metric: its unit and how to read it from a result. */
const LOAD_METRICS = {
  'requests/s': { unit: '', of: (/** @type {LoadResult} */ r) => r.rps },
  p50: { unit: 'ms', of: (/** @type {LoadResult} */ r) => r.p50Ms },
  p99: { unit: 'ms', of: (/** @type {LoadResult} */ r) => r.p99Ms },
};

/**
 * One row per metric of a load scenario, in the order given, each with its target or null.
 * @param {Context} ctx
 * @param {string} scenario
 * @param {Record<string, LoadResult>} results
 * @param {[keyof typeof LOAD_METRICS, Row['target']][]} metrics
 * @returns {Row[]}
 */
function loadRows(ctx, scenario, results, metrics) {
  return metrics.map(([metric, target]) =>
    row({
      scenario,
      metric,
      unit: LOAD_METRICS[metric].unit,
      ...figures(ctx, each(results, LOAD_METRICS[metric].of)),
      target,
    }),
  );
}

/**
 * A row's figures from per-path values: direct, Burrow (`tunnel`) and each reference.
 * @param {Context} ctx
 * @param {Record<string, number | null | undefined>} byPath
 */
function figures(ctx, byPath) {
  return {
    direct: byPath.direct ?? null,
    tunnel: byPath.burrow ?? NaN,
    refs: Object.fromEntries(ctx.refs.map((r) => [r.key, byPath[r.key] ?? undefined])),
  };
}

/**
 * Maps each path's result through `pick`.
 * @template T
 * @param {Record<string, T>} results
 * @param {(r: T) => number} pick
 */
function each(results, pick) {
  return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, pick(v)]));
}

/**
 * RSS and CPU seconds of a path's processes, summed per process label.
 * @param {Path} path
 * @returns {PathStats}
 */
export function pathStats(path) {
  /** @type {PathStats} */
  const out = { rssBytes: {}, cpuSeconds: {} };
  for (const p of path.procs()) {
    const s = procStats(p.pid);
    out.rssBytes[p.label] = (out.rssBytes[p.label] ?? 0) + s.rssBytes;
    out.cpuSeconds[p.label] = (out.cpuSeconds[p.label] ?? 0) + s.cpuSeconds;
  }
  return out;
}

/** @param {Record<string, number>} values */
const sum = (values) => Object.values(values).reduce((a, b) => a + b, 0);

/**
 * Scenario 1: small GET, 50 connections, on every path. wrk when installed (the targets
 * are judged on it, since it leaves more CPU to the servers), autocannon always. Adds the
 * requests and the CPU time of each path's processes during the measured runs to `s1`.
 * @param {Context} ctx
 * @param {Scenario1Stats} s1
 */
export async function smallGet50(ctx, s1) {
  const { cfg } = ctx;
  const tools = ctx.wrk ? ['wrk', 'autocannon'] : ['autocannon'];
  /** @type {Record<string, { results: Record<string, LoadResult>, cpuSeconds: Record<string, Record<string, number>> }>} */
  const raw = {};
  /** @type {Row[]} */
  const rows = [];
  for (const tool of tools) {
    const run = tool === 'wrk' ? runWrk : runAutocannon;
    /** @type {Record<string, LoadResult>} */
    const results = {};
    /** @type {Record<string, Record<string, number>>} */
    const cpuSeconds = {};
    for (const path of paths(ctx)) {
      /** @param {number} durationS */
      const load = (durationS) =>
        run({ url: `${path.url}/hello`, host: path.host, connections: 50, durationS });
      if (cfg.warmupS > 0) await load(cfg.warmupS);
      const before = pathStats(path);
      const r = await load(cfg.loadS);
      const after = pathStats(path);
      checkErrors(r, `${tool} ${path.label}`);
      results[path.key] = r;
      cpuSeconds[path.key] = Object.fromEntries(
        Object.entries(after.cpuSeconds).map(([label, s]) => [label, s - (before.cpuSeconds[label] ?? 0)]),
      );
      s1.requests[path.key] = (s1.requests[path.key] ?? 0) + r.requests;
      const acc = (s1.cpuSeconds[path.key] ??= {});
      for (const [label, s] of Object.entries(cpuSeconds[path.key])) acc[label] = (acc[label] ?? 0) + s;
    }
    raw[tool] = { results, cpuSeconds };
    const judged = tool === tools[0];
    const scenario = `1. small GET, 50 connections, ${cfg.loadS} s (${tool})`;
    rows.push(
      ...loadRows(ctx, scenario, results, [
        ['requests/s', judged ? { kind: 'ratio', op: '>=', value: 0.5 } : null],
        ['p50', null],
        ['p99', judged ? { kind: 'ratio', op: '<=', value: 2.0 } : null],
      ]),
    );
  }
  return { raw, rows };
}

/**
 * Scenario 2: one connection, one request at a time, on every path. wrk -c1 when installed
 * (judged), and a sequential node:http loop always (its client overhead is in every figure).
 * @param {Context} ctx
 */
export async function smallGet1(ctx) {
  const { cfg } = ctx;
  /** @type {Record<string, Record<string, LoadResult>>} */
  const raw = {};
  /** @type {Row[]} */
  const rows = [];
  const tools = ctx.wrk ? ['wrk', 'sequential'] : ['sequential'];
  for (const tool of tools) {
    /** @type {Record<string, LoadResult>} */
    const results = {};
    for (const path of paths(ctx)) {
      /** @param {number} durationS */
      const load = (durationS) => {
        const url = `${path.url}/hello`;
        return tool === 'wrk'
          ? runWrk({ url, host: path.host, connections: 1, durationS })
          : runSequential({ url, host: path.host, durationS });
      };
      if (cfg.warmupS > 0) await load(cfg.warmupS);
      const r = await load(cfg.seqS);
      checkErrors(r, `${tool} ${path.label}`);
      results[path.key] = r;
    }
    raw[tool] = results;
    const scenario = `2. small GET, 1 connection, ${cfg.seqS} s (${tool === 'wrk' ? 'wrk' : 'node:http loop'})`;
    rows.push(
      ...loadRows(ctx, scenario, results, [
        ['p50', tool === tools[0] ? { kind: 'ratio', op: '<=', value: 3.0 } : null],
        ['p99', null],
        ['requests/s', null],
      ]),
    );
  }
  return { raw, rows };
}

/**
 * Scenario 3: bulk download, upload and full-duplex echo on every path. First an untimed
 * pass per path that hashes every byte (a wrong length or sha256 fails the scenario), then
 * `transferReps` timed transfers per path, paths alternating, with a client that only
 * counts bytes (curl to /dev/null when installed); the median MB/s counts.
 * @param {Context} ctx
 */
export async function transfers(ctx) {
  const { cfg } = ctx;
  /** @type {Row[]} */
  const rows = [];
  /** @type {Record<string, unknown>} */
  const raw = {};
  const client = CURL ? 'curl -o /dev/null' : 'node client counting bytes';
  for (const [kind, bytes, what] of /** @type {const} */ ([
    ['download', cfg.downloadBytes, 'download'],
    ['upload', cfg.uploadBytes, 'upload'],
    ['echo', cfg.echoBytes, 'full-duplex echo (upload streamed back)'],
  ])) {
    const timeoutMs = cfg.quick ? 20_000 : 120_000;
    /** @type {Record<string, string>} */
    const skipped = {};
    const measured = paths(ctx).filter((path) => {
      const reason = path.skips?.[kind];
      if (reason) {
        skipped[path.key] = reason;
        ctx.log(`  ${kind} via ${path.label}: skipped, ${reason}`);
      }
      return !reason;
    });
    /** @type {Record<string, import('./transfer.js').VerifyResult>} */
    const verified = {};
    for (const path of measured) {
      const v = await verifyTransfer({ kind, url: path.url, host: path.host, bytes, timeoutMs });
      if (!v.ok) {
        throw new Error(`${kind} via ${path.label}: wrong length or sha256 (${JSON.stringify(v)})`);
      }
      verified[path.key] = v;
    }
    /** @type {Record<string, import('./transfer.js').TimedResult[]>} */
    const timed = {};
    for (let rep = 0; rep < cfg.transferReps; rep++) {
      for (const path of measured) {
        const r = await timedTransfer({ kind, url: path.url, host: path.host, bytes, timeoutMs });
        (timed[path.key] ??= []).push(r);
      }
    }
    raw[kind] = { bytes, client, verified, timed, skipped };
    const mib = bytes / 2 ** 20;
    rows.push(
      row({
        scenario: `3. ${what} of ${mib} MiB, ${client}, median of ${cfg.transferReps} (sha256 checked in a separate pass)`,
        metric: 'throughput',
        unit: 'MB/s',
        ...figures(
          ctx,
          each(timed, (rs) => median(rs.map((r) => r.mbPerS))),
        ),
        target: kind === 'echo' ? null : { kind: 'ratio', op: '>=', value: 0.5 },
      }),
    );
  }
  return { raw, rows };
}

/**
 * Scenario 4: concurrent WebSockets echoing fixed-size messages, on every path.
 * @param {Context} ctx
 */
export async function websockets(ctx) {
  const { cfg } = ctx;
  const options = { clients: cfg.wsClients, messageBytes: cfg.wsBytes, durationS: cfg.wsS };
  /** @type {Record<string, import('./websockets.js').EchoResult>} */
  const results = {};
  for (const path of paths(ctx)) {
    const r = await websocketEcho({ url: path.url, host: path.host, ...options });
    if (r.mismatches > 0)
      throw new Error(`websocket echo via ${path.label}: ${r.mismatches} echoes wrong or lost`);
    results[path.key] = r;
  }
  const scenario = `4. ${cfg.wsClients} WebSockets echoing ${cfg.wsBytes} B messages, ${cfg.wsS} s`;
  return {
    raw: results,
    rows: [
      row({
        scenario,
        metric: 'messages/s',
        unit: '',
        ...figures(
          ctx,
          each(results, (r) => r.msgsPerS),
        ),
      }),
    ],
  };
}

/**
 * Scenario 5: what each path's processes cost (Burrow: the edge and the agent; nginx: its
 * master and worker; ssh -R: the sshd listener, its session process and the ssh client):
 * RSS from /proc right after scenario 1 and before it (idle), and CPU per request during
 * the measured runs of scenario 1 (warm-ups excluded).
 * @param {Context} ctx
 * @param {Scenario1Stats} s1
 */
export function resources(ctx, s1) {
  const measured = paths(ctx).filter((p) => p.key !== 'direct');
  const now = Object.fromEntries(measured.map((p) => [p.key, pathStats(p)]));
  const burrow = /** @type {PathStats} */ (now.burrow);
  const idleBurrow = /** @type {PathStats} */ (s1.idle.burrow);
  const scenario = '5. processes of each path after scenario 1 (burrow: edge + agent)';
  const mb = (/** @type {number} */ b) => b / 1e6;
  /** @param {string} key @param {number} s */
  const perRequestUs = (key, s) => {
    const n = s1.requests[key] ?? 0;
    return n > 0 ? (s * 1e6) / n : NaN;
  };
  /** @param {(key: string) => number} f */
  const byKey = (f) => Object.fromEntries(measured.map((p) => [p.key, f(p.key)]));
  const rss = byKey((k) => mb(sum(now[k]?.rssBytes ?? {})));
  const idle = byKey((k) => mb(sum(s1.idle[k]?.rssBytes ?? {})));
  const cpu = byKey((k) => perRequestUs(k, sum(s1.cpuSeconds[k] ?? {})));
  const burrowCpu = s1.cpuSeconds.burrow ?? {};
  return {
    raw: { now, idle: s1.idle, scenario1: { requests: s1.requests, cpuSeconds: s1.cpuSeconds } },
    rows: [
      row({
        scenario,
        metric: 'RSS, all its processes',
        unit: 'MB',
        ...figures(ctx, rss),
        target: { kind: 'tunnel', op: '<=', value: 120 },
      }),
      row({ scenario, metric: 'RSS before scenario 1 (idle)', unit: 'MB', ...figures(ctx, idle) }),
      row({ scenario, metric: 'CPU per request, all its processes', unit: 'µs', ...figures(ctx, cpu) }),
      row({ scenario, metric: 'edge RSS', unit: 'MB', tunnel: mb(burrow.rssBytes.edge ?? NaN) }),
      row({ scenario, metric: 'agent RSS', unit: 'MB', tunnel: mb(burrow.rssBytes.agent ?? NaN) }),
      row({ scenario, metric: 'edge RSS, idle', unit: 'MB', tunnel: mb(idleBurrow.rssBytes.edge ?? NaN) }),
      row({ scenario, metric: 'agent RSS, idle', unit: 'MB', tunnel: mb(idleBurrow.rssBytes.agent ?? NaN) }),
      row({ scenario, metric: 'edge CPU since start', unit: 's', tunnel: burrow.cpuSeconds.edge ?? NaN }),
      row({ scenario, metric: 'agent CPU since start', unit: 's', tunnel: burrow.cpuSeconds.agent ?? NaN }),
      row({
        scenario,
        metric: 'edge CPU per request',
        unit: 'µs',
        tunnel: perRequestUs('burrow', burrowCpu.edge ?? NaN),
      }),
      row({
        scenario,
        metric: 'agent CPU per request',
        unit: 'µs',
        tunnel: perRequestUs('burrow', burrowCpu.agent ?? NaN),
      }),
    ],
  };
}

/**
 * Scenario 6: many idle agent sessions on a fresh edge (so the baseline is clean), then
 * load spread over all their tunnels. The edge runs with --inspect so that the harness can
 * force a GC before each memory reading; RSS is also read before that GC.
 * @param {Context} ctx
 */
export async function scale(ctx) {
  const { cfg } = ctx;
  const n = cfg.scaleAgents;
  const edge = await startEdge({ nodeArgs: [INSPECT_FLAG], label: 'scale edge' });
  /** @type {Child | undefined} */
  let agents;
  try {
    const inspector = await connectInspector(edge.proc);
    await sleep(cfg.settleMs);
    const settled0 = procStats(edge.proc.pid).rssBytes;
    const gc0 = await collectAndMeasure(inspector);
    const rss0 = procStats(edge.proc.pid).rssBytes;

    agents = new Child('agents', [
      'bench/agents.js',
      '--server',
      edge.url,
      '--origin',
      String(ctx.origin.port),
      '--count',
      String(n),
    ]);
    const ready = await agents.waitForLine(
      (line) => {
        const v = jsonLine(line);
        return v?.event === 'ready' || v?.event === 'error'
          ? /** @type {{ event: string, message?: string, names: string[], ms: number }} */ (v)
          : undefined;
      },
      cfg.quick ? 30_000 : 180_000,
      `${n} agents to bind`,
    );
    if (ready.event === 'error') throw new Error(`agents: ${String(ready.message)}`);
    ctx.log(`  ${n} agent sessions bound in ${ready.ms} ms`);

    await sleep(cfg.settleMs);
    const settled1 = procStats(edge.proc.pid).rssBytes;
    const gc1 = await collectAndMeasure(inspector);
    const rss1 = procStats(edge.proc.pid).rssBytes;
    inspector.close();

    const hosts = ready.names.map((name) => `${name}.localhost:${edge.port}`);
    const tool = ctx.wrk ? runWrk : runAutocannon;
    /** @param {string} url @param {number} durationS */
    const load = (url, durationS) => tool({ url: `${url}/hello`, hosts, connections: 50, durationS });
    if (cfg.warmupS > 0) await load(ctx.origin.url, cfg.warmupS);
    const direct = await load(ctx.origin.url, cfg.scaleLoadS);
    checkErrors(direct, 'scale direct');
    if (cfg.warmupS > 0) await load(edge.url, cfg.warmupS);
    const tunnel = await load(edge.url, cfg.scaleLoadS);
    checkErrors(tunnel, 'scale tunnel');
    const afterLoad = procStats(edge.proc.pid).rssBytes;

    const kb = (/** @type {number} */ b) => b / 1e3 / n;
    const scenario = `6. ${n} agent sessions, one tunnel each, on one edge (${direct.tool}, 50 connections)`;
    return {
      raw: {
        sessions: n,
        bindMs: ready.ms,
        rss: { settled0, settled1, afterGc0: rss0, afterGc1: rss1, afterLoad },
        heap: { before: gc0, after: gc1 },
        direct,
        tunnel,
      },
      rows: [
        row({
          scenario,
          metric: 'edge RSS per idle session, settled',
          unit: 'KB',
          tunnel: kb(settled1 - settled0),
          target: { kind: 'tunnel', op: '<=', value: 30 },
        }),
        row({
          scenario,
          metric: 'edge RSS per idle session, after forced GC',
          unit: 'KB',
          tunnel: kb(rss1 - rss0),
          target: { kind: 'tunnel', op: '<=', value: 30 },
        }),
        row({
          scenario,
          metric: 'edge JS heap per idle session, after GC',
          unit: 'KB',
          tunnel: kb(gc1.heapUsed - gc0.heapUsed),
        }),
        row({ scenario, metric: `edge RSS with ${n} sessions`, unit: 'MB', tunnel: rss1 / 1e6 }),
        row({
          scenario,
          metric: 'p99, requests spread over all tunnels',
          unit: 'ms',
          direct: direct.p99Ms,
          tunnel: tunnel.p99Ms,
        }),
        row({ scenario, metric: 'requests/s, spread', unit: '', direct: direct.rps, tunnel: tunnel.rps }),
        row({ scenario, metric: `time to bind ${n} sessions`, unit: 'ms', tunnel: ready.ms }),
      ],
    };
  } finally {
    await agents?.stop();
    await edge.proc.stop();
  }
}

/**
 * One GET /hello; resolves with the status, 0 on a connection error.
 * @param {string} url
 * @param {string} host
 * @param {number} timeoutMs
 * @returns {Promise<number>}
 */
function getHello(url, host, timeoutMs) {
  const u = new URL('/hello', url);
  return new Promise((resolveGet) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, headers: { host }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolveGet(res.statusCode ?? 0));
        res.on('error', () => resolveGet(0));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => resolveGet(0));
    req.end();
  });
}

/**
 * Scenario 7a: from spawning `burrow http` to the first request served through it.
 * @param {Context} ctx
 */
export async function startup(ctx) {
  const { cfg } = ctx;
  /** @type {{ boundMs: number, servedMs: number }[]} */
  const reps = [];
  for (let i = 0; i < cfg.startupReps; i++) {
    const agent = await startAgentCli({
      edgeUrl: ctx.edge.url,
      originPort: ctx.origin.port,
      label: 'startup agent',
    });
    try {
      const status = await getHello(ctx.edge.url, `${agent.name}.localhost:${ctx.edge.port}`, 5000);
      const servedMs = performance.now() - agent.proc.startedAt;
      if (status !== 200) throw new Error(`first request through a new agent got status ${status}`);
      reps.push({ boundMs: agent.boundMs, servedMs });
    } finally {
      await agent.proc.stop();
    }
  }
  const scenario = `7a. burrow http start to first request served, median of ${cfg.startupReps}`;
  return {
    raw: { reps },
    rows: [
      row({
        scenario,
        metric: 'start → first request served',
        unit: 'ms',
        tunnel: median(reps.map((r) => r.servedMs)),
        target: { kind: 'tunnel', op: '<=', value: 300 },
      }),
      row({
        scenario,
        metric: 'start → tunnel URL printed',
        unit: 'ms',
        tunnel: median(reps.map((r) => r.boundMs)),
      }),
    ],
  };
}

/**
 * Scenario 7b: SIGTERM the edge, start it again on the same port and data directory, and
 * poll a tunnel of a fresh agent until a request is served. Replaces `ctx.edge`.
 * @param {Context} ctx
 */
export async function restart(ctx) {
  const { cfg } = ctx;
  /** @type {Record<string, number | boolean>[]} */
  const reps = [];
  for (let i = 0; i < cfg.restartReps; i++) {
    const agent = await startAgentCli({
      edgeUrl: ctx.edge.url,
      originPort: ctx.origin.port,
      label: 'restart agent',
    });
    try {
      const host = () => `${agent.name}.localhost:${ctx.edge.port}`;
      if ((await getHello(ctx.edge.url, host(), 5000)) !== 200)
        throw new Error('tunnel did not work before restart');
      const stopAt = performance.now();
      await ctx.edge.proc.stop(15_000);
      const stoppedMs = performance.now() - stopAt;
      const startAt = performance.now();
      const edgeReady = startEdge({ port: ctx.edge.port, dataDir: ctx.edge.dataDir });
      const deadline = startAt + 20_000;
      let servedAt = NaN;
      let attempts = 0;
      let name = agent.name;
      while (performance.now() < deadline) {
        attempts += 1;
        // The agent prints a new tunnel line if the edge gave it another name.
        const latest = agent.proc.lines.map(jsonLine).findLast((v) => v?.event === 'tunnel');
        if (typeof latest?.name === 'string') name = latest.name;
        const status = await getHello(ctx.edge.url, `${name}.localhost:${ctx.edge.port}`, 3000);
        if (status === 200) {
          servedAt = performance.now();
          break;
        }
        await sleep(10);
      }
      ctx.edge = await edgeReady;
      if (Number.isNaN(servedAt)) throw new Error('no request was served within 20 s of the edge restart');
      reps.push({
        stopMs: stoppedMs,
        edgeListeningMs: ctx.edge.listeningMs,
        servedMs: servedAt - startAt,
        outageMs: servedAt - stopAt,
        attempts,
        sameName: name === agent.name,
      });
    } finally {
      await agent.proc.stop();
    }
  }
  const scenario = `7b. edge restart (SIGTERM, start again) to first request served, median of ${cfg.restartReps}`;
  const med = (/** @type {string} */ k) => median(reps.map((r) => Number(r[k])));
  return {
    raw: { reps },
    rows: [
      row({
        scenario,
        metric: 'edge start → first request served',
        unit: 'ms',
        tunnel: med('servedMs'),
        target: { kind: 'tunnel', op: '<=', value: 2000 },
      }),
      row({ scenario, metric: 'edge start → listening', unit: 'ms', tunnel: med('edgeListeningMs') }),
      row({ scenario, metric: 'graceful stop took', unit: 'ms', tunnel: med('stopMs') }),
      row({ scenario, metric: 'SIGTERM → first request served', unit: 'ms', tunnel: med('outageMs') }),
    ],
  };
}
