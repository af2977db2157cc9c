/**
 * A viewer that stops reading never makes the edge hold more than the stream window: the
 * edge runs in this process so its retained buffers can be counted exactly
 * (`process.memoryUsage().arrayBuffers` after a full GC), while the agent is a real
 * `burrow http` process. RSS is no use here: it also counts garbage not yet returned.
 */

import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, expect, it } from 'vitest';
import { createLogger, EdgeServer, loadEdgeConfig } from '../../packages/edge/src/index.js';
import { stopAll, tempDir, spawnAgent } from './harness.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const WINDOW = 1024 * 1024;
const BODY = 64 * 1024 * 1024;
const BLOCK = Buffer.alloc(64 * 1024, 0x5a);

let edge: EdgeServer | undefined;
let origin: Server | undefined;
let viewer: Socket | undefined;

afterAll(async () => {
  viewer?.destroy();
  await stopAll();
  edge?.destroy();
  origin?.closeAllConnections();
  origin?.close();
});

function retainedArrayBuffers(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}

it(
  'holds at most one stream window for a viewer that stops reading, and delivers everything once it reads',
  { timeout: 60_000 },
  async () => {
    let written = 0;
    origin = createServer((_req, res) => {
      void (async () => {
        res.writeHead(200, { 'Content-Length': String(BODY) });
        while (written < BODY && !res.destroyed) {
          written += BLOCK.length;
          if (!res.write(BLOCK)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      })();
    });
    await new Promise<void>((r) => origin!.listen(0, '127.0.0.1', r));
    const originPort = (origin.address() as { port: number }).port;

    const config = loadEdgeConfig({
      flags: { listen: '127.0.0.1:0', data: tempDir() },
      env: { BURROW_LIMITS_STREAM_WINDOW: String(WINDOW) },
      cwd: process.cwd(),
    });
    edge = await EdgeServer.start({ config, log: createLogger('warn') });
    const agent = spawnAgent(edge, String(originPort));
    const tunnel = await agent.waitFor(
      () => agent.json.find((l) => l.event === 'tunnel'),
      15_000,
      'the tunnel',
    );
    const host = `${tunnel.name as string}.localhost:${edge.port}`;

    const baseline = retainedArrayBuffers();
    let received = 0;
    viewer = connect(edge.port, '127.0.0.1', () => {
      viewer!.write(`GET /big HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    });
    viewer.on('data', (chunk: Buffer) => (received += chunk.length));
    await new Promise((r) => viewer!.once('data', r));
    viewer.pause();

    // Wait until the origin is held back: nothing more written for half a second.
    let last = -1;
    while (written !== last) {
      last = written;
      await new Promise((r) => setTimeout(r, 500));
    }
    const held = retainedArrayBuffers() - baseline;
    console.log(
      `origin stopped after ${(written / 2 ** 20).toFixed(1)} MiB; edge holds ${(held / 2 ** 20).toFixed(2)} MiB`,
    );
    expect(written).toBeLessThan(BODY / 2);
    // The window, plus one frame in the viewer's socket buffer and this process's own small buffers.
    expect(held).toBeLessThan(WINDOW + 512 * 1024);

    viewer.resume();
    await new Promise((r) => viewer!.once('close', r));
    expect(received).toBeGreaterThan(BODY);
  },
);
