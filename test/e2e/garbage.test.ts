/**
 * Raw garbage on the public port and on the agent endpoint, and an agent that stops
 * reading: each is cut off with an answer or an error code, and the edge keeps serving.
 */

import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  FrameType,
  WEBSOCKET_SUBPROTOCOL,
  decodeBindAck,
  encodeFrame,
  encodeJson,
  FrameDecoder,
} from '@burrow/protocol';
import { stopAll, tunnelRequest, type Agent, type Edge } from './harness.js';
import { expectServing, startTunnel } from './fixture.js';

let edge: Edge;
let agent: Agent;

beforeAll(async () => {
  ({ edge, agent } = await startTunnel({
    env: { BURROW_TIMEOUTS_HEARTBEAT_MS: '300', BURROW_TIMEOUTS_DEAD_PEER_MS: '1500' },
  }));
});

afterAll(stopAll);

/** Sends bytes to the public port; resolves with whatever came back before the close. */
function sendRaw(bytes: Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(edge.port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
    setTimeout(() => socket.destroy(), 1500);
  });
}

describe('garbage', () => {
  it('answers random bytes on the public port with 400 or silence, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        const reply = await sendRaw(bytes);
        // Either nothing (the parser is still waiting for a request line) or an HTTP error.
        if (reply !== '') expect(reply).toMatch(/^HTTP\/1\.1 (400|408|413|414|431) /);
      }),
      { numRuns: 40 },
    );
    await expectServing(edge, agent);
  });

  it('answers garbage after a valid request line with 400', async () => {
    const reply = await sendRaw(
      Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'), randomBytes(512)]),
    );
    expect(reply === '' || /^HTTP\/1\.1 (400|431) /.test(reply)).toBe(true);
    await expectServing(edge, agent);
  });

  it('closes agent sessions that send random bytes, with a GOAWAY code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 12, maxLength: 4096 }), async (bytes) => {
        const ws = new WebSocket(`ws://127.0.0.1:${edge.port}/_burrow/connect`, WEBSOCKET_SUBPROTOCOL);
        const frames: number[] = [];
        const decoder = new FrameDecoder({ maxPayload: 1 << 24, onFrame: (f) => frames.push(f.type) });
        ws.on('message', (d: Buffer) => decoder.push(d));
        ws.on('error', () => undefined);
        await new Promise((r) => ws.once('open', r));
        ws.send(bytes);
        const timer = setTimeout(() => ws.terminate(), 3000);
        await new Promise((r) => ws.once('close', r));
        clearTimeout(timer);
        // A handshake with random bytes either breaks the framing (GOAWAY) or times out.
        expect(frames.some((t) => t === FrameType.GOAWAY || t === FrameType.ERROR)).toBe(true);
      }),
      { numRuns: 15 },
    );
    await expectServing(edge, agent);
  });

  it('closes an agent that stops reading while the edge has data for it', { timeout: 20_000 }, async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${edge.port}/_burrow/connect`, WEBSOCKET_SUBPROTOCOL);
    const frames: { type: number; payload: Buffer }[] = [];
    const decoder = new FrameDecoder({
      maxPayload: 1 << 24,
      onFrame: (f) => frames.push({ type: f.type, payload: Buffer.from(f.payload) }),
    });
    ws.on('message', (d: Buffer) => decoder.push(d));
    await new Promise((r) => ws.once('open', r));
    ws.send(
      encodeFrame(
        FrameType.HELLO,
        0,
        0,
        encodeJson({
          versions: [1],
          agent: 'sleepy',
          token: null,
          window: 16 * 1024 * 1024,
          maxFramePayload: 65536,
        }),
      ),
    );
    const waitFrame = async (type: number): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!frames.some((f) => f.type === type) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await waitFrame(FrameType.HELLO_ACK);
    ws.send(
      encodeFrame(FrameType.BIND, 0, 0, encodeJson({ id: 1, proto: 'http', name: null, resumeToken: null })),
    );
    await waitFrame(FrameType.BIND_ACK);
    const ack = decodeBindAck(frames.find((f) => f.type === FrameType.BIND_ACK)!.payload);
    if (!ack.ok) throw new Error(ack.message);
    // Stop reading: our socket's receive buffer fills, then the edge's send buffer.
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    // Keep answering nothing, but keep the session "alive" with our own pings.
    const ping = setInterval(() => ws.send(encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8))), 200);
    // A paused socket never sees the edge's FIN, so watch the edge's own session count.
    const sessions = async (): Promise<number> =>
      ((await (await fetch(`${edge.url}/health`)).json()) as { sessions: number }).sessions;
    const before = await sessions();
    const closed = (async (): Promise<number> => {
      while ((await sessions()) >= before) await new Promise((r) => setTimeout(r, 100));
      return Date.now();
    })();
    const uploads = Array.from({ length: 8 }, () =>
      tunnelRequest(edge, ack.name, '/upload', {
        method: 'POST',
        body: Buffer.alloc(8 * 1024 * 1024, 1),
      }).then(
        (res) => res.body.dump().then(() => res.statusCode),
        () => 0,
      ),
    );
    const started = Date.now();
    const closedAt = await closed;
    clearInterval(ping);
    ws.terminate();
    expect(closedAt - started).toBeLessThan(15_000);
    await Promise.all(uploads);
    await expectServing(edge, agent);
  });
});
