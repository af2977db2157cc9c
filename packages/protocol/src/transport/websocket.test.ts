import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Session } from '../session.js';
import { collect, requestHead, responseHead, writeAll } from '../test-support/session-pair.js';
import { realTimers } from '../timers.js';
import {
  WEBSOCKET_SUBPROTOCOL,
  WebSocketTransport,
  websocketMaxPayload,
  type Corkable,
} from './websocket.js';

const MAX_FRAME = 64 * 1024;
const options = {
  maxFramePayload: MAX_FRAME,
  window: 256 * 1024,
  maxStreams: 100,
  heartbeatMs: 60_000,
  deadPeerMs: 180_000,
  timers: realTimers,
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An edge session and an agent session joined by a real WebSocket on 127.0.0.1. */
async function connectOverWebSocket(): Promise<{ edge: Session; agent: Session; protocol: string }> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: '/_burrow/connect',
    maxPayload: websocketMaxPayload(MAX_FRAME),
    handleProtocols: (protocols) => (protocols.has(WEBSOCKET_SUBPROTOCOL) ? WEBSOCKET_SUBPROTOCOL : false),
  });
  cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as AddressInfo;

  const edgeReady = new Promise<Session>((resolve) =>
    wss.once('connection', (ws, req) => {
      const transport = new WebSocketTransport(ws, {
        remoteAddress: req.socket.remoteAddress ?? '',
        socket: req.socket,
      });
      resolve(new Session({ ...options, transport, role: 'edge' }));
    }),
  );
  // As the agent dials: a zero mask, and the socket kept so writes can be corked.
  const client = new WebSocket(`ws://127.0.0.1:${port}/_burrow/connect`, WEBSOCKET_SUBPROTOCOL, {
    maxPayload: websocketMaxPayload(MAX_FRAME),
    generateMask: (mask: Buffer) => mask.fill(0),
  });
  let clientSocket: Corkable | undefined;
  client.once('upgrade', (res) => (clientSocket = res.socket));
  await new Promise<void>((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  const agent = new Session({
    ...options,
    transport: new WebSocketTransport(client, { remoteAddress: '127.0.0.1', socket: clientSocket }),
    role: 'agent',
  });
  const edge = await edgeReady;
  cleanups.push(() => {
    edge.destroy();
    agent.destroy();
  });
  return { edge, agent, protocol: client.protocol };
}

describe('Session over a real WebSocket', () => {
  it('negotiates the burrow.v1 subprotocol and moves 5 MiB each way byte-exact', async () => {
    const { edge, agent, protocol } = await connectOverWebSocket();
    expect(protocol).toBe('burrow.v1');
    // 100,000-byte writes are above the no-copy size: payloads go out after their own
    // header, several messages per corked write, both ways.
    const request = randomBytes(5 * 1024 * 1024);
    let agentDigest: Promise<string> | undefined;
    agent.on('stream', (stream) => {
      const body = collect(stream);
      agentDigest = body.then(sha256);
      stream.respond(responseHead(), { fin: false });
      // Echo the body back once it is all in.
      void body.then((b) => writeAll(stream, b, 100_000));
    });
    const s = edge.openStream();
    const echoed = collect(s);
    s.open(requestHead(), { fin: false, upgrade: false });
    await writeAll(s, request, 100_000);
    const back = await echoed;
    expect(await agentDigest).toBe(sha256(request));
    expect(back.length).toBe(request.length);
    expect(sha256(back)).toBe(sha256(request));
  });

  it('closes the peer session when one side destroys its session', async () => {
    const { edge, agent } = await connectOverWebSocket();
    const closed = new Promise((resolve) => edge.once('close', resolve));
    agent.destroy();
    const err = await closed;
    expect(err).toMatchObject({ code: 'TUN_ERR_SESSION_CLOSED' });
  });

  it('sends sendAll() buffers in order, corked, and reports the drain', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const received: Buffer[] = [];
    const gotAll = new Promise<void>((resolve) =>
      wss.once('connection', (ws) =>
        ws.on('message', (data: Buffer) => {
          received.push(data);
          if (received.length === 3) resolve();
        }),
      ),
    );
    const { port } = wss.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { generateMask: (mask: Buffer) => mask.fill(0) });
    const calls: string[] = [];
    client.once('upgrade', (res) => {
      const socket = res.socket;
      counting.cork = () => (calls.push('cork'), socket.cork());
      counting.uncork = () => (calls.push('uncork'), socket.uncork());
    });
    const counting: Corkable = { cork: () => undefined, uncork: () => undefined };
    await new Promise<void>((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    cleanups.push(() => client.terminate());
    const transport = new WebSocketTransport(client, { remoteAddress: '127.0.0.1', socket: counting });
    let drains = 0;
    transport.attach({ onData: () => undefined, onDrain: () => drains++, onClose: () => undefined });
    const parts = [Buffer.from('first'), randomBytes(100_000), Buffer.from('third')];
    transport.sendAll(parts);
    await gotAll;
    expect(received.map((b) => b.length)).toEqual(parts.map((b) => b.length));
    expect(Buffer.concat(received).equals(Buffer.concat(parts))).toBe(true);
    // ws corks inside each send too; the outer pair is ours and brackets all three.
    expect(calls[0]).toBe('cork');
    expect(calls[calls.length - 1]).toBe('uncork');
    expect(calls.filter((c) => c === 'cork')).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(drains).toBe(1);
  });
});
