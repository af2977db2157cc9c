/**
 * `npm run bench:syscalls`: how many system calls each process in the path makes per
 * request under scenario 1's load (GET /hello, 50 connections, wrk -t1 for a fixed number
 * of seconds). Paths, all to the same origin:
 *
 * - direct: the origin alone (what one node:http server costs, for scale)
 * - two pipes: bench/pipe.js chained twice, as in bench/floor.js (the floor)
 * - nginx: one reverse-proxy hop (master and its one worker)
 * - ssh -R: the private sshd (listener and session process) and the ssh client
 * - burrow: the edge and the agent (`burrow http --log json`, stdout to a file)
 *
 * Each process under test gets its own `strace -c -f -U name,calls -p <pid>` (all its
 * threads) for the measured load only, after an untraced warm-up; strace is then stopped
 * with SIGINT, which detaches it and writes the counts. strace makes every syscall far
 * slower, so requests/s under it mean nothing, and a slower process may gather more work
 * per wake-up than it would untraced; only the counts per request are the figure.
 *
 *   node bench/syscalls.js [--quick] [--duration S] [--out file.json]
 *
 * --quick: 1 s per path, no warm-up (a smoke check). Needs strace (apt-get install -y
 * strace; scripts/setup-test-machine.sh installs it); nginx and ssh -R are skipped with
 * the reason when absent. Everything it starts is killed by pid when it exits.
 */

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { hasWrk, runAutocannon, runWrk } from './load.js';
import {
  Child,
  exitOnSignals,
  ROOT,
  sleep,
  startAgentCli,
  startEdge,
  startListening,
  startOrigin,
  tempDir,
} from './processes.js';
import { startReferences, which } from './references.js';

/**
 * @typedef {import('./references.js').Proc} Proc
 * @typedef {{ key: string, label: string, url: string, host?: string, procs: Proc[] }} Path
 * @typedef {{ label: string, pid: number, calls: Record<string, number>, total: number }} Counted
 */

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
/** @param {string} name @param {number} fallback */
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : Number(argv[i + 1]);
};
const durationS = flag('--duration', quick ? 1 : 5);
const warmupS = quick ? 0 : 2;
const outIndex = argv.indexOf('--out');
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

/**
 * Waits until every thread of `pid` shows a tracer (strace has attached to all of them).
 * @param {number} pid
 * @param {Child} strace
 */
async function attached(pid, strace) {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (!strace.alive) throw new Error(`strace -p ${pid} exited (${strace.exitCode})\n${strace.tail()}`);
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      throw new Error(`process ${pid} is gone`);
    }
    const traced = tasks.every((tid) => {
      try {
        return !/^TracerPid:\s+0$/m.test(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
      } catch {
        return true; // a thread that ended meanwhile
      }
    });
    if (tasks.length > 0 && traced) return;
    await sleep(20);
  }
  throw new Error(`strace did not attach to ${pid} within 10 s\n${strace.tail()}`);
}

/**
 * Parses `strace -c -U name,calls` output: one "name calls" line per syscall.
 * @param {string} text
 * @returns {Record<string, number>}
 */
export function parseCounts(text) {
  /** @type {Record<string, number>} */
  const calls = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_][a-z0-9_]*)\s+(\d+)\s*$/.exec(line.trim());
    if (m && m[1] !== 'total' && m[1] !== 'syscall') calls[/** @type {string} */ (m[1])] = Number(m[2]);
  }
  return calls;
}

/**
 * Loads `path` for `durationS` with strace counting each of its processes' syscalls.
 * @param {Path} path
 * @param {string} strace
 * @param {string} dir
 * @param {boolean} useWrk
 */
async function measure(path, strace, dir, useWrk) {
  const url = `${path.url}/hello`;
  /** @param {number} s */
  const load = (s) =>
    (useWrk ? runWrk : runAutocannon)({ url, host: path.host, connections: 50, durationS: s });
  if (warmupS > 0) await load(warmupS);
  const tracers = path.procs.map((p, i) => {
    const file = join(dir, `${path.key.replace(/\W/g, '_')}-${i}-${p.pid}.txt`);
    const child = new Child(
      `strace -p ${p.pid}`,
      ['-c', '-f', '-U', 'name,calls', '-S', 'calls', '-o', file, '-p', String(p.pid)],
      { command: strace },
    );
    return { proc: p, child, file };
  });
  try {
    for (const t of tracers) await attached(t.proc.pid, t.child);
    const result = await load(durationS);
    if (result.requests === 0 || result.errors > result.requests * 0.01) {
      throw new Error(`${path.label}: ${result.errors} errors in ${result.requests} requests`);
    }
    for (const t of tracers) t.child.kill('SIGINT');
    await Promise.all(tracers.map((t) => t.child.stop(10_000)));
    /** @type {Counted[]} */
    const counted = tracers.map((t) => {
      const calls = parseCounts(readFileSync(t.file, 'utf8'));
      const total = Object.values(calls).reduce((a, b) => a + b, 0);
      return { label: t.proc.label, pid: t.proc.pid, calls, total };
    });
    return { requests: result.requests, rpsUnderStrace: result.rps, tool: result.tool, counted };
  } finally {
    await Promise.all(tracers.map((t) => t.child.stop(5000)));
  }
}

/**
 * The table: per path and process, syscalls per request in total and for the syscalls
 * that are among the top 4 of any process (at most 9 columns), the rest in "other".
 * @param {{ label: string, requests: number, counted: Counted[] }[]} measured
 */
export function formatSyscalls(measured) {
  /** @type {Map<string, number>} */
  const weight = new Map();
  for (const m of measured) {
    for (const c of m.counted) {
      const top = Object.entries(c.calls)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4);
      for (const [name, n] of top) weight.set(name, (weight.get(name) ?? 0) + n / m.requests);
    }
  }
  const columns = [...weight.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 9)
    .map(([name]) => name);
  const header = ['path', 'process', 'total', ...columns, 'other'];
  /** @param {number} n */
  const f = (n) => (n === 0 ? '0' : n < 0.01 ? '<0.01' : n.toFixed(2));
  /** @type {string[][]} */
  const lines = [];
  for (const m of measured) {
    /** @param {string} process @param {Record<string, number>} calls */
    const line = (process, calls) => {
      const total = Object.values(calls).reduce((a, b) => a + b, 0);
      const shown = columns.reduce((a, name) => a + (calls[name] ?? 0), 0);
      return [
        m.label,
        process,
        f(total / m.requests),
        ...columns.map((name) => f((calls[name] ?? 0) / m.requests)),
        f((total - shown) / m.requests),
      ];
    };
    for (const c of m.counted) lines.push(line(c.label, c.calls));
    if (m.counted.length > 1) {
      /** @type {Record<string, number>} */
      const all = {};
      for (const c of m.counted) for (const [k, v] of Object.entries(c.calls)) all[k] = (all[k] ?? 0) + v;
      lines.push(line('all', all));
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  /** @param {string[]} cells */
  const fmt = (cells) =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...lines.map(fmt)].join('\n');
}

async function main() {
  exitOnSignals();
  const strace = which('strace');
  if (!strace) {
    log('bench:syscalls needs strace: apt-get install -y strace (scripts/setup-test-machine.sh installs it)');
    process.exitCode = 2;
    return;
  }
  const useWrk = hasWrk();
  log(
    `bench:syscalls${quick ? ' --quick' : ''}: GET /hello, 50 connections, ${durationS} s per path under strace -c -f ` +
      `(${useWrk ? 'wrk -t1' : 'autocannon in this process: wrk absent'}), warm-up ${warmupS} s untraced`,
  );
  const dir = tempDir('burrow-bench-syscalls-');
  const origin = await startOrigin();
  const originUrl = `http://127.0.0.1:${origin.port}`;
  /** @type {{ stop: () => Promise<unknown> }[]} */
  const stoppers = [];
  /** @type {Path[]} */
  const paths = [
    { key: 'direct', label: 'direct', url: originUrl, procs: [{ label: 'origin', pid: origin.proc.pid }] },
  ];
  /** @type {Record<string, string>} */
  const skipped = {};
  /** @type {Record<string, unknown>} */
  const results = {};
  let failed = false;
  try {
    const back = await startListening('pipe', [join(ROOT, 'bench/pipe.js'), '--target', String(origin.port)]);
    stoppers.push(back.proc);
    const front = await startListening('pipe', [join(ROOT, 'bench/pipe.js'), '--target', String(back.port)]);
    stoppers.push(front.proc);
    paths.push({
      key: 'twoPipes',
      label: 'two pipes',
      url: `http://127.0.0.1:${front.port}`,
      procs: [
        { label: 'pipe 1 (front)', pid: front.proc.pid },
        { label: 'pipe 2 (back)', pid: back.proc.pid },
      ],
    });
    const refs = await startReferences({ originPort: origin.port, log });
    stoppers.push({ stop: refs.stop });
    Object.assign(skipped, refs.skipped);
    for (const [key, message] of Object.entries(refs.failed)) {
      results[key] = { error: message };
      failed = true;
    }
    for (const r of refs.started) {
      // The idle listener processes (nginx master, sshd listener) are left out.
      const procs = r.procs().filter((p) => p.label !== 'nginx master' && p.label !== 'sshd listener');
      paths.push({ key: r.key, label: r.label, url: r.url, procs });
    }
    const edge = await startEdge();
    stoppers.push(edge.proc);
    const agent = await startAgentCli({
      edgeUrl: edge.url,
      originPort: origin.port,
      stdoutFile: join(dir, 'agent-stdout.jsonl'),
    });
    stoppers.push(agent.proc);
    paths.push({
      key: 'burrow',
      label: 'burrow',
      url: edge.url,
      host: `${agent.name}.localhost:${edge.port}`,
      procs: [
        { label: 'edge', pid: edge.proc.pid },
        { label: 'agent', pid: agent.proc.pid },
      ],
    });

    /** @type {{ label: string, requests: number, counted: Counted[] }[]} */
    const measured = [];
    for (const path of paths) {
      try {
        const m = await measure(path, strace, dir, useWrk);
        results[path.key] = { label: path.label, ...m };
        measured.push({ label: path.label, requests: m.requests, counted: m.counted });
        log(
          `${path.label}: ${m.requests} requests (${Math.round(m.rpsUnderStrace)}/s under strace), ` +
            m.counted.map((c) => `${c.label} ${(c.total / m.requests).toFixed(2)}`).join(', ') +
            ' syscalls per request',
        );
      } catch (err) {
        failed = true;
        const message = err instanceof Error ? err.message : String(err);
        results[path.key] = { error: message };
        log(`${path.label}: FAILED: ${message}`);
      }
    }
    log(`\nsyscalls per request (strace -c -f; counts, not speed):\n${formatSyscalls(measured)}`);
    for (const [key, reason] of Object.entries(skipped)) log(`${key} skipped: ${reason}`);
  } finally {
    for (const s of stoppers.reverse()) await s.stop();
    await origin.proc.stop();
  }
  const out =
    outIndex === -1
      ? join(
          ROOT,
          'bench/results',
          `syscalls-${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`,
        )
      : resolve(argv[outIndex + 1] ?? '');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ quick, durationS, warmupS, skipped, results }, null, 2)}\n`);
  log(`results: ${relative(process.cwd(), out)}`);
  if (failed) process.exitCode = 1;
}

await main();
