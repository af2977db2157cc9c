/**
 * The frames of one transport write. Small frames (heads, WINDOWs, small bodies) are encoded
 * straight into a slab shared by every session in the process, the way Node pools small
 * buffers: consecutive frames of one batch are one slice of it, so a batch is usually one
 * buffer with no per-frame allocation and no join. The slab is only ever written forward, so
 * bytes already handed to a transport (or to a peer's decoder as payload views) never change.
 * Big payloads are kept as they are, after their own header, never copied.
 */

import { encodeHeader, HEADER_SIZE, type FrameType } from './frame.js';

/** Past this many bytes a batch is written at the end of the current task, not the turn. */
export const SMALL_WRITE = 64 * 1024;

/**
 * A payload this big is written as it is, after its own header, instead of being copied
 * into one frame buffer: bulk transfers then allocate and copy nothing per frame on the
 * sending side (measured in docs/performance.md).
 */
export const COPY_LIMIT = 16 * 1024;

const SLAB_SIZE = 64 * 1024;
let slab = Buffer.allocUnsafe(0);
let slabUsed = 0;

export class WriteBatch {
  /** Bytes of every frame in the batch, headers included. */
  bytes = 0;
  private pieces: Buffer[] = [];
  /** A piece kept as it is (a big payload): the pieces are not to be joined into one buffer. */
  private hasBig = false;
  /** The open run of small frames: `runSlab` from `runStart` to `runEnd`. */
  private runSlab: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;

  add(type: FrameType, flags: number, streamId: number, payload?: Uint8Array): void {
    const length = payload === undefined ? 0 : payload.byteLength;
    if (payload !== undefined && length >= COPY_LIMIT) {
      // Reserve first: it may start a new slab, and `slab` must be read after it.
      const at = this.reserve(HEADER_SIZE);
      encodeHeader(slab, at, type, flags, streamId, length);
      this.cut();
      this.pieces.push(
        Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, length),
      );
      this.hasBig = true;
    } else {
      const at = this.reserve(HEADER_SIZE + length);
      encodeHeader(slab, at, type, flags, streamId, length);
      if (length > 0) slab.set(payload!, at + HEADER_SIZE);
    }
    this.bytes += HEADER_SIZE + length;
  }

  /** A frame whose payload is `json` as UTF-8 (`bytes` long), written into the slab in place. */
  addJson(type: FrameType, flags: number, streamId: number, json: string, bytes: number): void {
    if (bytes >= COPY_LIMIT) {
      this.add(type, flags, streamId, Buffer.from(json, 'utf8'));
      return;
    }
    const at = this.reserve(HEADER_SIZE + bytes);
    encodeHeader(slab, at, type, flags, streamId, bytes);
    slab.write(json, at + HEADER_SIZE, bytes, 'utf8');
    this.bytes += HEADER_SIZE + bytes;
  }

  /**
   * The batch's buffers for one write, and the batch emptied: usually one buffer; several
   * when a big payload or another session's frames came between (small runs are joined up
   * to SMALL_WRITE, big payloads go as they are). `willQueue`: the transport is backed up,
   * so these buffers will wait in its queue; small slab slices are then copied, because a
   * queued 20-byte slice would keep its whole 64 KB slab alive for as long as the peer is slow.
   */
  take(willQueue = false): Buffer[] {
    this.cut();
    const pieces = this.pieces;
    const joinable = !this.hasBig && this.bytes <= SMALL_WRITE;
    this.pieces = [];
    this.bytes = 0;
    this.hasBig = false;
    const out = pieces.length <= 1 ? pieces : joinable ? [Buffer.concat(pieces)] : joinSmall(pieces);
    if (willQueue && pieces.length > 0) {
      for (let i = 0; i < out.length; i++) {
        const piece = out[i]!;
        if (piece.length < COPY_LIMIT && piece.buffer.byteLength > piece.length) out[i] = ownCopy(piece);
      }
    }
    return out;
  }

  /** Room for `n` bytes in the slab, continuing the open run when nothing else wrote since. */
  private reserve(n: number): number {
    if (slab.length - slabUsed < n) {
      slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
      slabUsed = 0;
    }
    if (this.runSlab !== slab || this.runEnd !== slabUsed) {
      this.cut();
      this.runSlab = slab;
      this.runStart = slabUsed;
    }
    const at = slabUsed;
    slabUsed += n;
    this.runEnd = slabUsed;
    return at;
  }

  private cut(): void {
    if (this.runSlab !== null && this.runEnd > this.runStart)
      this.pieces.push(this.runSlab.subarray(this.runStart, this.runEnd));
    this.runSlab = null;
  }
}

/** A copy with memory of its own: `Buffer.from` would share Node's 8 KB pool instead. */
function ownCopy(piece: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(piece.length);
  piece.copy(copy);
  return copy;
}

/**
 * One network write's messages: runs of small pieces (frames, headers) are joined into
 * one buffer of at most SMALL_WRITE, so the peer gets few messages; big pieces (bulk
 * payloads) go as they are, never copied. Message boundaries mean nothing to the decoder.
 */
function joinSmall(pieces: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let run: Buffer[] = [];
  let runBytes = 0;
  const endRun = (): void => {
    if (run.length === 1) out.push(run[0]!);
    else if (run.length > 1) out.push(Buffer.concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const piece of pieces) {
    if (piece.length >= COPY_LIMIT) {
      endRun();
      out.push(piece);
      continue;
    }
    if (runBytes + piece.length > SMALL_WRITE) endRun();
    run.push(piece);
    runBytes += piece.length;
  }
  endRun();
  return out;
}
