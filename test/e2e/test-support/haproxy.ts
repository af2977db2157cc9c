/**
 * A real haproxy (Debian's /usr/sbin/haproxy) in front of an edge, on loopback, from a
 * generated config: each frontend forwards to a backend either with PROXY protocol v2 (TCP
 * mode, `send-proxy-v2`) or as an HTTP proxy adding X-Forwarded-For (`option forwardfor`).
 * Backend connections leave from a chosen source address, so the edge can tell the paths
 * apart. Killed by pid in `stop`.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAPROXY = '/usr/sbin/haproxy';

export interface HaproxyRoute {
  /** `proxy-v2`: TCP mode with send-proxy-v2; `forwardfor`: HTTP mode with option forwardfor. */
  mode: 'proxy-v2' | 'forwardfor';
  /** Where haproxy connects to (the edge). */
  backend: { host: string; port: number };
  /** The address haproxy's connections to the backend come from. */
  source: string;
}

export interface Haproxy {
  /** Frontend ports, one per route, in order. */
  ports: number[];
  stop(): Promise<void>;
}

/** A port free on `host` right now (haproxy cannot report a port 0 bind back). */
async function freePort(host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function section(route: HaproxyRoute, index: number, port: number): string {
  const mode = route.mode === 'proxy-v2' ? 'tcp' : 'http';
  const server =
    `server edge ${route.backend.host}:${route.backend.port} source ${route.source}` +
    (route.mode === 'proxy-v2' ? ' send-proxy-v2' : '');
  return [
    `frontend f${index}`,
    `  mode ${mode}`,
    `  bind 127.0.0.1:${port}`,
    route.mode === 'forwardfor' ? '  option forwardfor' : '',
    `  default_backend b${index}`,
    `backend b${index}`,
    `  mode ${mode}`,
    `  ${server}`,
  ].join('\n');
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function startHaproxy(routes: HaproxyRoute[]): Promise<Haproxy> {
  try {
    accessSync(HAPROXY, constants.X_OK);
  } catch {
    throw new Error(`${HAPROXY} is missing: install Debian's haproxy (scripts/setup-test-machine.sh does)`);
  }
  const ports: number[] = [];
  for (const _ of routes) ports.push(await freePort('127.0.0.1'));
  const dir = mkdtempSync(join(tmpdir(), 'burrow-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 256',
      'defaults',
      '  timeout connect 5s',
      '  timeout client 30s',
      '  timeout server 30s',
      ...routes.map((route, i) => section(route, i, ports[i]!)),
      '',
    ].join('\n'),
  );
  const output: string[] = [];
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  // Bounded wait for every frontend to accept connections.
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) break;
    if ((await Promise.all(ports.map(answers))).every(Boolean)) return { ports, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`haproxy did not start:\n${output.join('')}`);
}
