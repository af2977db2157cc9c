/**
 * Scenario 8 of `npm run bench` (issue 11, "Speed"): HTTPS at the edge. A second edge with
 * the HTTPS listener (`--https-listen`, the bench certificate, no redirect so its plain
 * listener serves the same tunnel) and its own agent; nginx serves the same certificate as
 * the one-hop reference. Three parts, each a result of its own:
 *
 * - httpsKeepAlive: requests/s over HTTPS against plain HTTP, 50 keep-alive connections
 *   (wrk, which Debian builds with OpenSSL; h2load --h1 without it). Target ≥ 0.8×.
 * - tlsHandshakes: new TLS connections/s, each one full handshake and one GET, Burrow's
 *   HTTPS listener against nginx terminating TLS. Target ≥ 0.7× nginx.
 * - http2: 100 concurrent streams on one HTTP/2 connection next to HTTP/1.1 over 50
 *   connections, requests/s and p99 from h2load's per-request log.
 *
 * The figures are Burrow's (`tunnel`) and nginx's (`refs.nginx`); there is no direct
 * column, the origin does not speak TLS.
 *
 * @typedef {import('./scenarios.js').Context} Context
 * @typedef {import('./report.js').Row} Row
 * @typedef {import('./load.js').LoadResult} LoadResult
 * @typedef {{ edge: import('./scenarios.js').Edge & { httpsPort: number }, tunnel: import('./scenarios.js').Tunnel,
 *   plainHost: string, httpsHost: string }} HttpsTunnel
 */

import { newConnectionsPerSecond, runH2load, withHost } from './h2load.js';
import { runWrk } from './load.js';
import { startAgentCli, startEdge } from './processes.js';
import { row } from './report.js';

/**
 * The edge with its HTTPS listener and an agent for the origin.
 * @param {{ originPort: number, tls: { cert: string, key: string }, nodeArgs: string[] }} o
 * @returns {Promise<HttpsTunnel>}
 */
export async function startHttpsTunnel(o) {
  const edge = await startEdge({
    label: 'edge (https)',
    nodeArgs: o.nodeArgs,
    args: [
      '--https-listen',
      '127.0.0.1:0',
      '--tls-cert',
      o.tls.cert,
      '--tls-key',
      o.tls.key,
      '--https-redirect',
      'off',
    ],
  });
  if (edge.httpsPort === undefined) {
    await edge.proc.stop();
    throw new Error('the edge printed no httpsPort in its listening line');
  }
  try {
    const tunnel = await startAgentCli({
      edgeUrl: edge.url,
      originPort: o.originPort,
      nodeArgs: o.nodeArgs,
      label: 'agent (https)',
    });
    return {
      edge: { ...edge, httpsPort: edge.httpsPort },
      tunnel,
      plainHost: `${tunnel.name}.localhost:${edge.port}`,
      httpsHost: `${tunnel.name}.localhost:${edge.httpsPort}`,
    };
  } catch (err) {
    await edge.proc.stop();
    throw err;
  }
}

/** @param {{ requests: number, errors: number, tool?: string }} r @param {string} what */
function checkErrors(r, what) {
  if (r.requests === 0 || r.errors > r.requests * 0.01) {
    throw new Error(`${what}: ${r.errors} errors in ${r.requests} requests`);
  }
}

/** @param {Context} ctx */
const nginxTls = (ctx) => ctx.refs.find((r) => r.key === 'nginx' && r.tlsUrl !== undefined);

/**
 * @param {Context} ctx
 * @param {HttpsTunnel} t
 */
export async function httpsKeepAlive(ctx, t) {
  const { cfg } = ctx;
  const nginx = nginxTls(ctx);
  const https = `https://127.0.0.1:${t.edge.httpsPort}/hello`;
  /** @type {{ key: string, url: string, host?: string }[]} */
  const runs = [
    { key: 'burrow plain', url: `${t.edge.url}/hello`, host: t.plainHost },
    { key: 'burrow https', url: https, host: t.httpsHost },
    ...(nginx
      ? [
          { key: 'nginx plain', url: `${nginx.url}/hello` },
          { key: 'nginx https', url: `${nginx.tlsUrl}/hello` },
        ]
      : []),
  ];
  /** @param {{ url: string, host?: string }} r @param {number} durationS */
  const load = (r, durationS) =>
    ctx.wrk
      ? runWrk({ ...r, connections: 50, durationS })
      : runH2load({
          ...(r.host ? withHost(r.url, r.host) : { url: r.url }),
          h1: true,
          clients: 50,
          durationS,
        });
  /** @type {Record<string, LoadResult>} */
  const results = {};
  for (const r of runs) {
    if (cfg.warmupS > 0) await load(r, cfg.warmupS);
    results[r.key] = await load(r, cfg.loadS);
    checkErrors(results[r.key], `${r.key} keep-alive`);
  }
  const tool = ctx.wrk ? 'wrk' : 'h2load --h1';
  const scenario = `8a. HTTPS keep-alive, 50 connections, ${cfg.loadS} s (${tool})`;
  /** @param {string} side @param {(r: LoadResult) => number} pick */
  const fig = (side, pick) => {
    const b = results[`burrow ${side}`];
    const n = results[`nginx ${side}`];
    return { tunnel: b ? pick(b) : NaN, refs: { nginx: n ? pick(n) : undefined } };
  };
  /** @param {string} who */
  const ratio = (who) => {
    const s = results[`${who} https`];
    const p = results[`${who} plain`];
    return s && p ? s.rps / p.rps : undefined;
  };
  const rows = [
    row({ scenario, metric: 'requests/s, plain HTTP', unit: '', ...fig('plain', (r) => r.rps) }),
    row({ scenario, metric: 'requests/s, HTTPS', unit: '', ...fig('https', (r) => r.rps) }),
    row({
      scenario,
      metric: 'HTTPS ÷ plain HTTP, requests/s',
      unit: '',
      tunnel: ratio('burrow') ?? NaN,
      refs: { nginx: ratio('nginx') },
      target: { kind: 'tunnel', op: '>=', value: 0.8 },
    }),
    row({ scenario, metric: 'p99, plain HTTP', unit: 'ms', ...fig('plain', (r) => r.p99Ms) }),
    row({ scenario, metric: 'p99, HTTPS', unit: 'ms', ...fig('https', (r) => r.p99Ms) }),
  ];
  return { raw: { tool, results }, rows };
}

/**
 * @param {Context} ctx
 * @param {HttpsTunnel} t
 */
export async function tlsHandshakes(ctx, t) {
  const { cfg } = ctx;
  const nginx = nginxTls(ctx);
  const runs = [
    { key: 'burrow', ...withHost(`https://127.0.0.1:${t.edge.httpsPort}/hello`, t.httpsHost) },
    ...(nginx ? [{ key: 'nginx', url: `${nginx.tlsUrl}/hello`, connectTo: undefined }] : []),
  ];
  /** @type {Record<string, Awaited<ReturnType<typeof newConnectionsPerSecond>>>} */
  const results = {};
  for (const r of runs) {
    const o = { url: r.url, connectTo: r.connectTo, batch: cfg.handshakeBatch };
    if (cfg.warmupS > 0) await newConnectionsPerSecond({ ...o, durationS: cfg.warmupS });
    results[r.key] = await newConnectionsPerSecond({ ...o, durationS: cfg.handshakeS });
    checkErrors(
      { requests: results[r.key].connections, errors: results[r.key].errors },
      `${r.key} handshakes`,
    );
  }
  const scenario = `8b. new TLS connections, one GET each, ${cfg.handshakeS} s (h2load --h1, batches of ${cfg.handshakeBatch})`;
  const b = results.burrow;
  const n = results.nginx;
  const rows = [
    row({
      scenario,
      metric: 'new TLS connections/s',
      unit: '',
      tunnel: b.perSecond,
      refs: { nginx: n?.perSecond },
    }),
    ...(n
      ? [
          row({
            scenario,
            metric: 'Burrow ÷ nginx, new TLS connections/s',
            unit: '',
            tunnel: b.perSecond / n.perSecond,
            target: { kind: 'tunnel', op: '>=', value: 0.7 },
          }),
        ]
      : []),
    row({
      scenario,
      metric: 'h2load CPU, share of its time',
      unit: '%',
      tunnel: b.clientCpuShare * 100,
      refs: { nginx: n ? n.clientCpuShare * 100 : undefined },
    }),
  ];
  return { raw: results, rows };
}

/**
 * @param {Context} ctx
 * @param {HttpsTunnel} t
 */
export async function http2(ctx, t) {
  const { cfg } = ctx;
  const nginx = nginxTls(ctx);
  const targets = [
    { key: 'burrow', ...withHost(`https://127.0.0.1:${t.edge.httpsPort}/hello`, t.httpsHost) },
    ...(nginx ? [{ key: 'nginx', url: `${nginx.tlsUrl}/hello`, connectTo: undefined }] : []),
  ];
  const shapes = [
    { key: 'h2', h1: false, clients: 1, streams: 100 },
    { key: 'h1', h1: true, clients: 50, streams: 1 },
  ];
  /** @type {Record<string, Record<string, import('./h2load.js').H2loadResult>>} */
  const results = { h2: {}, h1: {} };
  for (const shape of shapes) {
    for (const target of targets) {
      /** @param {number} durationS */
      const load = (durationS) =>
        runH2load({
          url: target.url,
          connectTo: target.connectTo,
          h1: shape.h1,
          clients: shape.clients,
          streams: shape.streams,
          ...(cfg.h2Requests ? { requests: cfg.h2Requests } : { durationS }),
        });
      if (cfg.warmupS > 0) await load(cfg.warmupS);
      const r = await load(cfg.loadS);
      checkErrors(r, `${shape.key} ${target.key}`);
      results[shape.key][target.key] = r;
    }
  }
  const size = cfg.h2Requests ? `${cfg.h2Requests} requests` : `${cfg.loadS} s`;
  const scenario = `8c. HTTP/2 and HTTP/1.1 over HTTPS, ${size} (h2load; p99 from its per-request log)`;
  /** @param {string} shape @param {(r: import('./h2load.js').H2loadResult) => number} pick */
  const fig = (shape, pick) => {
    const b = results[shape].burrow;
    const n = results[shape].nginx;
    return { tunnel: b ? pick(b) : NaN, refs: { nginx: n ? pick(n) : undefined } };
  };
  const rows = [
    row({
      scenario,
      metric: 'HTTP/2, 100 streams on 1 connection: requests/s',
      unit: '',
      ...fig('h2', (r) => r.rps),
    }),
    row({ scenario, metric: 'HTTP/2: p99', unit: 'ms', ...fig('h2', (r) => r.p99Ms) }),
    row({ scenario, metric: 'HTTP/1.1, 50 connections: requests/s', unit: '', ...fig('h1', (r) => r.rps) }),
    row({ scenario, metric: 'HTTP/1.1: p99', unit: 'ms', ...fig('h1', (r) => r.p99Ms) }),
  ];
  return { raw: results, rows };
}
