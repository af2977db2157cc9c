import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, FrameType } from './frame.js';
import { Session } from './session.js';
import { FakeTimers } from './test-support/fake-timers.js';
import type { Transport, TransportHandlers } from './transport/transport.js';
import { json } from './test-support/raw-peer.js';
import {
  createRawPair,
  createSessionPair,
  destroyAllSessions,
  requestHead,
  settle,
  waitUntil,
} from './test-support/session-pair.js';

afterEach(() => destroyAllSessions());

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n), 0);
  return b;
}

describe('Session keepalive', () => {
  it('sends a PING on stream 0 every heartbeatMs carrying the send time in ms', async () => {
    const { raw, clock } = createRawPair('agent', { heartbeatMs: 1000, deadPeerMs: 60_000 });
    const start = clock.now();
    clock.advance(1000);
    await settle();
    clock.advance(1000);
    await settle();
    const pings = raw.framesOf(FrameType.PING);
    expect(pings.map((f) => [f.streamId, f.payload.length])).toEqual([
      [0, 8],
      [0, 8],
    ]);
    expect(pings.map((f) => Number(f.payload.readBigUInt64BE(0)))).toEqual([start + 1000, start + 2000]);
  });

  it('closes a silent peer with TUN_ERR_PEER_TIMEOUT at the first heartbeat after deadPeerMs', async () => {
    const { session, raw, clock, sessionClose } = createRawPair('agent', {
      heartbeatMs: 1000,
      deadPeerMs: 3000,
    });
    clock.advance(3000);
    await settle();
    expect(sessionClose.closed).toBe(false);
    expect(raw.framesOf(FrameType.PING)).toHaveLength(3);
    clock.advance(1000);
    expect(sessionClose.closed).toBe(true);
    expect(sessionClose.err?.code).toBe('TUN_ERR_PEER_TIMEOUT');
    expect(sessionClose.err?.retryable).toBe(true);
    expect(session.isClosed).toBe(true);
    await waitUntil(() => raw.closed);
    expect(json(raw.framesOf(FrameType.GOAWAY)[0]!)).toMatchObject({ code: 10 });
    // The heartbeat interval is gone with the session.
    expect(clock.pending).toBe(0);
  });

  it('resets open streams with TUN_ERR_PEER_TIMEOUT when the peer goes silent', async () => {
    const { session, raw, clock } = createRawPair('agent', { heartbeatMs: 1000, deadPeerMs: 2500 });
    let streamErr: string | undefined;
    session.on('stream', (s) => s.on('reset', (err) => (streamErr = err.code)));
    raw.send(FrameType.OPEN, 0, 1, requestHead());
    await settle();
    clock.advance(3000);
    expect(streamErr).toBe('TUN_ERR_PEER_TIMEOUT');
  });

  it('counts any frame from the peer as a sign of life', async () => {
    const { raw, clock, sessionClose } = createRawPair('agent', { heartbeatMs: 1000, deadPeerMs: 3000 });
    for (let i = 0; i < 10; i++) {
      clock.advance(2500);
      raw.send(FrameType.BIND_ACK, 0, 0, Buffer.from('{}'));
      await settle();
    }
    expect(sessionClose.closed).toBe(false);
  });

  it('answers PING with a PONG carrying the same 8 bytes', async () => {
    const { raw } = createRawPair('edge');
    const payload = Buffer.from('0123456789abcdef', 'hex');
    raw.send(FrameType.PING, 0, 0, payload);
    await waitUntil(() => raw.framesOf(FrameType.PONG).length === 1);
    const pong = raw.framesOf(FrameType.PONG)[0]!;
    expect(pong.streamId).toBe(0);
    expect(pong.flags).toBe(0);
    expect(pong.payload.equals(payload)).toBe(true);
  });

  it('measures the round-trip time from the PONG to its PING', async () => {
    const { session, raw, clock } = createRawPair('agent', { heartbeatMs: 1000, deadPeerMs: 3000 });
    expect(session.rttMs).toBeNull();
    clock.advance(1000);
    await waitUntil(() => raw.framesOf(FrameType.PING).length === 1);
    clock.advance(250);
    raw.send(FrameType.PONG, 0, 0, raw.framesOf(FrameType.PING)[0]!.payload);
    await waitUntil(() => session.rttMs !== null);
    expect(session.rttMs).toBe(250);
  });

  it('never reports a negative round-trip time for a PONG from the future', async () => {
    const { session, raw, clock } = createRawPair('agent');
    raw.send(FrameType.PONG, 0, 0, u64(clock.now() + 5000));
    await waitUntil(() => session.rttMs !== null);
    expect(session.rttMs).toBe(0);
  });

  it('keeps two live sessions open indefinitely by their PING/PONG exchange', async () => {
    const { edge, agent, clock, edgeClose, agentClose } = createSessionPair();
    for (let i = 0; i < 30; i++) {
      clock.advance(1000);
      await settle(4);
    }
    expect(edgeClose.closed || agentClose.closed).toBe(false);
    expect(edge.rttMs).toBe(0);
    expect(agent.rttMs).toBe(0);
  });

  it('stops its heartbeat when destroyed', () => {
    const { session, clock } = createRawPair('edge');
    expect(clock.pending).toBe(1);
    session.destroy();
    expect(clock.pending).toBe(0);
  });
});

describe('Session with a peer that never reads', () => {
  it('closes with TUN_ERR_PEER_TIMEOUT once its transport stays over the high-water mark past deadPeerMs', () => {
    const timers = new FakeTimers();
    let buffered = 0;
    let handlers: TransportHandlers | null = null;
    const transport: Transport = {
      remoteAddress: 'stub',
      get bufferedAmount() {
        return buffered;
      },
      attach: (h) => (handlers = h),
      send: () => undefined,
      sendAll: () => undefined,
      close: () => undefined,
      destroy: () => undefined,
    };
    const session = new Session({
      transport,
      role: 'edge',
      window: 65536,
      maxFramePayload: 65536,
      maxStreams: 10,
      heartbeatMs: 1000,
      deadPeerMs: 3000,
      highWaterMark: 1024,
      timers,
    });
    let closedWith: string | undefined;
    session.on('close', (err) => (closedWith = err?.code));
    // The peer keeps talking (a PING every second) but our writes to it never drain.
    buffered = 10_000;
    const ping = encodeFrame(FrameType.PING, 0, 0, u64(1));
    for (let second = 1; second <= 4; second++) {
      handlers!.onData(ping);
      timers.advance(1000);
      expect(session.isClosed).toBe(false);
    }
    handlers!.onData(ping);
    timers.advance(1000);
    expect(session.isClosed).toBe(true);
    expect(closedWith).toBe('TUN_ERR_PEER_TIMEOUT');
  });

  it('stays open while the transport drains between heartbeats', () => {
    const timers = new FakeTimers();
    let buffered = 10_000;
    const transport: Transport = {
      remoteAddress: 'stub',
      get bufferedAmount() {
        return buffered;
      },
      attach: () => undefined,
      send: () => undefined,
      sendAll: () => undefined,
      close: () => undefined,
      destroy: () => undefined,
    };
    const session = new Session({
      transport,
      role: 'edge',
      window: 65536,
      maxFramePayload: 65536,
      maxStreams: 10,
      heartbeatMs: 1000,
      deadPeerMs: 100_000,
      highWaterMark: 1024,
      timers,
    });
    for (let second = 0; second < 10; second++) {
      buffered = second % 2 === 0 ? 10_000 : 0;
      timers.advance(1000);
    }
    expect(session.isClosed).toBe(false);
    session.destroy();
  });
});
