/**
 * Scenario 8b alone, for working on the handshake path: new TLS connections/s through
 * Burrow's HTTPS listener and through nginx with the same certificate, alternated round by
 * round (A B, B A, …) so a change in the machine's other load hits both sides alike. Each
 * run also reports the server side's CPU per connection (the edge and the agent for
 * Burrow, nginx's worker for nginx) from /proc, which moves less with load than the rate.
 *
 *   node bench/handshakes.js [--rounds 5] [--seconds 5] [--batch 200] [--warmup 1] [--out file.json]
 *                            [--profile] [--node-arg <flag>]...
 *
 *   --profile  after the rounds, one more Burrow run with the edge's CPU profiler on (through
 *              the inspector); the .cpuprofile goes to bench/results/ and its summary is printed.
 *              V8 counts native work run from I/O callbacks (OpenSSL's handshake) as idle, so
 *              for the native side use `perf record -g -p <edge pid>` (with `--node-arg
 *              --perf-basic-prof` for JS names) while the rounds run
 *
 * Prints one line per run, then the medians and the load average. Everything it starts is
 * killed by pid when it exits.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import process from 'node:process';
import { newConnectionsPerSecond, h2loadMissing, withHost } from './h2load.js';
import { connectInspector, INSPECT_FLAG, startProfiler } from './inspector.js';
import { exitOnSignals, procStats, ROOT, startOrigin } from './processes.js';
import { formatSummary, summarizeProfile } from './profile-summary.js';
import { startReferences } from './references.js';
import { startHttpsTunnel } from './scenarios-tls.js';
import { makeBenchCertificate, opensslMissing } from './tls-cert.js';

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @param {string} name @param {number} fallback */
  const num = (name, fallback) => {
    const i = argv.indexOf(name);
    return i === -1 ? fallback : Number(argv[i + 1]);
  };
  return {
    rounds: num('--rounds', 5),
    seconds: num('--seconds', 5),
    batch: num('--batch', 200),
    warmup: num('--warmup', 1),
    out: argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined,
    profile: argv.includes('--profile'),
    nodeArgs: argv.flatMap((a, i) => (a === '--node-arg' && argv[i + 1] !== undefined ? [argv[i + 1]] : [])),
  };
}

/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * @param {'burrow' | 'nginx'} key
 * @param {{ perPid: number[], mainUs: number }} r
 */
function describeCpu(key, r) {
  if (key === 'nginx') return 'worker';
  const [edge, agent] = r.perPid;
  return `edge ${r.mainUs.toFixed(0)} main thread + ${(edge - r.mainUs).toFixed(0)} other threads, agent ${agent.toFixed(0)}`;
}

/** @param {number[]} pids */
const cpuOf = (pids) => pids.reduce((sum, pid) => sum + procStats(pid).cpuSeconds, 0);

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds of a process's main thread (its JS thread; V8's GC and compiler helpers are others). */
function mainThreadCpu(/** @type {number} */ pid) {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const missing = opensslMissing() ?? h2loadMissing();
  if (missing) throw new Error(missing);
  const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
  const tls = makeBenchCertificate();
  const origin = await startOrigin();
  const refs = await startReferences({ originPort: origin.port, log, want: ['nginx'], tls });
  const nginx = refs.started.find((r) => r.key === 'nginx' && r.tlsUrl !== undefined);
  if (!nginx) throw new Error(`nginx did not start: ${JSON.stringify({ ...refs.skipped, ...refs.failed })}`);
  const nodeArgs = [...(args.profile ? [INSPECT_FLAG] : []), ...args.nodeArgs];
  const t = await startHttpsTunnel({ originPort: origin.port, tls, nodeArgs });
  const sides = {
    burrow: {
      target: withHost(`https://127.0.0.1:${t.edge.httpsPort}/hello`, t.httpsHost),
      pids: () => [t.edge.proc.pid, t.tunnel.proc.pid],
    },
    nginx: {
      target: { url: `${nginx.tlsUrl}/hello`, connectTo: undefined },
      pids: () =>
        nginx
          .procs()
          .filter((p) => p.label === 'nginx worker')
          .map((p) => p.pid),
    },
  };
  /** @type {Record<string, { perSecond: number, cpuUs: number, perPid: number[], mainUs: number }[]>} */
  const runs = { burrow: [], nginx: [] };
  const loads = [loadavg()[0]];
  /** @param {'burrow' | 'nginx'} key @param {number} seconds */
  const measure = async (key, seconds) => {
    const side = sides[key];
    const pids = side.pids();
    const cpu0 = pids.map((pid) => cpuOf([pid]));
    const main0 = mainThreadCpu(pids[0]);
    const r = await newConnectionsPerSecond({ ...side.target, batch: args.batch, durationS: seconds });
    const perPid = pids.map((pid, i) => ((cpuOf([pid]) - cpu0[i]) / r.connections) * 1e6);
    const mainUs = ((mainThreadCpu(pids[0]) - main0) / r.connections) * 1e6;
    const cpuUs = perPid.reduce((a, b) => a + b, 0);
    if (r.errors > r.connections * 0.01) throw new Error(`${key}: ${r.errors} errors in ${r.connections}`);
    return { perSecond: r.perSecond, cpuUs, perPid, mainUs, connections: r.connections };
  };
  try {
    log(
      `edge pid ${t.edge.proc.pid} https :${t.edge.httpsPort}; nginx ${nginx.tlsUrl}; load ${loads[0].toFixed(2)}`,
    );
    if (args.warmup > 0) {
      await measure('burrow', args.warmup);
      await measure('nginx', args.warmup);
    }
    for (let i = 0; i < args.rounds; i += 1) {
      /** @type {('burrow' | 'nginx')[]} */
      const order = i % 2 === 0 ? ['burrow', 'nginx'] : ['nginx', 'burrow'];
      for (const key of order) {
        const r = await measure(key, args.seconds);
        runs[key].push(r);
        log(
          `round ${i + 1} ${key.padEnd(6)} ${r.perSecond.toFixed(0).padStart(6)}/s  ` +
            `server CPU ${r.cpuUs.toFixed(0).padStart(4)} µs/connection (${describeCpu(key, r)})  ` +
            `${r.connections} connections, load ${loadavg()[0].toFixed(2)}`,
        );
      }
      loads.push(loadavg()[0]);
    }
    const b = median(runs.burrow.map((r) => r.perSecond));
    const n = median(runs.nginx.map((r) => r.perSecond));
    const ratios = runs.burrow.map((r, i) => r.perSecond / runs.nginx[i].perSecond);
    log(
      `\nmedians of ${args.rounds}: burrow ${b.toFixed(0)}/s, nginx ${n.toFixed(0)}/s, ` +
        `ratio of medians ${(b / n).toFixed(2)}, median of per-round ratios ${median(ratios).toFixed(2)} ` +
        `(${ratios.map((x) => x.toFixed(2)).join(', ')})`,
    );
    log(
      `server CPU per connection, medians: burrow ${median(runs.burrow.map((r) => r.cpuUs)).toFixed(0)} µs ` +
        `(edge main thread ${median(runs.burrow.map((r) => r.mainUs)).toFixed(0)} µs), ` +
        `nginx ${median(runs.nginx.map((r) => r.cpuUs)).toFixed(0)} µs (worker)`,
    );
    log(`load average (1 min) over the rounds: ${loads.map((l) => l.toFixed(2)).join(', ')}`);
    if (args.out) {
      const summary = { burrow: b, nginx: n, ratioOfMedians: b / n, medianOfRatios: median(ratios) };
      writeFileSync(args.out, `${JSON.stringify({ args, loads, runs, summary }, null, 2)}\n`);
    }
    if (args.profile) {
      const session = await connectInspector(t.edge.proc);
      const stop = await startProfiler(session);
      const r = await measure('burrow', args.seconds);
      const profile = await stop();
      session.close();
      const dir = join(ROOT, 'bench/results');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-handshakes-edge.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      log(
        `\nCPU profile of the edge under 8b (${r.perSecond.toFixed(0)}/s while profiling): ${relative(ROOT, file)}`,
      );
      log(
        formatSummary(summarizeProfile(/** @type {import('./profile-summary.js').Profile} */ (profile), 25)),
      );
    }
  } finally {
    await Promise.all([t.tunnel.proc.stop(), t.edge.proc.stop(), refs.stop()]);
    await origin.proc.stop();
  }
}

exitOnSignals();
main().catch((err) => {
  process.stderr.write(`handshakes: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
