/**
 * A broken or malicious agent: garbage, oversized lengths, unknown types, window overruns
 * and silence. Its session is closed with a protocol error code; the edge keeps serving
 * everyone else.
 */

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  FrameType,
  HEADER_SIZE,
  PROTOCOL_VERSION,
  TunnelError,
  WEBSOCKET_SUBPROTOCOL,
  decodeBindAck,
  decodeErrorMessage,
  encodeFrame,
  encodeJson,
  FrameDecoder,
  type Frame,
} from '@burrow/protocol';
import { stopAll, tunnelRequest, type Agent, type Edge } from './harness.js';
import { expectServing, startTunnel } from './fixture.js';

let edge: Edge;
let healthy: Agent;

beforeAll(async () => {
  ({ edge, agent: healthy } = await startTunnel({ env: { BURROW_TIMEOUTS_HANDSHAKE_MS: '500' } }));
});

afterAll(stopAll);

/** A hand-driven agent connection that records every frame the edge sends. */
class RawAgent {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<number>;
  private readonly decoder = new FrameDecoder({
    maxPayload: 1 << 24,
    onFrame: (f) => this.frames.push({ ...f, payload: Buffer.from(f.payload) }),
  });

  constructor(port: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/_burrow/connect`, WEBSOCKET_SUBPROTOCOL);
    this.ws.on('message', (data: Buffer) => this.decoder.push(data));
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve(code)));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.ws.send(bytes);
  }

  hello(): void {
    this.send(
      encodeFrame(
        FrameType.HELLO,
        0,
        0,
        encodeJson({ versions: [1], agent: 'raw', token: null, window: 65536, maxFramePayload: 65536 }),
      ),
    );
  }

  async waitFrame(type: number, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find((f) => f.type === type);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no frame of type ${type}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The error code the edge sent in GOAWAY before closing. */
  async goAwayCode(): Promise<string> {
    await this.closed;
    const frame = this.frames.find((f) => f.type === FrameType.GOAWAY || f.type === FrameType.ERROR);
    if (!frame) throw new Error('edge closed without GOAWAY');
    const msg = decodeErrorMessage(frame.payload);
    return TunnelError.fromWire(msg.code).code;
  }
}

function header(type: number, streamId: number, length: number, version = PROTOCOL_VERSION): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h[0] = version;
  h[1] = type;
  h.writeUInt32BE(streamId, 4);
  h.writeUInt32BE(length, 8);
  return h;
}

describe('a hostile agent', () => {
  it('sending garbage bytes is closed with a protocol error', async () => {
    const raw = new RawAgent(edge.port);
    await raw.opened();
    raw.send(Buffer.from('GET / HTTP/1.1\r\n\r\n this is not a frame at all'));
    expect(await raw.goAwayCode()).toBe('TUN_ERR_BAD_VERSION');
    await expectServing(edge, healthy);
  });

  it('announcing a 4 GiB frame is closed with TUN_ERR_FRAME_TOO_LARGE', async () => {
    const raw = new RawAgent(edge.port);
    await raw.opened();
    raw.send(header(FrameType.DATA, 1, 0xffff_ffff));
    expect(await raw.goAwayCode()).toBe('TUN_ERR_FRAME_TOO_LARGE');
    await expectServing(edge, healthy);
  });

  it('sending an unknown frame type is closed with TUN_ERR_UNKNOWN_FRAME_TYPE', async () => {
    const raw = new RawAgent(edge.port);
    await raw.opened();
    raw.send(header(0x7f, 0, 0));
    expect(await raw.goAwayCode()).toBe('TUN_ERR_UNKNOWN_FRAME_TYPE');
    await expectServing(edge, healthy);
  });

  it('sending malformed HELLO JSON is told why and closed', async () => {
    const raw = new RawAgent(edge.port);
    await raw.opened();
    raw.send(encodeFrame(FrameType.HELLO, 0, 0, Buffer.from('{"versions": "all of them"')));
    expect(await raw.goAwayCode()).toBe('TUN_ERR_BAD_MESSAGE');
    await expectServing(edge, healthy);
  });

  it('never saying HELLO is closed after the handshake timeout', async () => {
    const raw = new RawAgent(edge.port);
    await raw.opened();
    const started = Date.now();
    expect(await raw.goAwayCode()).toBe('TUN_ERR_HANDSHAKE_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('overrunning its window is closed with TUN_ERR_WINDOW_EXCEEDED', async () => {
    const raw = new RawAgent(edge.port);
    await raw.opened();
    raw.hello();
    await raw.waitFrame(FrameType.HELLO_ACK);
    raw.send(
      encodeFrame(FrameType.BIND, 0, 0, encodeJson({ id: 1, proto: 'http', name: null, resumeToken: null })),
    );
    const ack = decodeBindAck((await raw.waitFrame(FrameType.BIND_ACK)).payload);
    if (!ack.ok) throw new Error(ack.message);
    // A viewer that never reads: the edge's stream pauses and stops granting credit.
    const viewer = connect(edge.port, '127.0.0.1', () => {
      viewer.write(`GET /victim HTTP/1.1\r\nHost: ${edge.host(ack.name)}\r\n\r\n`);
      viewer.pause();
    });
    viewer.on('error', () => undefined);
    const open = await raw.waitFrame(FrameType.OPEN);
    raw.send(
      encodeFrame(
        FrameType.HEAD,
        0,
        open.streamId,
        encodeJson({ status: 200, statusText: 'OK', headers: [] }),
      ),
    );
    // Ignore every WINDOW and keep sending: once kernel buffers are full, the 1 MiB window runs out.
    const chunk = Buffer.alloc(65536, 1);
    const frame = encodeFrame(FrameType.DATA, 0, open.streamId, chunk);
    for (let i = 0; i < 1024 && raw.ws.readyState === WebSocket.OPEN; i++) {
      raw.send(frame);
      if (i % 16 === 15) await new Promise((r) => setTimeout(r, 5));
    }
    expect(await raw.goAwayCode()).toBe('TUN_ERR_WINDOW_EXCEEDED');
    viewer.destroy();
    await expectServing(edge, healthy);
  });

  it('answering with a header carrying CR/LF gives the viewer a 502, not a split response', async () => {
    const raw = new RawAgent(edge.port);
    await raw.opened();
    raw.hello();
    await raw.waitFrame(FrameType.HELLO_ACK);
    raw.send(
      encodeFrame(FrameType.BIND, 0, 0, encodeJson({ id: 1, proto: 'http', name: null, resumeToken: null })),
    );
    const ack = decodeBindAck((await raw.waitFrame(FrameType.BIND_ACK)).payload);
    if (!ack.ok) throw new Error(ack.message);
    const viewer = tunnelRequest(edge, ack.name, '/inject');
    const open = await raw.waitFrame(FrameType.OPEN);
    raw.send(
      encodeFrame(
        FrameType.HEAD,
        0,
        open.streamId,
        encodeJson({ status: 200, statusText: 'OK', headers: ['X-Evil', 'a\r\nSet-Cookie: stolen=1'] }),
      ),
    );
    const res = await viewer;
    expect(res.statusCode).toBe(502);
    expect(res.headers['x-burrow-error']).toBe('TUN_ERR_HEAD_INVALID');
    expect(res.headers['set-cookie']).toBeUndefined();
    await res.body.dump();
    await expectServing(edge, healthy);
    raw.ws.close();
  });

  it('opening a stream itself is closed with a protocol error', async () => {
    const raw = new RawAgent(edge.port);
    await raw.opened();
    raw.hello();
    await raw.waitFrame(FrameType.HELLO_ACK);
    raw.send(
      encodeFrame(
        FrameType.OPEN,
        0,
        1,
        encodeJson({ tunnel: 'x', method: 'GET', path: '/', headers: [], remoteAddress: '', requestId: '' }),
      ),
    );
    expect(await raw.goAwayCode()).toBe('TUN_ERR_PROTOCOL');
    await expectServing(edge, healthy);
  });
});
