/**
 * The frame header: the only module that knows byte offsets.
 *
 *   0        1        2        3        4                 8                 12
 *   +--------+--------+--------+--------+-----------------+-----------------+--------------
 *   |version |  type  | flags  |reserved|  stream id u32  |  length u32     | payload ...
 *   +--------+--------+--------+--------+-----------------+-----------------+--------------
 *
 * All integers are big-endian. `reserved` is sent as zero and ignored on receipt.
 * Stream 0 carries session-level frames; streams opened by the edge have odd ids.
 */

import { TunnelError } from './errors.js';

export const PROTOCOL_VERSION = 1;

const SIZE_VERSION = 1;
const SIZE_TYPE = 1;
const SIZE_FLAGS = 1;
const SIZE_RESERVED = 1;
const SIZE_STREAM_ID = 4;
const SIZE_LENGTH = 4;
export const HEADER_SIZE =
  SIZE_VERSION + SIZE_TYPE + SIZE_FLAGS + SIZE_RESERVED + SIZE_STREAM_ID + SIZE_LENGTH;

const OFFSET_TYPE = SIZE_VERSION;
const OFFSET_FLAGS = OFFSET_TYPE + SIZE_TYPE;
const OFFSET_RESERVED = OFFSET_FLAGS + SIZE_FLAGS;
const OFFSET_STREAM = OFFSET_RESERVED + SIZE_RESERVED;
const OFFSET_LENGTH = OFFSET_STREAM + SIZE_STREAM_ID;

export const FrameType = {
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
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const TYPE_NAMES = new Map<number, keyof typeof FrameType>(
  (Object.keys(FrameType) as (keyof typeof FrameType)[]).map((name) => [FrameType[name], name]),
);

export function isFrameType(value: number): value is FrameType {
  return TYPE_NAMES.has(value);
}

export function frameTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;
}

export const FrameFlag = {
  /** On OPEN, HEAD or DATA: the sender's direction of the stream ends with this frame. */
  FIN: 0b0000_0001,
  /** On OPEN: the request asks for a protocol upgrade; after a 101 HEAD the stream is a raw byte pipe. */
  UPGRADE: 0b0000_0010,
} as const;

/** Largest payload any implementation must accept; the session limit may be lower. */
export const MAX_PAYLOAD_HARD_LIMIT = 16 * 1024 * 1024;
export const MAX_STREAM_ID = 0xffff_ffff;

export interface FrameHeader {
  version: number;
  type: number;
  flags: number;
  streamId: number;
  length: number;
}

/** Writes a header into `target` at `offset`; the caller sizes the buffer. */
export function encodeHeader(
  target: Buffer,
  offset: number,
  type: FrameType,
  flags: number,
  streamId: number,
  length: number,
): void {
  target[offset] = PROTOCOL_VERSION;
  target[offset + OFFSET_TYPE] = type;
  target[offset + OFFSET_FLAGS] = flags;
  target[offset + OFFSET_RESERVED] = 0;
  target.writeUInt32BE(streamId, offset + OFFSET_STREAM);
  target.writeUInt32BE(length, offset + OFFSET_LENGTH);
}

/** Builds a whole frame in one right-sized buffer: one copy of the payload, no concat. */
export function encodeFrame(type: FrameType, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const length = payload ? payload.byteLength : 0;
  const frame = Buffer.allocUnsafe(HEADER_SIZE + length);
  encodeHeader(frame, 0, type, flags, streamId, length);
  if (payload && length > 0) frame.set(payload, HEADER_SIZE);
  return frame;
}

/** Reads the header at `offset` without validating it. */
/** Where each header field sits, for readers that take the fields one by one. */
export const HeaderOffset = {
  TYPE: OFFSET_TYPE,
  FLAGS: OFFSET_FLAGS,
  STREAM: OFFSET_STREAM,
  LENGTH: OFFSET_LENGTH,
} as const;

export function readHeader(source: Buffer, offset: number): FrameHeader {
  return {
    version: source[offset]!,
    type: source[offset + OFFSET_TYPE]!,
    flags: source[offset + OFFSET_FLAGS]!,
    streamId: source.readUInt32BE(offset + OFFSET_STREAM),
    length: source.readUInt32BE(offset + OFFSET_LENGTH),
  };
}

/** Checks a header against the limits before its payload is read; throws a typed error. */
export function validateHeader(header: FrameHeader, maxPayload: number): void {
  checkHeader(header.version, header.type, header.length, maxPayload);
}

/** `validateHeader` on the fields themselves: the decoder's fast path builds no header object. */
export function checkHeader(version: number, type: number, length: number, maxPayload: number): void {
  if (version !== PROTOCOL_VERSION) {
    throw new TunnelError('TUN_ERR_BAD_VERSION', `frame version ${version}, expected ${PROTOCOL_VERSION}`);
  }
  if (!isFrameType(type)) {
    throw new TunnelError('TUN_ERR_UNKNOWN_FRAME_TYPE', `unknown frame type ${frameTypeName(type)}`);
  }
  if (length > maxPayload) {
    throw new TunnelError(
      'TUN_ERR_FRAME_TOO_LARGE',
      `${frameTypeName(type)} frame of ${length} bytes exceeds the limit of ${maxPayload}`,
    );
  }
}
