import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TunnelError, type ErrorCode } from './errors.js';
import {
  encodeFrame,
  encodeHeader,
  FrameFlag,
  FrameType,
  frameTypeName,
  HEADER_SIZE,
  isFrameType,
  MAX_PAYLOAD_HARD_LIMIT,
  MAX_STREAM_ID,
  PROTOCOL_VERSION,
  readHeader,
  validateHeader,
  type FrameHeader,
} from './frame.js';

function codeOf(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    return (err as TunnelError).code;
  }
  throw new Error('expected a TunnelError, nothing was thrown');
}

function header(over: Partial<FrameHeader> = {}): FrameHeader {
  return { version: PROTOCOL_VERSION, type: FrameType.DATA, flags: 0, streamId: 1, length: 0, ...over };
}

describe('frame constants', () => {
  it('pins the header size, version and limits', () => {
    expect(HEADER_SIZE).toBe(12);
    expect(PROTOCOL_VERSION).toBe(1);
    expect(MAX_PAYLOAD_HARD_LIMIT).toBe(16 * 1024 * 1024);
    expect(MAX_STREAM_ID).toBe(0xffff_ffff);
  });

  it('pins every frame type value', () => {
    expect(FrameType).toEqual({
      HELLO: 0x01,
      HELLO_ACK: 0x02,
      BIND: 0x03,
      BIND_ACK: 0x04,
      UNBIND: 0x05,
      OPEN: 0x06,
      HEAD: 0x07,
      DATA: 0x08,
      END: 0x09,
      RESET: 0x0a,
      WINDOW: 0x0b,
      PING: 0x0c,
      PONG: 0x0d,
      GOAWAY: 0x0e,
      ERROR: 0x0f,
    });
  });

  it('pins the flag bits', () => {
    expect(FrameFlag).toEqual({ FIN: 0x01, UPGRADE: 0x02 });
  });

  it('knows exactly the types 0x01..0x0f', () => {
    for (let t = 0; t <= 0xff; t++) expect(isFrameType(t), `type ${t}`).toBe(t >= 0x01 && t <= 0x0f);
  });

  it('names known types and prints unknown ones as hex', () => {
    expect(frameTypeName(FrameType.GOAWAY)).toBe('GOAWAY');
    expect(frameTypeName(0x10)).toBe('0x10');
    expect(frameTypeName(0)).toBe('0x00');
  });

  it('lists every frame type with its value in docs/protocol.md', () => {
    const spec = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
    for (const [name, value] of Object.entries(FrameType)) {
      const hex = `0x${value.toString(16).padStart(2, '0')}`;
      expect(spec, `${name} = ${hex}`).toMatch(new RegExp(`\\|\\s*\`${hex}\`\\s*\\|\\s*${name}\\s*\\|`));
    }
  });
});

describe('golden frames', () => {
  const golden: [string, Buffer, string][] = [
    [
      'DATA on stream 1 carrying "hi"',
      encodeFrame(FrameType.DATA, 0, 1, Buffer.from('hi')),
      '0108000000000001000000026869',
    ],
    ['END on stream 3', encodeFrame(FrameType.END, 0, 3), '010900000000000300000000'],
    [
      'DATA with FIN and an empty payload',
      encodeFrame(FrameType.DATA, FrameFlag.FIN, 7),
      '010801000000000700000000',
    ],
    [
      'OPEN with FIN|UPGRADE on stream 5 carrying "{}"',
      encodeFrame(FrameType.OPEN, FrameFlag.FIN | FrameFlag.UPGRADE, 5, Buffer.from('{}')),
      '0106030000000005000000027b7d',
    ],
    [
      'WINDOW granting 32768 bytes on stream 1',
      encodeFrame(FrameType.WINDOW, 0, 1, Buffer.from('00008000', 'hex')),
      '010b0000000000010000000400008000',
    ],
    [
      'PING at t=1 ms',
      encodeFrame(FrameType.PING, 0, 0, Buffer.from('0000000000000001', 'hex')),
      '010c000000000000000000080000000000000001',
    ],
    [
      'DATA on the highest stream id',
      encodeFrame(FrameType.DATA, 0, 0xffff_ffff, Buffer.from([0xff])),
      '01080000ffffffff00000001ff',
    ],
    [
      'GOAWAY with wire code 5',
      encodeFrame(FrameType.GOAWAY, 0, 0, Buffer.from('{"code":5,"message":"x"}')),
      '010e00000000000000000018' + Buffer.from('{"code":5,"message":"x"}').toString('hex'),
    ],
  ];

  it.each(golden)('encodes %s', (_name, frame, hex) => {
    expect(frame.toString('hex')).toBe(hex);
  });

  it.each(golden)('reads back the header of %s', (_name, frame) => {
    const h = readHeader(frame, 0);
    expect(h.version).toBe(PROTOCOL_VERSION);
    expect(h.length).toBe(frame.length - HEADER_SIZE);
    expect(() => validateHeader(h, MAX_PAYLOAD_HARD_LIMIT)).not.toThrow();
  });
});

describe('encodeHeader / readHeader', () => {
  it('round-trips every type, flag combination and boundary stream id and length', () => {
    const ids = [0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff];
    const lengths = [0, 1, 255, 256, 65_535, 65_536, MAX_PAYLOAD_HARD_LIMIT, 0xffff_ffff];
    const target = Buffer.alloc(HEADER_SIZE + 3);
    for (const type of Object.values(FrameType)) {
      for (let flags = 0; flags <= 0xff; flags += 0x55) {
        for (const streamId of ids) {
          for (const length of lengths) {
            encodeHeader(target, 3, type, flags, streamId, length);
            expect(readHeader(target, 3)).toEqual({
              version: PROTOCOL_VERSION,
              type,
              flags,
              streamId,
              length,
            });
          }
        }
      }
    }
  });

  it('writes only its 12 bytes, at the offset given, with the reserved byte zero', () => {
    const target = Buffer.alloc(HEADER_SIZE + 4, 0xee);
    encodeHeader(target, 2, FrameType.PING, 0, 0, 8);
    expect(target.toString('hex')).toBe('eeee' + '010c0000' + '00000000' + '00000008' + 'eeee');
  });

  it('ignores the reserved byte on read', () => {
    const frame = Buffer.from('0108001700000001000000026869', 'hex');
    expect(readHeader(frame, 0)).toEqual(header({ streamId: 1, length: 2 }));
  });

  it('copies the payload once into a right-sized frame', () => {
    const payload = Buffer.from('abc');
    const frame = encodeFrame(FrameType.DATA, 0, 9, payload);
    expect(frame.length).toBe(HEADER_SIZE + 3);
    payload[0] = 0x7a;
    expect(frame.subarray(HEADER_SIZE).toString()).toBe('abc');
  });

  it('encodes a zero-length Uint8Array like no payload', () => {
    expect(encodeFrame(FrameType.END, 0, 1, new Uint8Array(0))).toEqual(encodeFrame(FrameType.END, 0, 1));
  });
});

describe('validateHeader', () => {
  it('accepts a frame exactly at the payload limit', () => {
    expect(() => validateHeader(header({ length: 1024 }), 1024)).not.toThrow();
  });

  it('rejects a frame one byte over the payload limit with TUN_ERR_FRAME_TOO_LARGE', () => {
    expect(codeOf(() => validateHeader(header({ length: 1025 }), 1024))).toBe('TUN_ERR_FRAME_TOO_LARGE');
    expect(codeOf(() => validateHeader(header({ length: 0xffff_ffff }), MAX_PAYLOAD_HARD_LIMIT))).toBe(
      'TUN_ERR_FRAME_TOO_LARGE',
    );
  });

  it.each([0, 2, 0xff])('rejects version %i with TUN_ERR_BAD_VERSION', (version) => {
    expect(codeOf(() => validateHeader(header({ version }), 1024))).toBe('TUN_ERR_BAD_VERSION');
  });

  it.each([0x00, 0x10, 0x7f, 0xff])('rejects frame type %i with TUN_ERR_UNKNOWN_FRAME_TYPE', (type) => {
    expect(codeOf(() => validateHeader(header({ type }), 1024))).toBe('TUN_ERR_UNKNOWN_FRAME_TYPE');
  });

  it('checks the version before the type and the type before the length', () => {
    expect(codeOf(() => validateHeader(header({ version: 9, type: 0x99, length: 1e6 }), 1024))).toBe(
      'TUN_ERR_BAD_VERSION',
    );
    expect(codeOf(() => validateHeader(header({ type: 0x99, length: 1e6 }), 1024))).toBe(
      'TUN_ERR_UNKNOWN_FRAME_TYPE',
    );
  });

  it('accepts any flag bits, including ones it does not define', () => {
    expect(() => validateHeader(header({ flags: 0xff }), 1024)).not.toThrow();
  });

  it('names the offending type and sizes in the message', () => {
    try {
      validateHeader(header({ type: FrameType.OPEN, length: 2000 }), 1024);
      expect.unreachable();
    } catch (err) {
      expect((err as TunnelError).message).toBe('OPEN frame of 2000 bytes exceeds the limit of 1024');
    }
  });
});
