import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelError } from './errors.js';
import { FrameFlag, FrameType } from './frame.js';
import type { MuxStream } from './stream.js';
import { json, type RecordedFrame } from './test-support/raw-peer.js';
import {
  collect,
  createRawPair,
  createSessionPair,
  destroyAllSessions,
  requestHead,
  responseHead,
  settle,
  TEST_MAX_FRAME,
  TEST_WINDOW,
  waitUntil,
  writeAll,
} from './test-support/session-pair.js';

const W = TEST_WINDOW;

afterEach(() => destroyAllSessions());

function dataBytes(frames: RecordedFrame[], streamId: number): number {
  return frames
    .filter((f) => f.type === FrameType.DATA && f.streamId === streamId)
    .reduce((n, f) => n + f.payload.length, 0);
}

function windowIncrements(frames: RecordedFrame[], streamId: number): number[] {
  return frames
    .filter((f) => f.type === FrameType.WINDOW && f.streamId === streamId)
    .map((f) => f.payload.readUInt32BE(0));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

describe('Session flow control', () => {
  it('a paused reader stops the sender after exactly one window', async () => {
    const { edge, agent, agentIn, edgeIn } = createSessionPair();
    let accepted: MuxStream | undefined;
    agent.on('stream', (stream) => {
      stream.pause();
      accepted = stream;
    });
    const s = edge.openStream();
    s.open(requestHead(), { fin: false, upgrade: false });
    const body = randomBytes(4 * W);
    expect(s.write(body)).toBe(false);
    expect(s.queuedBytes).toBe(3 * W);
    s.end();
    await waitUntil(() => accepted !== undefined);
    await settle(20);

    const delivered: Buffer[] = [];
    accepted!.on('data', (chunk) => delivered.push(Buffer.from(chunk)));
    expect(s.queuedBytes).toBe(3 * W);
    expect(dataBytes(agentIn, s.id)).toBe(W);
    expect(delivered).toHaveLength(0);
    expect(windowIncrements(edgeIn, s.id)).toEqual([]);

    const ended = new Promise<void>((resolve) => accepted!.once('end', () => resolve()));
    accepted!.resume();
    await ended;
    expect(Buffer.concat(delivered).equals(body)).toBe(true);
    expect(s.queuedBytes).toBe(0);
    expect(dataBytes(agentIn, s.id)).toBe(4 * W);
  });

  it('a reader that pauses part-way has no more than one window delivered or in flight', async () => {
    const { edge, agent, agentIn } = createSessionPair();
    let accepted: MuxStream | undefined;
    const delivered: Buffer[] = [];
    let stopAfter = TEST_MAX_FRAME;
    agent.on('stream', (stream) => {
      accepted = stream;
      stream.on('data', (chunk) => {
        delivered.push(Buffer.from(chunk));
        if (Buffer.concat(delivered).length >= stopAfter) stream.pause();
      });
    });
    const s = edge.openStream();
    const body = randomBytes(4 * W);
    s.open(requestHead(), { fin: false, upgrade: false });
    s.write(body);
    s.end();
    await waitUntil(() => accepted !== undefined);
    await settle(20);
    expect(Buffer.concat(delivered).length).toBe(TEST_MAX_FRAME);
    expect(dataBytes(agentIn, s.id)).toBe(W);
    expect(s.queuedBytes).toBe(3 * W);

    stopAfter = Infinity;
    const ended = new Promise<void>((resolve) => accepted!.once('end', () => resolve()));
    accepted!.resume();
    await ended;
    expect(Buffer.concat(delivered).equals(body)).toBe(true);
  });

  it('never has more than one window of DATA outstanding under a stop-and-go reader', async () => {
    const { edge, agent, wire } = createSessionPair();
    let accepted: MuxStream | undefined;
    let received = 0;
    agent.on('stream', (stream) => {
      accepted = stream;
      stream.on('data', (chunk) => {
        received += chunk.length;
        // Pause after roughly every 40 KiB and resume a macrotask later.
        if (received % (40 * 1024) < chunk.length) {
          stream.pause();
          setImmediate(() => stream.resume());
        }
      });
    });
    const s = edge.openStream();
    const body = randomBytes(1024 * 1024 + 123);
    s.open(requestHead(), { fin: false, upgrade: false });
    await writeAll(s, body, 50_000);
    await waitUntil(
      () => accepted !== undefined && accepted.state === 'synReceived' && received === body.length,
    );
    // Every DATA byte the agent received was covered by the initial window plus the credit
    // the edge had received back (WINDOW) before it sent that byte.
    let sent = 0;
    let credit = W;
    for (const { to, frame } of wire) {
      if (frame.streamId !== s.id) continue;
      if (to === 'agent' && frame.type === FrameType.DATA) sent += frame.payload.length;
      if (to === 'edge' && frame.type === FrameType.WINDOW) credit += frame.payload.readUInt32BE(0);
      expect(sent).toBeLessThanOrEqual(credit);
    }
    expect(sent).toBe(body.length);
  });

  it('write() returns false once credit runs out and emits drain when the reader catches up', async () => {
    const { edge, agent } = createSessionPair();
    agent.on('stream', (stream) => stream.on('data', () => {}));
    const s = edge.openStream();
    s.open(requestHead(), { fin: false, upgrade: false });
    expect(s.write(Buffer.alloc(W / 2))).toBe(true);
    expect(s.write(Buffer.alloc(W))).toBe(false);
    expect(s.queuedBytes).toBe(W / 2);
    await new Promise<void>((resolve) => s.once('drain', () => resolve()));
    expect(s.queuedBytes).toBe(0);
  });

  it('grants credit with one WINDOW frame once half the window is consumed', async () => {
    const { edge, agent, edgeIn } = createSessionPair();
    agent.on('stream', (stream) => stream.on('data', () => {}));
    const s = edge.openStream();
    s.open(requestHead(), { fin: false, upgrade: false });
    s.write(Buffer.alloc(W / 2 - 1));
    await settle();
    expect(windowIncrements(edgeIn, s.id)).toEqual([]);
    s.write(Buffer.alloc(1));
    await settle();
    expect(windowIncrements(edgeIn, s.id)).toEqual([W / 2]);
  });

  it('counts only DATA payloads: a large OPEN head uses no window', async () => {
    const { session, raw, sessionClose } = createRawPair('agent', { window: 8192 });
    session.on('stream', (stream) => stream.pause());
    raw.send(FrameType.OPEN, 0, 1, requestHead({ path: '/' + 'x'.repeat(10_000) }));
    raw.send(FrameType.DATA, 0, 1, Buffer.alloc(8192));
    raw.send(FrameType.DATA, 0, 1, Buffer.alloc(0));
    raw.send(FrameType.DATA, FrameFlag.FIN, 1, Buffer.alloc(0));
    await settle();
    expect(sessionClose.closed).toBe(false);
  });

  it('uses the window and frame size the peer announced with setPeerLimits', async () => {
    const small = { window: 8192, maxFramePayload: 4096 };
    const { edge, agent, agentIn, agentClose } = createSessionPair({ agent: small });
    edge.setPeerLimits(small);
    agent.setPeerLimits({ window: W, maxFramePayload: TEST_MAX_FRAME });
    let got: Promise<Buffer> | undefined;
    agent.on('stream', (stream) => {
      got = collect(stream);
      stream.respond(responseHead(), { fin: true });
    });
    const body = randomBytes(100_000);
    const s = edge.openStream();
    s.open(requestHead(), { fin: false, upgrade: false });
    await writeAll(s, body);
    await waitUntil(() => got !== undefined);
    expect((await got!).equals(body)).toBe(true);
    const sizes = agentIn.filter((f) => f.type === FrameType.DATA).map((f) => f.payload.length);
    expect(Math.max(...sizes)).toBe(4096);
    expect(agentClose.closed).toBe(false);
  });

  it('without setPeerLimits a sender assumes its own window, and overruns a smaller peer', async () => {
    const { edge, agentClose } = createSessionPair({ agent: { window: 8192 } });
    const s = edge.openStream();
    s.open(requestHead(), { fin: false, upgrade: false });
    s.write(Buffer.alloc(W));
    await waitUntil(() => agentClose.closed);
    expect(agentClose.err?.code).toBe('TUN_ERR_WINDOW_EXCEEDED');
  });
});

describe('Session window enforcement', () => {
  async function expectWindowExceeded(pair: ReturnType<typeof createRawPair>): Promise<void> {
    const { raw, session, sessionClose } = pair;
    await waitUntil(() => sessionClose.closed);
    expect(sessionClose.err?.code).toBe('TUN_ERR_WINDOW_EXCEEDED');
    expect(session.isClosed).toBe(true);
    await waitUntil(() => raw.closed);
    const goaways = raw.framesOf(FrameType.GOAWAY);
    expect(goaways).toHaveLength(1);
    expect(goaways[0]!.streamId).toBe(0);
    expect(json(goaways[0]!)).toMatchObject({ code: 5 });
  }

  it('rejects DATA beyond the receive window', async () => {
    const pair = createRawPair('agent', { window: 8192 });
    let streamErr: TunnelError | undefined;
    pair.session.on('stream', (stream) => stream.on('reset', (err) => (streamErr = err)));
    pair.raw.send(FrameType.OPEN, 0, 1, requestHead());
    pair.raw.send(FrameType.DATA, 0, 1, Buffer.alloc(8193));
    await expectWindowExceeded(pair);
    expect(streamErr?.code).toBe('TUN_ERR_WINDOW_EXCEEDED');
  });

  it('rejects the first byte past the window of a paused reader', async () => {
    const pair = createRawPair('agent', { window: 8192 });
    pair.session.on('stream', (stream) => stream.pause());
    pair.raw.send(FrameType.OPEN, 0, 1, requestHead());
    pair.raw.send(FrameType.DATA, 0, 1, Buffer.alloc(4096));
    pair.raw.send(FrameType.DATA, 0, 1, Buffer.alloc(4096));
    await settle();
    expect(pair.sessionClose.closed).toBe(false);
    pair.raw.send(FrameType.DATA, 0, 1, Buffer.alloc(1));
    await expectWindowExceeded(pair);
  });

  it('accepts more DATA exactly as far as the WINDOW credit it granted', async () => {
    const { session, raw, sessionClose } = createRawPair('agent', { window: 8192 });
    session.on('stream', (stream) => stream.on('data', () => {}));
    raw.send(FrameType.OPEN, 0, 1, requestHead());
    raw.send(FrameType.DATA, 0, 1, Buffer.alloc(8192));
    await waitUntil(() => raw.framesOf(FrameType.WINDOW).length > 0);
    const granted = raw.framesOf(FrameType.WINDOW).reduce((n, f) => n + f.payload.readUInt32BE(0), 0);
    expect(granted).toBe(8192);
    raw.send(FrameType.DATA, 0, 1, Buffer.alloc(granted));
    await settle();
    expect(sessionClose.closed).toBe(false);
  });

  it('rejects DATA beyond the window on the edge side too', async () => {
    const pair = createRawPair('edge', { window: 8192 });
    const s = pair.session.openStream();
    s.open(requestHead(), { fin: true, upgrade: false });
    pair.raw.send(FrameType.HEAD, 0, 1, responseHead());
    pair.raw.send(FrameType.DATA, 0, 1, Buffer.alloc(8193));
    await expectWindowExceeded(pair);
  });

  it('rejects a WINDOW that grows the send credit past 2^31-1', async () => {
    const { session, raw, sessionClose } = createRawPair('agent');
    session.on('stream', () => {});
    raw.send(FrameType.OPEN, 0, 1, requestHead());
    raw.send(FrameType.WINDOW, 0, 1, u32(2 ** 31 - 1 - W));
    await settle();
    expect(sessionClose.closed).toBe(false);
    raw.send(FrameType.WINDOW, 0, 1, u32(1));
    await waitUntil(() => sessionClose.closed);
    expect(sessionClose.err?.code).toBe('TUN_ERR_WINDOW_EXCEEDED');
  });
});

describe('a local reset of a paused stream', () => {
  for (const ended of [false, true]) {
    it(`discards the queued data${ended ? " and the peer's END" : ''}, and closes at once`, async () => {
      const { edge, agent } = createSessionPair();
      let accepted: MuxStream | undefined;
      agent.on('stream', (stream) => {
        stream.pause();
        accepted = stream;
      });
      const s = edge.openStream();
      s.open(requestHead(), { fin: false, upgrade: false });
      s.write(Buffer.from('queued while paused'));
      if (ended) s.end();
      await waitUntil(() => accepted !== undefined);
      await settle(20);

      const events: string[] = [];
      accepted!.on('data', () => events.push('data'));
      accepted!.on('end', () => events.push('end'));
      accepted!.on('close', () => events.push('close'));
      accepted!.on('reset', () => events.push('reset'));
      accepted!.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the reader gave up'));
      expect(events).toEqual(['close']);
      accepted!.resume();
      await settle(20);
      expect(events).toEqual(['close']);
    });
  }
});
