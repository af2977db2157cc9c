import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, type Frame } from './decoder.js';
import { TunnelError, type ErrorCode } from './errors.js';
import { encodeFrame, FrameFlag, FrameType, HEADER_SIZE } from './frame.js';

interface Decoded {
  type: number;
  flags: number;
  streamId: number;
  payload: string;
}

/** Feeds chunks to a fresh decoder and returns the frames, payloads as hex (copied at once). */
function decodeChunks(chunks: Buffer[], maxPayload = 1 << 20): Decoded[] {
  const out: Decoded[] = [];
  const decoder = new FrameDecoder({
    maxPayload,
    onFrame: (f) =>
      out.push({ type: f.type, flags: f.flags, streamId: f.streamId, payload: f.payload.toString('hex') }),
  });
  for (const chunk of chunks) decoder.push(chunk);
  expect(decoder.hasPartialFrame).toBe(false);
  return out;
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const sorted = [...new Set(cuts)].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of sorted) {
    parts.push(Buffer.from(bytes.subarray(from, cut)));
    from = cut;
  }
  parts.push(Buffer.from(bytes.subarray(from)));
  return parts;
}

function codeOf(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    return (err as TunnelError).code;
  }
  throw new Error('expected a TunnelError, nothing was thrown');
}

const sample = [
  encodeFrame(FrameType.OPEN, FrameFlag.UPGRADE, 1, Buffer.from('{"method":"GET"}')),
  encodeFrame(FrameType.DATA, 0, 1, Buffer.from('hello world')),
  encodeFrame(FrameType.END, 0, 1),
  encodeFrame(FrameType.DATA, FrameFlag.FIN, 3),
  encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8, 7)),
  encodeFrame(FrameType.DATA, 0, 0xffff_ffff, Buffer.alloc(300, 0xab)),
  encodeFrame(FrameType.WINDOW, 0, 5, Buffer.from([0, 0, 1, 0])),
];
const stream = Buffer.concat(sample);
const expected: Decoded[] = [
  {
    type: FrameType.OPEN,
    flags: FrameFlag.UPGRADE,
    streamId: 1,
    payload: Buffer.from('{"method":"GET"}').toString('hex'),
  },
  { type: FrameType.DATA, flags: 0, streamId: 1, payload: Buffer.from('hello world').toString('hex') },
  { type: FrameType.END, flags: 0, streamId: 1, payload: '' },
  { type: FrameType.DATA, flags: FrameFlag.FIN, streamId: 3, payload: '' },
  { type: FrameType.PING, flags: 0, streamId: 0, payload: '07'.repeat(8) },
  { type: FrameType.DATA, flags: 0, streamId: 0xffff_ffff, payload: 'ab'.repeat(300) },
  { type: FrameType.WINDOW, flags: 0, streamId: 5, payload: '00000100' },
];

describe('FrameDecoder reassembly', () => {
  it('decodes frames coalesced in one chunk', () => {
    expect(decodeChunks([stream])).toEqual(expected);
  });

  it('decodes identically when the bytes are split at every single byte boundary', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      expect(decodeChunks(splitAt(stream, [cut])), `cut at ${cut}`).toEqual(expected);
    }
  });

  it('decodes identically when fed one byte at a time', () => {
    expect(
      decodeChunks(
        splitAt(
          stream,
          Array.from({ length: stream.length - 1 }, (_, i) => i + 1),
        ),
      ),
    ).toEqual(expected);
  });

  it('decodes identically under arbitrary splits, including empty chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 40 }), (cuts) => {
        expect(decodeChunks(splitAt(stream, cuts))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes arbitrary well-formed frames under arbitrary splits', () => {
    const frameArb = fc.record({
      type: fc.constantFrom(...Object.values(FrameType)),
      flags: fc.integer({ min: 0, max: 0xff }),
      streamId: fc.integer({ min: 0, max: 0xffff_ffff }),
      payload: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, rawCuts) => {
          const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.flags, f.streamId, f.payload)));
          const cuts = rawCuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length));
          const want = frames.map((f) => ({
            type: f.type,
            flags: f.flags,
            streamId: f.streamId,
            payload: Buffer.from(f.payload).toString('hex'),
          }));
          expect(decodeChunks(splitAt(bytes, cuts))).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('emits a zero-length frame as soon as its header is complete', () => {
    const frames: Frame[] = [];
    const decoder = new FrameDecoder({ maxPayload: 16, onFrame: (f) => frames.push(f) });
    const end = encodeFrame(FrameType.END, 0, 9);
    decoder.push(end.subarray(0, 11));
    expect(frames).toHaveLength(0);
    expect(decoder.hasPartialFrame).toBe(true);
    decoder.push(end.subarray(11));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.payload.length).toBe(0);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  it('reports a partial frame while a payload is incomplete', () => {
    const decoder = new FrameDecoder({ maxPayload: 16, onFrame: () => {} });
    const frame = encodeFrame(FrameType.DATA, 0, 1, Buffer.from('abcdef'));
    decoder.push(frame.subarray(0, HEADER_SIZE + 2));
    expect(decoder.hasPartialFrame).toBe(true);
    decoder.push(frame.subarray(HEADER_SIZE + 2));
    expect(decoder.hasPartialFrame).toBe(false);
  });

  it('accepts an empty chunk at any point', () => {
    const frame = encodeFrame(FrameType.DATA, 0, 1, Buffer.from('abcdef'));
    expect(
      decodeChunks([
        Buffer.alloc(0),
        frame.subarray(0, 5),
        Buffer.alloc(0),
        frame.subarray(5, 14),
        frame.subarray(14),
      ]),
    ).toEqual([
      { type: FrameType.DATA, flags: 0, streamId: 1, payload: Buffer.from('abcdef').toString('hex') },
    ]);
  });
});

describe('FrameDecoder payload ownership', () => {
  it('hands out a view into the chunk when the frame lies inside one chunk', () => {
    const chunk = Buffer.concat([encodeFrame(FrameType.DATA, 0, 1, Buffer.from('abc'))]);
    let payload: Buffer | undefined;
    new FrameDecoder({ maxPayload: 16, onFrame: (f) => (payload = f.payload) }).push(chunk);
    chunk[HEADER_SIZE] = 0x7a; // 'z'
    expect(payload!.toString()).toBe('zbc');
    expect(payload!.byteOffset).toBe(chunk.byteOffset + HEADER_SIZE);
  });

  it('copies a payload that straddles chunks into a buffer of exactly its size', () => {
    const frame = encodeFrame(FrameType.DATA, 0, 1, Buffer.from('abcdef'));
    const first = Buffer.from(frame.subarray(0, HEADER_SIZE + 3));
    const second = Buffer.from(frame.subarray(HEADER_SIZE + 3));
    let payload: Buffer | undefined;
    const decoder = new FrameDecoder({ maxPayload: 16, onFrame: (f) => (payload = f.payload) });
    decoder.push(first);
    decoder.push(second);
    first.fill(0x30);
    second.fill(0x30);
    expect(payload!.toString()).toBe('abcdef');
    expect(payload!.length).toBe(6);
  });

  it('hands out a view when only the header straddles chunks', () => {
    const frame = encodeFrame(FrameType.DATA, 0, 1, Buffer.from('abcdef'));
    const first = Buffer.from(frame.subarray(0, 5));
    const second = Buffer.from(frame.subarray(5));
    let payload: Buffer | undefined;
    const decoder = new FrameDecoder({ maxPayload: 16, onFrame: (f) => (payload = f.payload) });
    decoder.push(first);
    decoder.push(second);
    expect(payload!.toString()).toBe('abcdef');
    expect(payload!.buffer).toBe(second.buffer);
  });

  it('hands out a view of a payload sent after its header alone (how big payloads are written)', () => {
    const payload = Buffer.from('x'.repeat(100));
    const header = encodeFrame(FrameType.DATA, 0, 3, payload).subarray(0, HEADER_SIZE);
    const frames: { streamId: number; payload: Buffer }[] = [];
    const decoder = new FrameDecoder({ maxPayload: 1024, onFrame: (f) => frames.push(f) });
    decoder.push(Buffer.from(header));
    expect(decoder.hasPartialFrame).toBe(true);
    const body = Buffer.concat([payload, encodeFrame(FrameType.END, 0, 3)]);
    decoder.push(body);
    expect(frames.map((f) => f.streamId)).toEqual([3, 3]);
    expect(frames[0]!.payload.equals(payload)).toBe(true);
    expect(frames[0]!.payload.buffer).toBe(body.buffer);
    expect(decoder.hasPartialFrame).toBe(false);
  });
});

describe('FrameDecoder errors', () => {
  function push(hex: string, maxPayload = 16): ErrorCode {
    return codeOf(() => new FrameDecoder({ maxPayload, onFrame: () => {} }).push(Buffer.from(hex, 'hex')));
  }

  it('rejects a bad version with TUN_ERR_BAD_VERSION', () => {
    expect(push('0208000000000001000000026869')).toBe('TUN_ERR_BAD_VERSION');
    expect(push('0008000000000001000000026869')).toBe('TUN_ERR_BAD_VERSION');
  });

  it('rejects an unknown type with TUN_ERR_UNKNOWN_FRAME_TYPE', () => {
    expect(push('0110000000000001000000026869')).toBe('TUN_ERR_UNKNOWN_FRAME_TYPE');
    expect(push('0100000000000001000000026869')).toBe('TUN_ERR_UNKNOWN_FRAME_TYPE');
  });

  it('rejects an oversize length from the header alone, before any payload arrives', () => {
    expect(push('010800000000000100000011', 16)).toBe('TUN_ERR_FRAME_TOO_LARGE');
    expect(push('0108000000000001ffffffff', 16)).toBe('TUN_ERR_FRAME_TOO_LARGE');
  });

  it('rejects a bad header that straddles chunks once its last byte arrives', () => {
    const decoder = new FrameDecoder({ maxPayload: 16, onFrame: () => {} });
    decoder.push(Buffer.from('01ff0000000000', 'hex'));
    expect(codeOf(() => decoder.push(Buffer.from('0100000000', 'hex')))).toBe('TUN_ERR_UNKNOWN_FRAME_TYPE');
  });

  it('delivers the good frames before a bad one in the same chunk', () => {
    const seen: number[] = [];
    const decoder = new FrameDecoder({ maxPayload: 16, onFrame: (f) => seen.push(f.streamId) });
    const chunk = Buffer.concat([
      encodeFrame(FrameType.END, 0, 1),
      encodeFrame(FrameType.END, 0, 3),
      Buffer.from('0199000000000005000000000000', 'hex'),
    ]);
    expect(codeOf(() => decoder.push(chunk))).toBe('TUN_ERR_UNKNOWN_FRAME_TYPE');
    expect(seen).toEqual([1, 3]);
  });

  it('throws only TunnelError for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 8 }), (chunks) => {
        const decoder = new FrameDecoder({ maxPayload: 64, onFrame: () => {} });
        try {
          for (const chunk of chunks) decoder.push(Buffer.from(chunk));
        } catch (err) {
          expect(err).toBeInstanceOf(TunnelError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
