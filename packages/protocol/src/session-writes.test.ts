import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder, type Frame } from './decoder.js';
import { FrameType, HEADER_SIZE } from './frame.js';
import { Session } from './session.js';
import { FakeTimers } from './test-support/fake-timers.js';
import type { Transport } from './transport/transport.js';

/** A session over a transport that records each write: one entry per send() or sendAll(). */
function recordingSession(): { session: Session; writes: Buffer[][] } {
  const writes: Buffer[][] = [];
  const transport: Transport = {
    remoteAddress: 'stub',
    bufferedAmount: 0,
    attach: () => undefined,
    send: (data) => writes.push([data]),
    sendAll: (data) => writes.push([...data]),
    close: () => undefined,
    destroy: () => undefined,
  };
  const session = new Session({
    transport,
    role: 'agent',
    window: 1 << 20,
    maxFramePayload: 1 << 20,
    maxStreams: 10,
    heartbeatMs: 60_000,
    deadPeerMs: 120_000,
    timers: new FakeTimers(),
  });
  return { session, writes };
}

function decodeAll(pieces: Buffer[]): Frame[] {
  const frames: Frame[] = [];
  const decoder = new FrameDecoder({ maxPayload: 1 << 20, onFrame: (f) => frames.push({ ...f }) });
  for (const piece of pieces) decoder.push(piece);
  expect(decoder.hasPartialFrame).toBe(false);
  return frames;
}

const sessions: Session[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.destroy();
});

describe('Session writes', () => {
  it('joins the small frames of one turn into a single transport write', async () => {
    const { session, writes } = recordingSession();
    sessions.push(session);
    session.writeFrame(FrameType.DATA, 0, 1, Buffer.from('a'));
    session.writeFrame(FrameType.DATA, 0, 3, Buffer.from('b'));
    session.writeFrame(FrameType.END, 0, 1);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(1);
    expect(decodeAll(writes[0]!).map((f) => [f.type, f.streamId])).toEqual([
      [FrameType.DATA, 1],
      [FrameType.DATA, 3],
      [FrameType.END, 1],
    ]);
  });

  it('writes a big payload as it is, after its own header, in the same network write as the small frames', async () => {
    const { session, writes } = recordingSession();
    sessions.push(session);
    const big = Buffer.alloc(100 * 1024, 0x61);
    const bigger = Buffer.alloc(80 * 1024, 0x62);
    session.writeFrame(FrameType.DATA, 0, 1, Buffer.from('head'));
    session.writeFrame(FrameType.DATA, 0, 1, big);
    session.writeFrame(FrameType.DATA, 0, 3, bigger);
    session.writeFrame(FrameType.END, 0, 3);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    const pieces = writes[0]!;
    // The payloads themselves, not copies; the small frames and headers between them joined.
    expect(pieces.filter((p) => p === big || p === bigger)).toHaveLength(2);
    expect(pieces.map((p) => p.length)).toEqual([
      HEADER_SIZE + 4 + HEADER_SIZE,
      big.length,
      HEADER_SIZE,
      bigger.length,
      HEADER_SIZE,
    ]);
    const frames = decodeAll(pieces);
    expect(frames.map((f) => [f.type, f.streamId, f.payload.length])).toEqual([
      [FrameType.DATA, 1, 4],
      [FrameType.DATA, 1, big.length],
      [FrameType.DATA, 3, bigger.length],
      [FrameType.END, 3, 0],
    ]);
    expect(frames[1]!.payload.equals(big)).toBe(true);
    expect(frames[2]!.payload.equals(bigger)).toBe(true);
  });

  it('does not copy a big payload even when the whole turn is under 64 KiB', async () => {
    const { session, writes } = recordingSession();
    sessions.push(session);
    const chunk = Buffer.alloc(16 * 1024, 0x64); // exactly the no-copy size
    const under = Buffer.alloc(16 * 1024 - 1, 0x65); // one byte under it: copied into its frame
    session.writeFrame(FrameType.DATA, 0, 1, chunk);
    session.writeFrame(FrameType.DATA, 0, 3, under);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.some((p) => p === chunk)).toBe(true);
    expect(writes[0]!.some((p) => p === under)).toBe(false);
    const frames = decodeAll(writes[0]!);
    expect(frames.map((f) => [f.streamId, f.payload.length])).toEqual([
      [1, chunk.length],
      [3, under.length],
    ]);
  });

  it('keeps each joined run of small frames within 64 KiB', async () => {
    const { session, writes } = recordingSession();
    sessions.push(session);
    const chunk = Buffer.alloc(10 * 1024, 0x63); // under the no-copy size: copied into its frame
    for (let i = 0; i < 20; i++) session.writeFrame(FrameType.DATA, 0, 1, chunk);
    await new Promise((r) => setImmediate(r));
    const pieces = writes.flat();
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(64 * 1024);
    expect(decodeAll(pieces)).toHaveLength(20);
  });
});
