/**
 * Bounded memory: a 100 MiB download to a viewer that reads slowly must not pile up in
 * the edge. Flow control should hold the origin back instead.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stopAll, type Agent, type Edge } from './harness.js';
import { startTunnel } from './fixture.js';
import { expectedSha } from './origin.js';

let edge: Edge;
let agent: Agent;

beforeAll(async () => {
  ({ edge, agent } = await startTunnel());
});

afterAll(stopAll);

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  return kb ? Number(kb[1]) * 1024 : 0;
}

it(
  'keeps edge RSS growth under 64 MiB while a slow reader downloads 100 MiB',
  { timeout: 60_000 },
  async () => {
    const size = 100 * 1024 * 1024;
    const pid = edge.proc.child.pid!;
    const baseline = rssBytes(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);

    const hash = createHash('sha256');
    let bodyBytes = 0;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(edge.port, '127.0.0.1', () => {
        socket.write(
          `GET /download?bytes=${size} HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nConnection: close\r\n\r\n`,
        );
      });
      let head = Buffer.alloc(0);
      let inBody = false;
      let reads = 0;
      socket.on('data', (chunk: Buffer) => {
        if (!inBody) {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end === -1) return;
          inBody = true;
          chunk = head.subarray(end + 4);
        }
        hash.update(chunk);
        bodyBytes += chunk.length;
        // Slow reader: the first 20 MiB trickle in with pauses, well below what the tunnel can push.
        if (bodyBytes < 20 * 1024 * 1024 || ++reads % 4 === 0) {
          socket.pause();
          setTimeout(() => socket.resume(), bodyBytes < 20 * 1024 * 1024 ? 4 : 1);
        }
      });
      socket.on('end', resolve);
      socket.on('error', reject);
    });
    clearInterval(sampler);

    expect(bodyBytes).toBe(size);
    expect(hash.digest('hex')).toBe(expectedSha(size));
    const growth = peak - baseline;
    console.log(
      `edge RSS baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak growth ${(growth / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(growth).toBeLessThan(64 * 1024 * 1024);
  },
);
