import { describe, expect, it } from 'vitest';
import { FrameDecoder, type Frame } from './decoder.js';
import { FrameType } from './frame.js';
import { COPY_LIMIT, WriteBatch } from './write-batch.js';

function decodeAll(buffers: readonly Buffer[]): Frame[] {
  const frames: Frame[] = [];
  const decoder = new FrameDecoder({ maxPayload: 1 << 20, onFrame: (f) => frames.push(f) });
  for (const b of buffers) decoder.push(b);
  return frames;
}

describe('WriteBatch', () => {
  it('a big frame whose header starts a new slab leaves every batch taken before untouched', () => {
    // 5,500 big frames need 66,000 bytes of headers: the shared slab rolls over on a big
    // frame's header whatever state the slab was in when the test began.
    const taken: { buffers: Buffer[]; copy: Buffer }[] = [];
    const payload = Buffer.alloc(COPY_LIMIT, 0x61);
    for (let i = 0; i < 5_500; i++) {
      const batch = new WriteBatch();
      batch.add(FrameType.DATA, 0, 2 * i + 1, payload);
      const buffers = batch.take();
      taken.push({ buffers, copy: Buffer.concat(buffers.map((b) => Buffer.from(b))) });
    }
    taken.forEach(({ buffers, copy }, i) => {
      expect(Buffer.concat(buffers).equals(copy), `batch ${i} changed after it was taken`).toBe(true);
      const frames = decodeAll(buffers);
      expect(frames.map((f) => [f.type, f.streamId, f.payload.length])).toEqual([
        [FrameType.DATA, 2 * i + 1, COPY_LIMIT],
      ]);
    });
  });

  it('small frames are one slice of the shared slab, copied only when the transport will queue them', () => {
    const batch = new WriteBatch();
    batch.add(FrameType.WINDOW, 0, 1, Buffer.alloc(4, 1));
    batch.add(FrameType.DATA, 0, 1, Buffer.from('hello'));
    const [direct] = batch.take();
    expect(direct!.length).toBe(12 + 4 + 12 + 5);
    // A slice: its memory is the whole slab.
    expect(direct!.buffer.byteLength).toBeGreaterThan(direct!.length);

    batch.add(FrameType.DATA, 0, 1, Buffer.from('hello'));
    const [queued] = batch.take(true);
    expect(queued!.buffer.byteLength).toBe(queued!.length);
    expect(decodeAll([queued!]).map((f) => f.payload.toString())).toEqual(['hello']);
  });

  it('big payloads are never copied, queued or not', () => {
    const payload = Buffer.alloc(COPY_LIMIT, 0x62);
    const batch = new WriteBatch();
    batch.add(FrameType.DATA, 0, 1, payload);
    const buffers = batch.take(true);
    expect(buffers.some((b) => b === payload)).toBe(true);
  });
});
