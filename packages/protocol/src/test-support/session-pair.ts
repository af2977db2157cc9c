/**
 * Builders and small async helpers for session tests: a connected edge/agent pair over the
 * in-memory transport, a session facing a RawPeer, a tap that records the frames a session
 * receives, and stream helpers (collect a body, write with backpressure, wait for quiet).
 * Test-only support; it does not import the test framework.
 */

import { FrameDecoder } from '../decoder.js';
import type { TunnelError } from '../errors.js';
import { MAX_PAYLOAD_HARD_LIMIT } from '../frame.js';
import type { RequestHead, ResponseHead } from '../messages.js';
import { Session, type SessionOptions, type SessionRole } from '../session.js';
import type { MuxStream } from '../stream.js';
import type { Timers } from '../timers.js';
import { createMemoryTransportPair } from '../transport/memory.js';
import type { Transport } from '../transport/transport.js';
import { FakeTimers } from './fake-timers.js';
import { RawPeer, type RecordedFrame } from './raw-peer.js';

export const TEST_WINDOW = 64 * 1024;
export const TEST_MAX_FRAME = 16 * 1024;

type Tunables = Omit<SessionOptions, 'transport' | 'role'>;

export function sessionDefaults(timers: Timers): Tunables {
  return {
    maxFramePayload: TEST_MAX_FRAME,
    window: TEST_WINDOW,
    maxStreams: 256,
    heartbeatMs: 1000,
    deadPeerMs: 3000,
    timers,
  };
}

/** What a session said when it closed; `closed` flips on the 'close' event. */
export interface CloseWatch {
  closed: boolean;
  err: TunnelError | undefined;
}

export function watchClose(session: Session): CloseWatch {
  const watch: CloseWatch = { closed: false, err: undefined };
  session.once('close', (err) => {
    watch.closed = true;
    watch.err = err;
  });
  return watch;
}

const live = new Set<Session>();

function track(session: Session): Session {
  live.add(session);
  session.once('close', () => live.delete(session));
  return session;
}

/** Destroys every session a builder made that is still open (call from afterEach). */
export function destroyAllSessions(): void {
  for (const session of [...live]) session.destroy();
  live.clear();
}

/** Wraps a transport so every frame it delivers is also passed to `record` (payload copied). */
export function tapIncoming(inner: Transport, record: (frame: RecordedFrame) => void): Transport {
  const decoder = new FrameDecoder({
    maxPayload: MAX_PAYLOAD_HARD_LIMIT,
    onFrame: (f) => record({ ...f, payload: Buffer.from(f.payload) }),
  });
  return {
    attach: (handlers) =>
      inner.attach({
        ...handlers,
        onData: (chunk) => {
          decoder.push(chunk);
          handlers.onData(chunk);
        },
      }),
    send: (data) => inner.send(data),
    sendAll: (data) => inner.sendAll(data),
    get bufferedAmount() {
      return inner.bufferedAmount;
    },
    close: () => inner.close(),
    destroy: () => inner.destroy(),
    remoteAddress: inner.remoteAddress,
  };
}

export interface SessionPair {
  edge: Session;
  agent: Session;
  clock: FakeTimers;
  /** Frames the edge received from the agent, in order. */
  edgeIn: RecordedFrame[];
  /** Frames the agent received from the edge, in order. */
  agentIn: RecordedFrame[];
  /** Both directions in one log, in the order the frames were delivered. */
  wire: { to: 'edge' | 'agent'; frame: RecordedFrame }[];
  edgeClose: CloseWatch;
  agentClose: CloseWatch;
}

/** An edge and an agent session joined by an in-memory transport pair. */
export function createSessionPair(
  options: { edge?: Partial<Tunables>; agent?: Partial<Tunables>; timers?: Timers } = {},
): SessionPair {
  const clock = new FakeTimers();
  const timers = options.timers ?? clock;
  const [edgeSide, agentSide] = createMemoryTransportPair();
  const edgeIn: RecordedFrame[] = [];
  const agentIn: RecordedFrame[] = [];
  const wire: SessionPair['wire'] = [];
  const edge = track(
    new Session({
      ...sessionDefaults(timers),
      ...options.edge,
      transport: tapIncoming(edgeSide, (frame) => {
        edgeIn.push(frame);
        wire.push({ to: 'edge', frame });
      }),
      role: 'edge',
    }),
  );
  const agent = track(
    new Session({
      ...sessionDefaults(timers),
      ...options.agent,
      transport: tapIncoming(agentSide, (frame) => {
        agentIn.push(frame);
        wire.push({ to: 'agent', frame });
      }),
      role: 'agent',
    }),
  );
  return {
    edge,
    agent,
    clock,
    edgeIn,
    agentIn,
    wire,
    edgeClose: watchClose(edge),
    agentClose: watchClose(agent),
  };
}

export interface RawPair {
  session: Session;
  raw: RawPeer;
  clock: FakeTimers;
  sessionClose: CloseWatch;
}

/** One session (of `role`) whose peer is a RawPeer the test drives by hand. */
export function createRawPair(role: SessionRole, options: Partial<Tunables> = {}): RawPair {
  const clock = new FakeTimers();
  const [sessionSide, rawSide] = createMemoryTransportPair();
  const session = track(new Session({ ...sessionDefaults(clock), ...options, transport: sessionSide, role }));
  return { session, raw: new RawPeer(rawSide), clock, sessionClose: watchClose(session) };
}

/** Lets queued microtasks and in-memory deliveries (setImmediate) run `rounds` times over. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Polls (a macrotask at a time) until `check()` is true; rejects after `limit` rounds. */
export async function waitUntil(check: () => boolean, limit = 10_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error('condition not met');
}

/** The peer's body: resolves on 'end' with every 'data' chunk joined, rejects on 'reset'. */
export function collect(stream: MuxStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk) => chunks.push(Buffer.from(chunk)));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('reset', reject);
  });
}

/** Writes `data` in `chunkSize` pieces, waiting for 'drain' when write() says so, then ends. */
export async function writeAll(stream: MuxStream, data: Buffer, chunkSize = 32 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    if (!stream.write(data.subarray(offset, offset + chunkSize))) await drained(stream);
  }
  stream.end();
}

function drained(stream: MuxStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('reset', onReset);
      resolve();
    };
    const onReset = (err: TunnelError): void => {
      stream.off('drain', onDrain);
      reject(err);
    };
    stream.once('drain', onDrain);
    stream.once('reset', onReset);
  });
}

export function requestHead(over: Partial<RequestHead> = {}): RequestHead {
  return {
    tunnel: 'demo',
    method: 'POST',
    path: '/upload?x=%2F',
    headers: ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2'],
    remoteAddress: '203.0.113.7',
    requestId: 'req-1',
    ...over,
  };
}

export function responseHead(over: Partial<ResponseHead> = {}): ResponseHead {
  return { status: 200, statusText: 'OK', headers: ['Content-Type', 'application/octet-stream'], ...over };
}
