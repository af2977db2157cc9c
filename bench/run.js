/**
 * `npm run bench`: starts an origin, a real edge and a real agent on loopback, and the
 * references (nginx as one reverse-proxy hop, also over HTTPS, `ssh -R` through a private sshd; each
 * skipped with a printed reason when its programs are absent), runs every scenario
 * directly against the origin, through each reference and through the tunnel, prints a
 * table (each figure with its ratio to direct, Burrow's target, met) and writes the
 * figures as JSON under bench/results/.
 *
 *   node bench/run.js [--quick] [--only 1,3,6] [--out file.json] [--profile] [--no-wrk] [--agent cli|api]
 *                     [--node-arg <flag>]... [--no-refs]
 *
 *   --quick    every scenario, tiny sizes and durations (< 60 s); a smoke check of the harness
 *   --only     run only these scenario numbers (5 needs 1; 7 runs both 7a and 7b; 8 runs 8a, 8b and 8c:
 *              HTTPS keep-alive, new TLS connections, HTTP/2, on a second edge with its HTTPS listener;
 *              9: history and metrics on vs off, on two more edges of this build)
 *   --out      write the JSON here instead of bench/results/<timestamp>.json
 *   --profile  after scenario 5, CPU-profile the edge and the agent under scenario 1's load
 *              (through the inspector) and save .cpuprofile files next to the JSON
 *   --no-wrk   use autocannon and the node:http loop even when wrk is installed
 *   --agent    `cli` (default): `burrow http` with JSON output to a file; `api`: startAgent()
 *              with silent output, to measure what the per-request log line costs
 *   --node-arg a Node flag for the edge and the agent of scenarios 1–5 (repeatable), to A/B a
 *              V8 flag or an --import preload without rebuilding
 *   --no-refs  measure direct and Burrow only (no nginx, no ssh -R): a faster run when
 *              only Burrow's own figures matter
 *
 * Exits 1 if a scenario fails (errors, wrong checksums) or a reference that is installed
 * fails to start, never because a figure misses its target. Everything it starts is killed
 * by pid when it exits, also on an error or SIGINT.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { connectInspector, INSPECT_FLAG, startProfiler } from './inspector.js';
import { hasWrk, runAutocannon, runWrk } from './load.js';
import { payloadSha256 } from './payload.js';
import {
  Child,
  exitOnSignals,
  jsonLine,
  ROOT,
  startAgentCli,
  startEdge,
  startOrigin,
  tempDir,
  withTimeout,
} from './processes.js';
import { formatSummary, summarizeProfile } from './profile-summary.js';
import { startReferences } from './references.js';
import { formatTable } from './report.js';
import * as scenarios from './scenarios.js';
import * as tlsScenarios from './scenarios-tls.js';
import { observeOverhead } from './scenarios-observe.js';
import { h2loadMissing } from './h2load.js';
import { makeBenchCertificate, opensslMissing } from './tls-cert.js';
import { CURL } from './transfer.js';

const MiB = 2 ** 20;

/** @type {import('./scenarios.js').Config} */
const FULL = {
  quick: false,
  loadS: 10,
  warmupS: 2,
  seqS: 5,
  downloadBytes: 100 * MiB,
  uploadBytes: 10 * MiB,
  echoBytes: 10 * MiB,
  transferReps: 5,
  wsClients: 100,
  wsBytes: 1024,
  wsS: 10,
  scaleAgents: 1000,
  scaleLoadS: 5,
  settleMs: 3000,
  startupReps: 5,
  restartReps: 3,
  handshakeBatch: 200,
  handshakeS: 10,
  h2Requests: null,
};

/** @type {import('./scenarios.js').Config} */
const QUICK = {
  quick: true,
  loadS: 1,
  warmupS: 0, // no warm-ups: a smoke run checks the harness, not the figures
  seqS: 1,
  downloadBytes: 5 * MiB,
  uploadBytes: 5 * MiB,
  echoBytes: 5 * MiB,
  transferReps: 1,
  wsClients: 100,
  wsBytes: 1024,
  wsS: 1,
  scaleAgents: 20,
  scaleLoadS: 1,
  settleMs: 500,
  startupReps: 2,
  restartReps: 1,
  handshakeBatch: 50,
  handshakeS: 0.3,
  h2Requests: 2000,
};

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @param {string} name */
  const value = (name) => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const only = value('--only');
  const agent = value('--agent') ?? 'cli';
  if (agent !== 'cli' && agent !== 'api') throw new Error('--agent is cli or api');
  return {
    quick: argv.includes('--quick'),
    only: only ? new Set(only.split(',').map((s) => s.trim())) : null,
    out: value('--out'),
    profile: argv.includes('--profile'),
    wrk: !argv.includes('--no-wrk') && hasWrk(),
    agent,
    refs: !argv.includes('--no-refs'),
    nodeArgs: argv.flatMap((a, i) => (a === '--node-arg' && argv[i + 1] !== undefined ? [argv[i + 1]] : [])),
  };
}

/** @param {string} cmd @param {string[]} args */
function tryExec(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * The agent of scenarios 1–5: the real CLI, or (`--agent api`) one silent in-process agent.
 * @param {'cli' | 'api'} kind
 * @param {{ edgeUrl: string, originPort: number, nodeArgs: string[], dir: string }} o
 */
async function startMainAgent(kind, o) {
  if (kind === 'cli') {
    return startAgentCli({ ...o, stdoutFile: join(o.dir, 'agent-stdout.jsonl') });
  }
  const proc = new Child('agent (api)', [
    ...o.nodeArgs,
    'bench/agents.js',
    '--server',
    o.edgeUrl,
    '--origin',
    String(o.originPort),
    '--count',
    '1',
  ]);
  const ready = await proc.waitForLine(
    (line) => {
      const v = jsonLine(line);
      return v?.event === 'ready' ? /** @type {string[]} */ (v.names) : undefined;
    },
    20_000,
    'the in-process agent to bind',
  );
  return { proc, name: /** @type {string} */ (ready[0]), url: '' };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const cfg = args.quick ? QUICK : FULL;
  /** @param {string} n */
  const wanted = (n) => args.only === null || args.only.has(n);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const outFile = args.out ?? join(ROOT, 'bench/results', `${stamp}${args.quick ? '-quick' : ''}.json`);
  const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

  const meta = {
    startedAt: startedAt.toISOString(),
    quick: args.quick,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadavgAtStart: loadavg(),
    commit: tryExec('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    wrk: args.wrk ? (tryExec('wrk', ['-v'])?.split('\n')[0] ?? 'present') : null,
    curl: CURL,
    agent: args.agent,
    /** @type {Record<string, unknown>} */
    references: {},
    nodeArgs: args.nodeArgs,
    config: cfg,
  };
  log(
    `burrow bench${args.quick ? ' --quick' : ''}: node ${meta.node}, ${meta.cores} cores, wrk ${meta.wrk ?? 'absent'}, ` +
      `transfers timed with ${CURL ? 'curl -o /dev/null' : 'a node client that counts bytes (curl absent)'}`,
  );
  payloadSha256(cfg.downloadBytes);
  payloadSha256(cfg.uploadBytes);
  payloadSha256(cfg.echoBytes);

  const dir = tempDir();
  const origin = await startOrigin();
  // Scenario 8 needs a certificate (openssl) and h2load; without them it is skipped.
  const tlsSkipped = wanted('8') ? (opensslMissing() ?? h2loadMissing()) : null;
  const tls = wanted('8') && tlsSkipped === null ? makeBenchCertificate() : undefined;
  // The references share the origin; they serve scenarios 1–5, and nginx over HTTPS scenario 8.
  const refsWanted = args.refs && ['1', '2', '3', '4', '5'].some(wanted);
  /** @type {('nginx' | 'ssh')[]} */
  const want = !args.refs ? [] : refsWanted ? ['nginx', 'ssh'] : tls ? ['nginx'] : [];
  const refs = await startReferences({ originPort: origin.port, log, want, ...(tls ? { tls } : {}) });
  for (const r of refs.started) meta.references[r.key] = { url: r.url, version: r.version };
  for (const [key, reason] of Object.entries(refs.skipped)) meta.references[key] = { skipped: reason };
  for (const [key, message] of Object.entries(refs.failed)) meta.references[key] = { failed: message };
  const nodeArgs = [...(args.profile ? [INSPECT_FLAG] : []), ...args.nodeArgs];
  const edge = await startEdge({ nodeArgs });
  const tunnel = await startMainAgent(args.agent, {
    edgeUrl: edge.url,
    originPort: origin.port,
    nodeArgs,
    dir,
  });
  /** @type {import('./scenarios.js').Context} */
  const ctx = {
    cfg,
    wrk: args.wrk,
    origin: { port: origin.port, url: `http://127.0.0.1:${origin.port}` },
    edge,
    tunnel,
    host: `${tunnel.name}.localhost:${edge.port}`,
    refs: refs.started,
    log,
  };
  log(
    `origin :${origin.port}, edge :${edge.port} (pid ${edge.proc.pid}), agent pid ${tunnel.proc.pid}, tunnel ${tunnel.name}`,
  );

  /** @type {Record<string, unknown>} */
  const results = {};
  /** @type {import('./report.js').Row[]} */
  const rows = [];
  /** @type {{ scenario: string, message: string }[]} */
  const errors = [];
  /** @type {Record<string, unknown>} */
  const profiles = {};
  for (const [key, message] of Object.entries(refs.failed)) {
    errors.push({ scenario: `reference ${key}`, message });
  }

  /**
   * @param {string} id
   * @param {() => Promise<{ raw: unknown, rows: import('./report.js').Row[] }> | { raw: unknown, rows: import('./report.js').Row[] }} fn
   */
  const runScenario = async (id, fn) => {
    const t0 = performance.now();
    try {
      const r = await withTimeout(Promise.resolve(fn()), args.quick ? 45_000 : 600_000, `scenario ${id}`);
      results[id] = {
        .../** @type {object} */ (r.raw),
        rows: r.rows,
        seconds: (performance.now() - t0) / 1000,
      };
      rows.push(...r.rows);
      log(`\n${formatTable(r.rows)}`);
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      errors.push({ scenario: id, message });
      results[id] = { error: message };
      log(`\nscenario ${id} FAILED: ${message}`);
    }
  };

  try {
    if (wanted('1') || wanted('5')) {
      /** @type {import('./scenarios.js').Scenario1Stats} */
      const s1 = {
        idle: Object.fromEntries(scenarios.paths(ctx).map((p) => [p.key, scenarios.pathStats(p)])),
        requests: {},
        cpuSeconds: {},
      };
      await runScenario('smallGet50', () => scenarios.smallGet50(ctx, s1));
      if (wanted('5')) await runScenario('resources', () => scenarios.resources(ctx, s1));
      if (args.profile) profiles.scenario1 = await profileUnderLoad(ctx, outFile, log);
    }
    if (wanted('2')) await runScenario('smallGet1', () => scenarios.smallGet1(ctx));
    if (wanted('3')) await runScenario('transfers', () => scenarios.transfers(ctx));
    if (wanted('4')) await runScenario('websockets', () => scenarios.websockets(ctx));
    if (wanted('6')) await runScenario('scale', () => scenarios.scale(ctx));
    if (wanted('7')) {
      await runScenario('startup', () => scenarios.startup(ctx));
      await runScenario('restart', () => scenarios.restart(ctx));
    }
    if (wanted('8'))
      await runTlsScenarios(ctx, { tls, skipped: tlsSkipped, nodeArgs, origin, runScenario, results });
    if (wanted('9')) await runScenario('observeOverhead', () => observeOverhead(ctx));
  } finally {
    await Promise.all([tunnel.proc.stop(), ctx.edge.proc.stop(), refs.stop()]);
    await origin.proc.stop();
  }

  log(`\n${'='.repeat(30)} summary ${'='.repeat(30)}\n${formatTable(rows)}`);
  const judged = rows.filter((r) => r.met !== null);
  log(`\ntargets met: ${judged.filter((r) => r.met).length} of ${judged.length}`);
  for (const [key, reason] of Object.entries(refs.skipped)) log(`reference ${key} skipped: ${reason}`);
  for (const [id, r] of Object.entries(results)) {
    const skipped = /** @type {{ skipped?: string }} */ (r).skipped;
    if (skipped) log(`scenario ${id} skipped: ${skipped}`);
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify({ meta, results, rows, errors, profiles }, null, 2)}\n`);
  log(`results: ${relative(process.cwd(), outFile)}`);
  if (errors.length > 0) {
    log(`${errors.length} scenario(s) failed: ${errors.map((e) => e.scenario).join(', ')}`);
    process.exitCode = 1;
  }
}

/**
 * Scenario 8 (8a–8c) on a second edge with its HTTPS listener, or each part skipped with
 * the reason when openssl or h2load is absent.
 * @param {import('./scenarios.js').Context} ctx
 * @param {{ tls: { cert: string, key: string } | undefined, skipped: string | null, nodeArgs: string[],
 *   origin: { port: number }, results: Record<string, unknown>,
 *   runScenario: (id: string, fn: () => Promise<{ raw: unknown, rows: import('./report.js').Row[] }>) => Promise<void> }} o
 */
async function runTlsScenarios(ctx, o) {
  const parts = /** @type {const} */ (['httpsKeepAlive', 'tlsHandshakes', 'http2']);
  if (!o.tls) {
    for (const id of parts) o.results[id] = { skipped: o.skipped };
    ctx.log(`\nscenario 8 SKIPPED: ${o.skipped}`);
    return;
  }
  /** @type {tlsScenarios.HttpsTunnel | undefined} */
  let t;
  try {
    t = await tlsScenarios.startHttpsTunnel({ originPort: o.origin.port, tls: o.tls, nodeArgs: o.nodeArgs });
    ctx.log(
      `\nedge with HTTPS :${t.edge.httpsPort} (plain :${t.edge.port}, pid ${t.edge.proc.pid}), tunnel ${t.tunnel.name}`,
    );
    const started = t;
    for (const id of parts) await o.runScenario(id, () => tlsScenarios[id](ctx, started));
  } catch (err) {
    // The HTTPS edge or its agent did not start: each part fails with that reason.
    for (const id of parts) await o.runScenario(id, () => Promise.reject(err));
  } finally {
    await Promise.all([t?.tunnel.proc.stop(), t?.edge.proc.stop()]);
  }
}

/**
 * Profiles the edge and the agent (both started with --inspect) under scenario 1's tunnel
 * load, saves the profiles beside the JSON and prints where the time goes.
 * @param {import('./scenarios.js').Context} ctx
 * @param {string} outFile
 * @param {(line: string) => void} log
 */
async function profileUnderLoad(ctx, outFile, log) {
  const targets = { edge: ctx.edge.proc, agent: ctx.tunnel.proc };
  const sessions = await Promise.all(Object.values(targets).map((proc) => connectInspector(proc)));
  const stops = await Promise.all(sessions.map((s) => startProfiler(s)));
  const load = { url: `${ctx.edge.url}/hello`, host: ctx.host, connections: 50, durationS: ctx.cfg.loadS };
  const result = await (ctx.wrk ? runWrk(load) : runAutocannon(load));
  const profilesTaken = await Promise.all(stops.map((stop) => stop()));
  sessions.forEach((s) => s.close());
  /** @type {Record<string, unknown>} */
  const out = { load: result };
  for (const [i, name] of Object.keys(targets).entries()) {
    const file = outFile.replace(/\.json$/, `-${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profilesTaken[i]));
    const summary = summarizeProfile(
      /** @type {import('./profile-summary.js').Profile} */ (profilesTaken[i]),
    );
    out[name] = { file: relative(ROOT, file), summary };
    log(
      `\nCPU profile of the ${name} under scenario 1 load (${Math.round(result.rps)} req/s while profiling):`,
    );
    log(formatSummary(summary));
  }
  return out;
}

const watchdog = setTimeout(
  () => {
    process.stderr.write('bench: watchdog fired, the run took far too long\n');
    process.exit(1);
  },
  process.argv.includes('--quick') ? 120_000 : 30 * 60_000,
);
watchdog.unref();

exitOnSignals();
main().then(
  () => clearTimeout(watchdog),
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
