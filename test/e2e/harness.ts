/**
 * End-to-end harness: real `burrow-edge` and `burrow` processes (the built CLIs) on
 * loopback, a real local origin, real clients. Every process started here is tracked and
 * killed by id in `stopAll()`.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { request, type Dispatcher } from 'undici';

export const ROOT = resolve(import.meta.dirname, '../..');
export const EDGE_CLI = join(ROOT, 'packages/edge/dist/burrow-edge.mjs');
export const AGENT_CLI = join(ROOT, 'packages/agent/dist/burrow.mjs');

type JsonLine = Record<string, unknown>;

/** A child process whose stdout is read as lines (JSON where it parses). */
export class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly listeners = new Set<() => void>();
  private hasExited = false;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, args, {
      env: { ...process.env, ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const l of this.listeners) l();
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      for (const l of this.listeners) l();
    });
    this.exited = new Promise((resolveExit) =>
      this.child.once('exit', (code) => {
        this.hasExited = true;
        running.delete(this);
        for (const l of this.listeners) l();
        resolveExit(code);
      }),
    );
  }

  get json(): JsonLine[] {
    const out: JsonLine[] = [];
    for (const line of this.lines) {
      try {
        const v: unknown = JSON.parse(line);
        if (typeof v === 'object' && v !== null) out.push(v as JsonLine);
      } catch {
        // not JSON: a plain output line
      }
    }
    return out;
  }

  get output(): string {
    return [...this.lines, ...this.stderr].join('\n');
  }

  /** Resolves with the first value `pick` returns (checked on every new line), or rejects on timeout. */
  waitFor<T>(pick: () => T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    return new Promise((resolveWait, reject) => {
      const check = (): boolean => {
        const v = pick();
        if (v === undefined) return false;
        cleanup();
        resolveWait(v);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; output so far:\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => {
        if (check() || !this.hasExited) return;
        cleanup();
        reject(new Error(`process exited before ${what}; output:\n${this.output.slice(-3000)}`));
      };
      this.listeners.add(listener);
      check();
    });
  }

  /** Counts JSON lines matching `pred`. */
  count(pred: (line: JsonLine) => boolean): number {
    return this.json.filter(pred).length;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.pid !== undefined) this.child.kill(sig);
  }
}

const running = new Set<Proc>();
const tempDirs: string[] = [];
const servers: Server[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-e2e-'));
  tempDirs.push(dir);
  return dir;
}

export interface Edge {
  proc: Proc;
  port: number;
  url: string;
  dataDir: string;
  host(name: string): string;
}

export async function startEdge(
  options: { port?: number; dataDir?: string; env?: Record<string, string>; args?: string[] } = {},
): Promise<Edge> {
  const dataDir = options.dataDir ?? tempDir();
  const proc = new Proc(
    [
      EDGE_CLI,
      'start',
      '--listen',
      `127.0.0.1:${options.port ?? 0}`,
      '--data',
      dataDir,
      '--log-level',
      'info',
      ...(options.args ?? []),
    ],
    options.env,
  );
  const port = await proc.waitFor(
    () => {
      const line = proc.json.find((l) => typeof l.port === 'number' && typeof l.url === 'string');
      return line ? (line.port as number) : undefined;
    },
    15_000,
    'the edge to listen',
  );
  return {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    host: (name) => `${name}.localhost:${port}`,
  };
}

/**
 * Stops the edge with `signal` and starts it again on the same port and data directory;
 * `edge` then refers to the new process.
 */
export async function restartEdge(
  edge: Edge,
  signal: NodeJS.Signals = 'SIGTERM',
  env?: Record<string, string>,
): Promise<void> {
  edge.proc.signal(signal);
  await edge.proc.exited;
  const restarted = await startEdge({ port: edge.port, dataDir: edge.dataDir, env });
  Object.assign(edge, { proc: restarted.proc });
}

export interface Agent {
  proc: Proc;
  url: string;
  name: string;
}

export interface AgentOptions {
  name?: string;
  token?: string;
  env?: Record<string, string>;
  args?: string[];
}

/** Starts `burrow http <target>` against `edge` with JSON output, without waiting for anything. */
export function spawnAgent(edge: { url: string }, target: string, options: AgentOptions = {}): Proc {
  const args = [AGENT_CLI, 'http', target, '--server', edge.url, '--log', 'json', ...(options.args ?? [])];
  if (options.name) args.push('--name', options.name);
  if (options.token) args.push('--token', options.token);
  return new Proc(args, options.env);
}

/** Starts `burrow http <target>` with JSON output and waits for its tunnel URL. */
export async function startAgent(
  edge: { url: string },
  target: string,
  options: AgentOptions = {},
): Promise<Agent> {
  const proc = spawnAgent(edge, target, options);
  const tunnel = await proc.waitFor(
    () => proc.json.find((l) => l.event === 'tunnel'),
    15_000,
    'the agent to print its tunnel',
  );
  return { proc, url: tunnel.url as string, name: tunnel.name as string };
}

export async function startOrigin(
  handler: RequestListener,
  options: ServerOptions = {},
): Promise<{ server: Server; port: number }> {
  const server = createServer(options, handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A request to a tunnel through the edge, with the tunnel's Host header. */
export function tunnelRequest(
  edge: Edge,
  name: string,
  path: string,
  options: Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
    method?: Dispatcher.HttpMethod;
  } = {},
): Promise<Dispatcher.ResponseData> {
  return request(`${edge.url}${path}`, {
    ...options,
    method: options.method ?? 'GET',
    headers: Array.isArray(options.headers)
      ? ['host', edge.host(name), ...options.headers]
      : { host: edge.host(name), ...(options.headers as Record<string, string> | undefined) },
  });
}

/** One control-API call with a key, its JSON answer parsed. */
export async function apiCall(
  url: string,
  key: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Reads until `ok` holds (10 s at most): for what the edge writes in batches, like history. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads a request body whole (test origins only). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface CliRun {
  code: number | null;
  stdout: string[];
  stderr: string[];
}

/** Runs `burrow-edge <args> --data <dir>` to completion. */
export async function edgeCli(dataDir: string, ...args: string[]): Promise<CliRun> {
  const proc = new Proc([EDGE_CLI, ...args, '--data', dataDir]);
  const code = await proc.exited;
  return { code, stdout: proc.lines, stderr: proc.stderr };
}

/**
 * Creates an API key through the real CLI, against the edge's data directory; for `user`
 * (created first if it does not exist yet) and with `scope` when given.
 */
export async function createApiKey(dataDir: string, user?: string, scope?: string): Promise<string> {
  const args = ['keys', 'create', '--label', 'e2e'];
  if (user !== undefined) {
    const users = await edgeCli(dataDir, 'users', 'list', '--json');
    if (!users.stdout.join('').includes(`"${user}"`)) {
      const created = await edgeCli(dataDir, 'users', 'create', user);
      if (created.code !== 0) throw new Error(`users create failed: ${created.stderr.join('\n')}`);
    }
    args.push('--user', user);
  }
  if (scope !== undefined) args.push('--scope', scope);
  const run = await edgeCli(dataDir, ...args);
  if (run.code !== 0) throw new Error(`keys create failed: ${run.stderr.join('\n')}`);
  return run.stdout[0]!.trim();
}

export async function stopAll(): Promise<void> {
  const procs = [...running];
  for (const p of procs) p.signal('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
