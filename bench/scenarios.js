/**
 * The scenarios of `npm run bench`. Each measures the same work directly against the
 * origin and through the tunnel, returns its raw figures (for the JSON) and its rows
 * (for the table), and throws only when the harness or the data is broken (a failed
 * request, a checksum mismatch), never because a figure is slow.
 *
 * @typedef {import('./report.js').Row} Row
 * @typedef {import('./load.js').LoadResult} LoadResult
 * @typedef {{ proc: import('./processes.js').Child, port: number, url: string, dataDir: string, listeningMs: number }} Edge
 * @typedef {{ proc: import('./processes.js').Child, name: string, url: string }} Tunnel
 * @typedef {{ quick: boolean, loadS: number, warmupS: number, seqS: number, downloadBytes: number,
 *   uploadBytes: number, transferReps: number, wsClients: number, wsBytes: number, wsS: number,
 *   scaleAgents: number, scaleLoadS: number, settleMs: number, startupReps: number, restartReps: number }} Config
 * @typedef {{ cfg: Config, wrk: boolean, origin: { port: number, url: string },
 *   edge: Edge, tunnel: Tunnel, host: string, log: (line: string) => void }} Context
 */

import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import { median, runAutocannon, runSequential, runWrk } from './load.js';
import { collectAndMeasure, connectInspector, INSPECT_FLAG } from './inspector.js';
import { Child, jsonLine, procStats, sleep, startAgentCli, startEdge } from './processes.js';
import { row } from './report.js';
import { download, upload } from './transfer.js';
import { websocketEcho } from './websockets.js';

/** Fails the scenario when a load run saw errors on more than 1% of requests. */
function checkErrors(/** @type {LoadResult} */ r, /** @type {string} */ what) {
  if (r.requests === 0 || r.errors > r.requests * 0.01) {
    throw new Error(`${what}: ${r.errors} errors in ${r.requests} requests (${r.tool})`);
  }
}

/**
 * Scenario 1: small GET, 50 connections. wrk when installed (the targets are judged on it,
 * since it leaves more CPU to the servers), autocannon always.
 * @param {Context} ctx
 */
export async function smallGet50(ctx) {
  const { cfg } = ctx;
  const tools = ctx.wrk ? ['wrk', 'autocannon'] : ['autocannon'];
  /** @type {Record<string, { direct: LoadResult, tunnel: LoadResult, cpuSeconds: { edge: number, agent: number } }>} */
  const raw = {};
  /** @type {Row[]} */
  const rows = [];
  for (const tool of tools) {
    const run = tool === 'wrk' ? runWrk : runAutocannon;
    /** @param {string | undefined} host @param {number} durationS */
    const load = (host, durationS) =>
      run({ url: `${host ? ctx.edge.url : ctx.origin.url}/hello`, host, connections: 50, durationS });
    await load(undefined, cfg.warmupS);
    const direct = await load(undefined, cfg.loadS);
    checkErrors(direct, `${tool} direct`);
    await load(ctx.host, cfg.warmupS);
    const before = { edge: procStats(ctx.edge.proc.pid), agent: procStats(ctx.tunnel.proc.pid) };
    const tunnel = await load(ctx.host, cfg.loadS);
    const after = { edge: procStats(ctx.edge.proc.pid), agent: procStats(ctx.tunnel.proc.pid) };
    checkErrors(tunnel, `${tool} tunnel`);
    const cpuSeconds = {
      edge: after.edge.cpuSeconds - before.edge.cpuSeconds,
      agent: after.agent.cpuSeconds - before.agent.cpuSeconds,
    };
    raw[tool] = { direct, tunnel, cpuSeconds };
    const judged = tool === tools[0];
    const scenario = `1. small GET, 50 connections, ${cfg.loadS} s (${tool})`;
    rows.push(
      row({
        scenario,
        metric: 'requests/s',
        unit: '',
        direct: direct.rps,
        tunnel: tunnel.rps,
        target: judged ? { kind: 'ratio', op: '>=', value: 0.5 } : null,
      }),
      row({ scenario, metric: 'p50', unit: 'ms', direct: direct.p50Ms, tunnel: tunnel.p50Ms }),
      row({
        scenario,
        metric: 'p99',
        unit: 'ms',
        direct: direct.p99Ms,
        tunnel: tunnel.p99Ms,
        target: judged ? { kind: 'ratio', op: '<=', value: 2.0 } : null,
      }),
    );
  }
  return { raw, rows };
}

/**
 * Scenario 2: one connection, one request at a time. wrk -c1 when installed (judged), and
 * a sequential node:http loop always (its client overhead is in both figures).
 * @param {Context} ctx
 */
export async function smallGet1(ctx) {
  const { cfg } = ctx;
  /** @type {Record<string, { direct: LoadResult, tunnel: LoadResult }>} */
  const raw = {};
  /** @type {Row[]} */
  const rows = [];
  const tools = ctx.wrk ? ['wrk', 'sequential'] : ['sequential'];
  for (const tool of tools) {
    /** @param {string | undefined} host @param {number} durationS */
    const load = (host, durationS) => {
      const url = `${host ? ctx.edge.url : ctx.origin.url}/hello`;
      return tool === 'wrk'
        ? runWrk({ url, host, connections: 1, durationS })
        : runSequential({ url, host, durationS });
    };
    await load(undefined, cfg.warmupS);
    const direct = await load(undefined, cfg.seqS);
    checkErrors(direct, `${tool} direct`);
    await load(ctx.host, cfg.warmupS);
    const tunnel = await load(ctx.host, cfg.seqS);
    checkErrors(tunnel, `${tool} tunnel`);
    raw[tool] = { direct, tunnel };
    const scenario = `2. small GET, 1 connection, ${cfg.seqS} s (${tool === 'wrk' ? 'wrk' : 'node:http loop'})`;
    rows.push(
      row({
        scenario,
        metric: 'p50',
        unit: 'ms',
        direct: direct.p50Ms,
        tunnel: tunnel.p50Ms,
        target: tool === tools[0] ? { kind: 'ratio', op: '<=', value: 3.0 } : null,
      }),
      row({ scenario, metric: 'p99', unit: 'ms', direct: direct.p99Ms, tunnel: tunnel.p99Ms }),
      row({ scenario, metric: 'requests/s', unit: '', direct: direct.rps, tunnel: tunnel.rps }),
    );
  }
  return { raw, rows };
}

/**
 * Scenario 3: bulk download and upload, `transferReps` of each, direct and tunnel
 * alternating; the median MB/s counts. A checksum mismatch fails the scenario.
 * @param {Context} ctx
 */
export async function transfers(ctx) {
  const { cfg } = ctx;
  /** @type {Row[]} */
  const rows = [];
  /** @type {Record<string, unknown>} */
  const raw = {};
  for (const [kind, fn, bytes] of /** @type {const} */ ([
    ['download', download, cfg.downloadBytes],
    ['upload', upload, cfg.uploadBytes],
  ])) {
    const timeoutMs = cfg.quick ? 20_000 : 120_000;
    /** @type {import('./transfer.js').TransferResult[]} */
    const direct = [];
    /** @type {import('./transfer.js').TransferResult[]} */
    const tunnel = [];
    for (let rep = 0; rep < cfg.transferReps; rep++) {
      direct.push(await fn({ url: ctx.origin.url, bytes, timeoutMs }));
      tunnel.push(await fn({ url: ctx.edge.url, host: ctx.host, bytes, timeoutMs }));
    }
    const bad = [...direct, ...tunnel].filter((r) => !r.ok);
    if (bad.length > 0) {
      throw new Error(
        `${kind}: ${bad.length} transfers had a wrong length or sha256 (${JSON.stringify(bad[0])})`,
      );
    }
    raw[kind] = { bytes, direct, tunnel, sha256: tunnel[0]?.sha256 };
    const mib = bytes / 2 ** 20;
    rows.push(
      row({
        scenario: `3. ${kind} of ${mib} MiB, sha256 checked, median of ${cfg.transferReps}`,
        metric: 'throughput',
        unit: 'MB/s',
        direct: median(direct.map((r) => r.mbPerS)),
        tunnel: median(tunnel.map((r) => r.mbPerS)),
        target: { kind: 'ratio', op: '>=', value: 0.5 },
      }),
    );
  }
  return { raw, rows };
}

/**
 * Scenario 4: concurrent WebSockets echoing fixed-size messages.
 * @param {Context} ctx
 */
export async function websockets(ctx) {
  const { cfg } = ctx;
  const options = { clients: cfg.wsClients, messageBytes: cfg.wsBytes, durationS: cfg.wsS };
  const direct = await websocketEcho({ url: ctx.origin.url, ...options });
  const tunnel = await websocketEcho({ url: ctx.edge.url, host: ctx.host, ...options });
  if (direct.mismatches + tunnel.mismatches > 0) {
    throw new Error(
      `websocket echo: ${direct.mismatches} direct and ${tunnel.mismatches} tunnel echoes wrong or lost`,
    );
  }
  const scenario = `4. ${cfg.wsClients} WebSockets echoing ${cfg.wsBytes} B messages, ${cfg.wsS} s`;
  return {
    raw: { direct, tunnel },
    rows: [
      row({ scenario, metric: 'messages/s', unit: '', direct: direct.msgsPerS, tunnel: tunnel.msgsPerS }),
    ],
  };
}

/**
 * Scenario 5: what the edge and the agent cost: RSS from /proc right after scenario 1 (and
 * before it, idle), CPU seconds since start, and CPU per request during the measured
 * tunnel runs of scenario 1 (warm-ups excluded).
 * @param {Context} ctx
 * @param {{ idle: { edge: ReturnType<typeof procStats>, agent: ReturnType<typeof procStats> },
 *   requests: number, cpuSeconds: { edge: number, agent: number } }} s1
 */
export function resources(ctx, s1) {
  const edge = procStats(ctx.edge.proc.pid);
  const agent = procStats(ctx.tunnel.proc.pid);
  const scenario = '5. edge and agent after scenario 1';
  const mb = (/** @type {number} */ b) => b / 1e6;
  const perRequestUs = (/** @type {number} */ s) => (s1.requests > 0 ? (s * 1e6) / s1.requests : NaN);
  return {
    raw: { edge, agent, idle: s1.idle, scenario1: { requests: s1.requests, cpuSeconds: s1.cpuSeconds } },
    rows: [
      row({
        scenario,
        metric: 'edge + agent RSS',
        unit: 'MB',
        tunnel: mb(edge.rssBytes + agent.rssBytes),
        target: { kind: 'tunnel', op: '<=', value: 120 },
      }),
      row({ scenario, metric: 'edge RSS', unit: 'MB', tunnel: mb(edge.rssBytes) }),
      row({ scenario, metric: 'agent RSS', unit: 'MB', tunnel: mb(agent.rssBytes) }),
      row({
        scenario,
        metric: 'edge RSS before scenario 1 (idle)',
        unit: 'MB',
        tunnel: mb(s1.idle.edge.rssBytes),
      }),
      row({
        scenario,
        metric: 'agent RSS before scenario 1 (idle)',
        unit: 'MB',
        tunnel: mb(s1.idle.agent.rssBytes),
      }),
      row({ scenario, metric: 'edge CPU since start', unit: 's', tunnel: edge.cpuSeconds }),
      row({ scenario, metric: 'agent CPU since start', unit: 's', tunnel: agent.cpuSeconds }),
      row({
        scenario,
        metric: 'edge CPU per tunnel request',
        unit: 'µs',
        tunnel: perRequestUs(s1.cpuSeconds.edge),
      }),
      row({
        scenario,
        metric: 'agent CPU per tunnel request',
        unit: 'µs',
        tunnel: perRequestUs(s1.cpuSeconds.agent),
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
    await load(ctx.origin.url, cfg.warmupS);
    const direct = await load(ctx.origin.url, cfg.scaleLoadS);
    checkErrors(direct, 'scale direct');
    await load(edge.url, cfg.warmupS);
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
