/**
 * Streaming frame decoder: bytes in, frames out. Payloads are views into the incoming
 * chunk when a payload lies inside one chunk; only a payload that straddles chunks is
 * copied, into a buffer sized to that frame.
 */

import {
  checkHeader,
  HEADER_SIZE,
  HeaderOffset,
  readHeader,
  validateHeader,
  type FrameHeader,
} from './frame.js';

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  /** Valid until the callback returns unless the receiver copies it or keeps the chunk alive. */
  payload: Buffer;
}

export type FrameHandler = (frame: Frame) => void;

const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  private readonly maxPayload: number;
  private readonly onFrame: FrameHandler;
  /** Bytes of an incomplete header carried over from the previous chunk. */
  private headerBytes: Buffer = EMPTY;
  /** The header whose payload is being assembled across chunks. */
  private pending: FrameHeader | null = null;
  private pendingPayload: Buffer = EMPTY;
  private pendingFilled = 0;

  constructor(options: { maxPayload: number; onFrame: FrameHandler }) {
    this.maxPayload = options.maxPayload;
    this.onFrame = options.onFrame;
  }

  /** Feeds bytes; calls onFrame per complete frame. Throws TunnelError on a bad header. */
  push(chunk: Buffer): void {
    let offset = 0;
    if (this.pending) offset = this.fillPending(chunk, 0);
    while (offset < chunk.length) {
      if (this.headerBytes.length > 0 || chunk.length - offset < HEADER_SIZE) {
        offset = this.collectHeader(chunk, offset);
        continue;
      }
      // The usual case, a whole frame in the chunk: its fields read straight into the one
      // Frame object, no header object in between.
      const length = chunk.readUInt32BE(offset + HeaderOffset.LENGTH);
      const type = chunk[offset + HeaderOffset.TYPE]!;
      checkHeader(chunk[offset]!, type, length, this.maxPayload);
      const start = offset + HEADER_SIZE;
      if (chunk.length - start >= length) {
        const frame: Frame = {
          type,
          flags: chunk[offset + HeaderOffset.FLAGS]!,
          streamId: chunk.readUInt32BE(offset + HeaderOffset.STREAM),
          payload: length === 0 ? EMPTY : chunk.subarray(start, start + length),
        };
        offset = start + length;
        this.onFrame(frame);
      } else {
        this.startPending(readHeader(chunk, offset));
        offset = this.fillPending(chunk, start);
      }
    }
  }

  /** Whether the decoder holds a partial frame (useful to detect truncation at close). */
  get hasPartialFrame(): boolean {
    return this.pending !== null || this.headerBytes.length > 0;
  }

  private collectHeader(chunk: Buffer, offset: number): number {
    const need = HEADER_SIZE - this.headerBytes.length;
    const take = Math.min(need, chunk.length - offset);
    this.headerBytes = Buffer.concat([this.headerBytes, chunk.subarray(offset, offset + take)]);
    offset += take;
    if (this.headerBytes.length < HEADER_SIZE) return offset;
    const header = readHeader(this.headerBytes, 0);
    this.headerBytes = EMPTY;
    validateHeader(header, this.maxPayload);
    if (header.length === 0) {
      this.emit(header, EMPTY);
      return offset;
    }
    this.startPending(header);
    return this.fillPending(chunk, offset);
  }

  /** The payload buffer is allocated by fillPending, once it knows the payload straddles chunks. */
  private startPending(header: FrameHeader): void {
    this.pending = header;
    this.pendingPayload = EMPTY;
    this.pendingFilled = 0;
  }

  private fillPending(chunk: Buffer, offset: number): number {
    if (offset >= chunk.length) return offset;
    const header = this.pending!;
    // A header that came alone (a sender writes big payloads after their own header) is
    // followed by a chunk holding the whole payload: a view of it, no copy.
    if (this.pendingFilled === 0 && chunk.length - offset >= header.length) {
      this.pending = null;
      this.emit(header, chunk.subarray(offset, offset + header.length));
      return offset + header.length;
    }
    if (this.pendingPayload.length === 0) this.pendingPayload = Buffer.allocUnsafe(header.length);
    const take = Math.min(header.length - this.pendingFilled, chunk.length - offset);
    chunk.copy(this.pendingPayload, this.pendingFilled, offset, offset + take);
    this.pendingFilled += take;
    offset += take;
    if (this.pendingFilled === header.length) {
      const payload = this.pendingPayload;
      this.pending = null;
      this.pendingPayload = EMPTY;
      this.pendingFilled = 0;
      this.emit(header, payload);
    }
    return offset;
  }

  private emit(header: FrameHeader, payload: Buffer): void {
    this.onFrame({ type: header.type, flags: header.flags, streamId: header.streamId, payload });
  }
}
