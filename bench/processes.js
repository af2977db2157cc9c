/**
 * The processes a benchmark run starts (origin, edge, agents, the nginx and sshd
 * references, strace) and what /proc says about them. Every child is tracked by pid, and
 * so is every process it forks that the harness looks at (nginx workers, sshd's
 * per-connection processes); all are killed by pid when the harness exits, however it
 * exits (an error, SIGINT, SIGTERM). Nothing is ever killed by name.
 */

import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';

export const ROOT = resolve(import.meta.dirname, '..');
export const EDGE_CLI = join(ROOT, 'packages/edge/dist/burrow-edge.mjs');
export const AGENT_CLI = join(ROOT, 'packages/agent/dist/burrow.mjs');
export const AGENT_API = join(ROOT, 'packages/agent/dist/index.js');
const BENCH = import.meta.dirname;

/** @type {Set<Child>} */
const running = new Set();
/** @type {string[]} */
const tempDirs = [];
/**
 * Processes forked by our children (nginx workers, sshd's per-connection processes), by
 * pid with their start time, so that a pid reused by someone else is never signalled.
 * @type {Map<number, string>}
 */
const forked = new Map();

/**
 * A process's start time (field 22 of /proc/<pid>/stat), or undefined once it is gone.
 * @param {number} pid
 */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Every live descendant of `pid` (children, grandchildren...), from /proc; tracked so that
 * they are killed with the harness even if their parent is gone by then.
 * @param {number} pid
 * @returns {number[]}
 */
export function descendants(pid) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  /** @type {number[]} */
  const out = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 10_000) {
    for (const child of children.get(/** @type {number} */ (queue.shift())) ?? []) {
      out.push(child);
      queue.push(child);
      const started = startTime(child);
      if (started !== undefined && !forked.has(child)) forked.set(child, started);
    }
  }
  return out;
}

/**
 * Signals a tracked forked process by pid if it is still the same process.
 * @param {number} pid
 * @param {NodeJS.Signals} signal
 */
function signalForked(pid, signal) {
  const started = forked.get(pid);
  if (started === undefined || startTime(pid) !== started) {
    forked.delete(pid);
    return;
  }
  try {
    process.kill(pid, signal);
  } catch {
    forked.delete(pid);
  }
}

process.on('exit', () => {
  for (const child of running) {
    descendants(child.pid);
    child.kill('SIGKILL');
  }
  for (const pid of forked.keys()) signalForked(pid, 'SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Makes SIGINT, SIGTERM and SIGHUP end the harness through process.exit, so that the
 * 'exit' handler above kills everything it started. Harness entry points call it once.
 */
export function exitOnSignals() {
  for (const [signal, code] of /** @type {const} */ ([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ])) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping everything it started\n`);
      process.exit(code);
    });
  }
}

/** @param {string} prefix */
export function tempDir(prefix = 'burrow-bench-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Rejects after `ms` unless `promise` settles first.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout]).finally(() => clearTimeout(timer)));
}

/**
 * A child process, node unless `options.command` names another program. stdout is read as
 * lines when it is a pipe; `lines` keeps them.
 */
export class Child {
  /**
   * @param {string} label for error messages
   * @param {string[]} args arguments to node (or to `options.command`)
   * @param {{ env?: Record<string, string>, stdoutFd?: number, keepLines?: boolean, command?: string }} [options]
   */
  constructor(label, args, options = {}) {
    this.label = label;
    this.startedAt = performance.now();
    this.child = spawn(options.command ?? process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', options.stdoutFd ?? 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined)
      throw new Error(`${label}: could not start ${options.command ?? 'node'}`);
    this.pid = this.child.pid;
    running.add(this);
    /** @type {string[]} */
    this.lines = [];
    /** @type {string[]} */
    this.stderr = [];
    /** @type {Set<(line: string) => void>} */
    this.lineListeners = new Set();
    this.keepLines = options.keepLines ?? true;
    if (this.child.stdout) {
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        if (this.keepLines) this.lines.push(line);
        for (const listener of this.lineListeners) listener(line);
      });
    }
    createInterface({ input: /** @type {import('node:stream').Readable} */ (this.child.stderr) }).on(
      'line',
      (line) => {
        if (this.stderr.length < 200) this.stderr.push(line);
        for (const listener of this.lineListeners) listener(line);
      },
    );
    /** @type {number | null | undefined} */
    this.exitCode = undefined;
    /** @type {Promise<number | null>} */
    this.exited = new Promise((resolveExit) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        running.delete(this);
        resolveExit(code);
      });
    });
  }

  get alive() {
    return this.exitCode === undefined;
  }

  /** @param {NodeJS.Signals} signal */
  kill(signal) {
    if (this.alive) {
      try {
        process.kill(this.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /**
   * SIGTERM, then SIGKILL if still alive after `graceMs`; resolves once it has exited.
   * Processes it forked (found now, or tracked earlier) get the same treatment by pid.
   */
  async stop(graceMs = 5000) {
    const forkedPids = this.alive ? descendants(this.pid) : [];
    if (!this.alive) return this.exitCode;
    this.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.kill('SIGKILL');
      for (const pid of forkedPids) signalForked(pid, 'SIGKILL');
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      // What outlived its parent (an sshd session whose listener is gone) ends here.
      for (const pid of forkedPids) signalForked(pid, 'SIGTERM');
    }
  }

  /**
   * Resolves with the first value `pick` returns for a stdout/stderr line (also checking
   * lines already seen), rejects on timeout or exit.
   * @template T
   * @param {(line: string) => T | undefined} pick
   * @param {number} timeoutMs
   * @param {string} what
   * @returns {Promise<T>}
   */
  waitForLine(pick, timeoutMs, what) {
    for (const line of [...this.lines, ...this.stderr]) {
      const v = pick(line);
      if (v !== undefined) return Promise.resolve(v);
    }
    return new Promise((resolveWait, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.lineListeners.delete(listener);
      };
      /** @param {string} line */
      const listener = (line) => {
        const v = pick(line);
        if (v === undefined) return;
        done();
        resolveWait(v);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.label}: timed out waiting for ${what}\n${this.tail()}`));
      }, timeoutMs);
      this.lineListeners.add(listener);
      void this.exited.then(() => {
        if (!this.lineListeners.has(listener)) return;
        done();
        reject(new Error(`${this.label}: exited (${this.exitCode}) before ${what}\n${this.tail()}`));
      });
    });
  }

  tail() {
    return [...this.lines.slice(-10), ...this.stderr.slice(-20)].join('\n');
  }
}

/**
 * Parses a line as JSON, or undefined.
 * @param {string} line
 * @returns {Record<string, unknown> | undefined}
 */
export function jsonLine(line) {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = /** @type {unknown} */ (JSON.parse(line));
    return typeof v === 'object' && v !== null ? /** @type {Record<string, unknown>} */ (v) : undefined;
  } catch {
    return undefined;
  }
}

/** A free loopback port (bound then released; fine on a quiet loopback). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Resolves once 127.0.0.1:`port` accepts a TCP connection (polled every 20 ms); rejects
 * after `timeoutMs`, or as soon as `child` (the process that should listen) exits.
 * @param {number} port
 * @param {number} timeoutMs
 * @param {Child} [child]
 */
export async function waitForPort(port, timeoutMs, child) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child && !child.alive) throw new Error(`${child.label}: exited (${child.exitCode})\n${child.tail()}`);
    const open = await new Promise((resolveTry) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolveTry(true);
      });
      socket.once('error', () => resolveTry(false));
    });
    if (open) return;
    await sleep(20);
  }
  throw new Error(
    `nothing accepted connections on 127.0.0.1:${port} within ${timeoutMs} ms${child ? `\n${child.tail()}` : ''}`,
  );
}

/**
 * Starts a bench script that prints {"event":"listening","port":N} and waits for that line.
 * @param {string} label
 * @param {string[]} args arguments to node
 */
export async function startListening(label, args) {
  const proc = new Child(label, args);
  const port = await proc.waitForLine(
    (line) => {
      const v = jsonLine(line);
      return v?.event === 'listening' ? /** @type {number} */ (v.port) : undefined;
    },
    10_000,
    `the ${label} to listen`,
  );
  return { proc, port };
}

export function startOrigin() {
  return startListening('origin', [join(BENCH, 'origin.js')]);
}

/**
 * The benchmark sends everything from one address (1,000 agents, tens of thousands of
 * requests per second), which the edge's per-address defaults exist to stop. Lift them so
 * the figures measure the data path, not the abuse limits.
 */
const LOAD_TEST_LIMITS = {
  BURROW_LIMITS_CONNECTIONS_PER_IP: '1000000',
  BURROW_LIMITS_REQUESTS_PER_SECOND_PER_IP: '0',
  BURROW_TUNNELS_ANONYMOUS_TUNNELS_PER_IP: '100000',
  BURROW_LIMITS_TLS_HANDSHAKES_PER_IP: '1000000',
};

/**
 * Starts `burrow-edge start` and waits for its listening line.
 * @param {{ port?: number, dataDir?: string, nodeArgs?: string[], env?: Record<string, string>, label?: string,
 *   args?: string[] }} [options] `args`: more `start` flags (e.g. the HTTPS listener)
 */
export async function startEdge(options = {}) {
  const dataDir = options.dataDir ?? tempDir('burrow-bench-edge-');
  const args = [
    ...(options.nodeArgs ?? []),
    EDGE_CLI,
    'start',
    '--listen',
    `127.0.0.1:${options.port ?? 0}`,
    '--data',
    dataDir,
    '--log-level',
    'info',
    ...(options.args ?? []),
  ];
  const proc = new Child(options.label ?? 'edge', args, {
    env: { ...LOAD_TEST_LIMITS, ...options.env },
    keepLines: false,
  });
  const { port, httpsPort, metricsPort } = await proc.waitForLine(
    (line) => {
      const v = jsonLine(line);
      return typeof v?.port === 'number' && typeof v.url === 'string'
        ? {
            port: v.port,
            httpsPort: typeof v.httpsPort === 'number' ? v.httpsPort : undefined,
            metricsPort: typeof v.metricsPort === 'number' ? v.metricsPort : undefined,
          }
        : undefined;
    },
    20_000,
    'the edge to listen',
  );
  const listeningMs = performance.now() - proc.startedAt;
  return { proc, port, httpsPort, metricsPort, dataDir, listeningMs, url: `http://127.0.0.1:${port}` };
}

/**
 * The tunnel event of an agent's JSON output, if `line` is one.
 * @param {string} line
 * @returns {{ name: string, url: string } | undefined}
 */
function tunnelEvent(line) {
  const v = jsonLine(line);
  if (v?.event !== 'tunnel' || typeof v.name !== 'string' || typeof v.url !== 'string') return undefined;
  return { name: v.name, url: v.url };
}

/**
 * Starts `burrow http <originPort> --log json`. With `stdoutFile`, stdout (one JSON line
 * per request) goes to that file, so the harness spends nothing reading it; otherwise it
 * is a pipe read as lines.
 * @param {{ edgeUrl: string, originPort: number, stdoutFile?: string, nodeArgs?: string[], label?: string }} options
 */
export async function startAgentCli(options) {
  const args = [
    ...(options.nodeArgs ?? []),
    AGENT_CLI,
    'http',
    String(options.originPort),
    '--server',
    options.edgeUrl,
    '--log',
    'json',
  ];
  const label = options.label ?? 'agent';
  if (options.stdoutFile === undefined) {
    const proc = new Child(label, args);
    const tunnel = await proc.waitForLine(tunnelEvent, 20_000, 'the agent to print its tunnel');
    return { proc, ...tunnel, boundMs: performance.now() - proc.startedAt };
  }
  const fd = openSync(options.stdoutFile, 'w');
  const proc = new Child(label, args, { stdoutFd: fd });
  closeSync(fd);
  const deadline = performance.now() + 20_000;
  while (proc.alive && performance.now() < deadline) {
    const tunnel = readFileSync(options.stdoutFile, 'utf8').split('\n').map(tunnelEvent).find(Boolean);
    if (tunnel) return { proc, ...tunnel, boundMs: performance.now() - proc.startedAt };
    await sleep(10);
  }
  throw new Error(`${label}: no tunnel line in ${options.stdoutFile}\n${proc.tail()}`);
}

let clockTicks = 0;
function clkTck() {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * RSS (bytes) and CPU seconds (user + system since start) of a process, from /proc.
 * @param {number} pid
 */
export function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssBytes: rss ? Number(rss[1]) * 1024 : NaN, cpuSeconds: ticks / clkTck() };
}
