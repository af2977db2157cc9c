/** Slowloris and slow bodies are cut off by timeouts; other viewers are not affected. */

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tunnelRequest, type Agent, type Edge } from './harness.js';
import { startTunnel } from './fixture.js';

let edge: Edge;
let agent: Agent;

beforeAll(async () => {
  ({ edge, agent } = await startTunnel({
    env: { BURROW_TIMEOUTS_HEADERS_MS: '1000', BURROW_TIMEOUTS_BODY_IDLE_MS: '1000' },
  }));
});

afterAll(stopAll);

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(edge.port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves with what the edge sent before closing, and when. */
function closed(socket: Socket): Promise<{ text: string; at: number }> {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  return new Promise((resolve) => socket.once('close', () => resolve({ text, at: Date.now() })));
}

describe('slow viewers', () => {
  it('cuts off a viewer dribbling its headers (slowloris) and keeps serving others', async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, open));
    const started = Date.now();
    const ends = sockets.map(closed);
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-Drip: a\r\n');
    }, 200);
    for (const s of sockets) s.write(`GET /echo HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\n`);
    const res = await tunnelRequest(edge, agent.name, '/echo?during=slowloris');
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const results = await Promise.all(ends);
    clearInterval(drip);
    for (const r of results) {
      expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(r.at - started).toBeLessThan(4000);
    }
  });

  it('cuts off a request body that stalls, with 408', async () => {
    const socket = await open();
    const end = closed(socket);
    socket.write(
      `POST /upload HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(1000)}`,
    );
    const started = Date.now();
    const { text, at } = await end;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('TUN_ERR_BODY_TIMEOUT');
    expect(at - started).toBeGreaterThanOrEqual(900);
    expect(at - started).toBeLessThan(4000);
  });

  it('does not cut off a slow but steady upload', async () => {
    const socket = await open();
    const end = closed(socket);
    socket.write(
      `POST /upload HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nContent-Length: 10\r\nConnection: close\r\n\r\n`,
    );
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300));
      socket.write('a');
    }
    const { text } = await end;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain('"length":10');
  });
});
