/**
 * The processes a benchmark run starts (origin, edge, agents) and what /proc says about
 * them. Every child is tracked by pid and killed by pid when the harness exits, however
 * it exits; nothing is ever killed by name.
 */

import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
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

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

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
 * A node child process. stdout is read as lines when it is a pipe; `lines` keeps them.
 */
export class Child {
  /**
   * @param {string} label for error messages
   * @param {string[]} args arguments to node
   * @param {{ env?: Record<string, string>, stdoutFd?: number, keepLines?: boolean }} [options]
   */
  constructor(label, args, options = {}) {
    this.label = label;
    this.startedAt = performance.now();
    this.child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', options.stdoutFd ?? 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error(`${label}: could not start`);
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

  /** SIGTERM, then SIGKILL if still alive after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 5000) {
    if (!this.alive) return this.exitCode;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
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
};

/**
 * Starts `burrow-edge start` and waits for its listening line.
 * @param {{ port?: number, dataDir?: string, nodeArgs?: string[], env?: Record<string, string>, label?: string }} [options]
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
  ];
  const proc = new Child(options.label ?? 'edge', args, {
    env: { ...LOAD_TEST_LIMITS, ...options.env },
    keepLines: false,
  });
  const port = await proc.waitForLine(
    (line) => {
      const v = jsonLine(line);
      return typeof v?.port === 'number' && typeof v.url === 'string' ? v.port : undefined;
    },
    20_000,
    'the edge to listen',
  );
  const listeningMs = performance.now() - proc.startedAt;
  return { proc, port, dataDir, listeningMs, url: `http://127.0.0.1:${port}` };
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
