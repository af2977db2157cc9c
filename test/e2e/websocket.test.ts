/** WebSocket upgrades through a real edge and agent, with the `ws` client and server. */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startAgent, startEdge, stopAll, type Agent, type Edge } from './harness.js';

let edge: Edge;
let agent: Agent;
const originServer = createServer((_, res) => res.end('plain http'));
const wss = new WebSocketServer({ server: originServer });

wss.on('connection', (ws, req) => {
  if (req.url === '/push') {
    let n = 0;
    const timer = setInterval(() => {
      ws.send(`push ${n++}`);
      if (n === 3) {
        clearInterval(timer);
        ws.close(4001, 'done pushing');
      }
    }, 50);
    return;
  }
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : Buffer.from(data as Buffer).toString();
    if (text === 'close-please') ws.close(4321, 'asked to close');
    else ws.send(data, { binary: isBinary });
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => originServer.listen(0, '127.0.0.1', r));
  edge = await startEdge();
  agent = await startAgent(edge, String((originServer.address() as AddressInfo).port));
});

afterAll(async () => {
  await stopAll();
  wss.close();
  originServer.closeAllConnections();
  originServer.close();
});

function open(path: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${edge.port}${path}`, {
    headers: { host: edge.host(agent.name) },
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) =>
    ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })),
  );
}

describe('WebSocket through the tunnel', () => {
  it('echoes text', async () => {
    const ws = await open('/echo');
    ws.send('hello through burrow');
    const msg = await nextMessage(ws);
    expect(msg.isBinary).toBe(false);
    expect(msg.data.toString()).toBe('hello through burrow');
    ws.close();
  });

  it('echoes 1 MiB of binary byte-exact', async () => {
    const ws = await open('/echo');
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    ws.send(payload);
    const msg = await nextMessage(ws);
    expect(msg.isBinary).toBe(true);
    expect(msg.data.equals(payload)).toBe(true);
    ws.close();
  });

  it('delivers server-initiated messages and the close code', async () => {
    const ws = await open('/push');
    const received: string[] = [];
    ws.on('message', (d) => received.push(Buffer.from(d as Buffer).toString()));
    const [code, reason] = await new Promise<[number, string]>((resolve) =>
      ws.once('close', (c, r) => resolve([c, r.toString()])),
    );
    expect(received).toEqual(['push 0', 'push 1', 'push 2']);
    expect(code).toBe(4001);
    expect(reason).toBe('done pushing');
  });

  it('passes a close code from the origin after a client request', async () => {
    const ws = await open('/echo');
    ws.send('close-please');
    const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    expect(code).toBe(4321);
  });

  it('answers a plain request on the same origin normally', async () => {
    const res = await fetch(`http://127.0.0.1:${edge.port}/t/${agent.name}/`);
    expect(await res.text()).toBe('plain http');
  });
});
