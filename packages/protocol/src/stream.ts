/**
 * One multiplexed stream: a request/response exchange, or after an upgrade a raw byte pipe.
 *
 * Flow control is credit based and counts DATA payload bytes only. The sender never sends
 * past the credit the receiver granted; the receiver grants credit back (WINDOW) once the
 * application has consumed half a window, so a paused consumer stops the sender after one
 * window and memory per stream stays bounded by the window.
 *
 * Contract: one reader and one writer. `write()` returns false when the caller should wait
 * for 'drain'; `pause()` stops 'data' events and, through withheld credit, the peer.
 */

import { EventEmitter } from 'node:events';
import { TunnelError } from './errors.js';
import { FrameFlag, FrameType } from './frame.js';
import { headLimitProblem, MAX_STATUS_TEXT } from './head-limits.js';
import { isValidStatus } from './http-rules.js';
import { encodeJson, errorMessageOf, type RequestHead, type ResponseHead } from './messages.js';
import { StreamStateMachine, type StreamState } from './stream-state.js';

/** What a stream needs from its session; implemented by Session. */
export interface StreamOwner {
  /** Gives a stream opened locally its id at the moment OPEN is sent, so ids go out in order. */
  allocateStreamId(stream: MuxStream): number;
  writeFrame(type: FrameType, flags: number, streamId: number, payload?: Uint8Array): void;
  /** A frame whose payload is `json` as UTF-8, `bytes` long: encoded in place, no buffer of its own. */
  writeJsonFrame(type: FrameType, flags: number, streamId: number, json: string, bytes: number): void;
  /** Largest DATA payload the peer accepts. */
  readonly peerMaxFramePayload: number;
  /** Our receive window per stream, in bytes. */
  readonly localWindow: number;
  /** True while the transport has more queued than its high-water mark. */
  readonly congested: boolean;
  /** Asks to be told (via onSessionDrain) when the transport drains. */
  waitForDrain(stream: MuxStream): void;
  /** The stream is finished; forget it. */
  release(stream: MuxStream): void;
}

export interface MuxStreamEvents {
  /** The response head arrived (opener side). */
  head: [head: ResponseHead];
  data: [chunk: Buffer];
  /** The peer finished its direction. */
  end: [];
  /** The stream was aborted, by the peer or by the session going away. */
  reset: [err: TunnelError];
  /** write() returned false earlier and the stream can take more now. */
  drain: [];
  /** Both directions are finished or the stream was reset; emitted once. */
  close: [];
}

const WINDOW_UPDATE_SIZE = 4;

export class MuxStream extends EventEmitter<MuxStreamEvents> {
  /** 0 until a locally opened stream sends OPEN. */
  private streamId: number;
  /** The request head from OPEN (acceptor side) or as sent (opener side). */
  requestHead: RequestHead | null = null;
  /** True if OPEN carried the UPGRADE flag. */
  upgrade = false;
  /** True if OPEN carried FIN: the request has no body ('end' still follows the 'stream' event). */
  noBody = false;

  private readonly owner: StreamOwner;
  private readonly machine = new StreamStateMachine();
  private sendCredit: number;
  private readonly outQueue: Buffer[] = [];
  private finQueued = false;
  private wantDrain = false;

  private recvLeft: number;
  private unacked = 0;
  private paused = false;
  private readonly inQueue: Buffer[] = [];
  private endPending = false;
  private closedEmitted = false;

  constructor(owner: StreamOwner, id: number, initialSendCredit: number) {
    super();
    this.owner = owner;
    this.streamId = id;
    this.sendCredit = initialSendCredit;
    this.recvLeft = owner.localWindow;
  }

  get id(): number {
    return this.streamId;
  }

  get state(): StreamState {
    return this.machine.state;
  }

  get finished(): boolean {
    return this.machine.finished;
  }

  /** Bytes accepted by write() but waiting for credit. */
  get queuedBytes(): number {
    let n = 0;
    for (const b of this.outQueue) n += b.length;
    return n;
  }

  // ---- sending -------------------------------------------------------------------------

  /** Opener: sends OPEN with the request head; `fin` when no body follows. */
  open(head: RequestHead, options: { fin: boolean; upgrade: boolean }): void {
    const json = JSON.stringify(head);
    const bytes = Buffer.byteLength(json);
    const problem = this.headProblem(head.headers, bytes);
    if (problem !== null) {
      // Never sent, so the peer knows nothing of it: free the slot and say why to the caller.
      this.machine.transition('sendReset');
      this.teardown();
      throw new TunnelError(
        'TUN_ERR_HEADERS_TOO_LARGE',
        `the request head is too large to forward: ${problem}`,
      );
    }
    this.machine.transition('sendOpen');
    this.streamId = this.owner.allocateStreamId(this);
    this.requestHead = head;
    this.upgrade = options.upgrade;
    let flags = options.upgrade ? FrameFlag.UPGRADE : 0;
    if (options.fin) {
      this.machine.transition('sendFin');
      flags |= FrameFlag.FIN;
    }
    this.owner.writeJsonFrame(FrameType.OPEN, flags, this.id, json, bytes);
    this.afterTransition();
  }

  /**
   * Acceptor: sends the response head; `fin` when no body follows. Throws TUN_ERR_HEAD_INVALID
   * or TUN_ERR_HEAD_TOO_LARGE for a head the peer would refuse, sending nothing: the caller
   * resets the stream with that error.
   */
  respond(head: ResponseHead, options: { fin: boolean }): void {
    // The peer may have reset the stream while the origin was answering: nothing to send.
    if (this.machine.finished) return;
    if (!isValidStatus(head.status)) {
      throw new TunnelError('TUN_ERR_HEAD_INVALID', `status ${head.status} is not a 3-digit HTTP status`);
    }
    if (head.statusText.length > MAX_STATUS_TEXT) {
      throw new TunnelError(
        'TUN_ERR_HEAD_INVALID',
        `the reason phrase is over ${MAX_STATUS_TEXT} characters`,
      );
    }
    const json = JSON.stringify(head);
    const bytes = Buffer.byteLength(json);
    const problem = this.headProblem(head.headers, bytes);
    if (problem !== null) {
      throw new TunnelError(
        'TUN_ERR_HEAD_TOO_LARGE',
        `the response head is too large to forward: ${problem}`,
      );
    }
    this.machine.transition('sendHead');
    let flags = 0;
    if (options.fin) {
      this.machine.transition('sendFin');
      flags |= FrameFlag.FIN;
    }
    this.owner.writeJsonFrame(FrameType.HEAD, flags, this.id, json, bytes);
    this.afterTransition();
  }

  /**
   * Sends body bytes as credit allows; queues the rest. False: wait for 'drain'. The chunk
   * is kept, not copied, until it is written out: the caller must not reuse its memory.
   */
  write(chunk: Buffer): boolean {
    if (!this.machine.canSend || this.finQueued) return false;
    if (chunk.length === 0) return true;
    this.machine.transition('sendData');
    if (this.outQueue.length === 0) chunk = this.sendWithinCredit(chunk);
    if (chunk.length > 0) this.outQueue.push(chunk);
    const ok = this.outQueue.length === 0 && !this.owner.congested;
    if (!ok) this.requestDrain();
    return ok;
  }

  /** Finishes our direction once queued bytes are sent. */
  end(): void {
    if (!this.machine.canSend || this.finQueued) return;
    this.finQueued = true;
    if (this.outQueue.length === 0) this.sendFin();
  }

  /** Aborts both directions and tells the peer why. Safe to call more than once. */
  reset(err: TunnelError): void {
    if (this.machine.finished) return;
    this.machine.transition('sendReset');
    // A stream that never sent OPEN has nothing to tell the peer.
    if (this.streamId !== 0)
      this.owner.writeFrame(FrameType.RESET, 0, this.id, encodeJson(errorMessageOf(err)));
    this.teardown({ discardInput: true });
  }

  // ---- receiving -----------------------------------------------------------------------

  /** Stops 'data' events; the peer stops once the window is used up. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    while (!this.paused && this.inQueue.length > 0) this.deliver(this.inQueue.shift()!);
    if (!this.paused && this.endPending) {
      this.endPending = false;
      this.emit('end');
      if (this.machine.finished) this.emitClose();
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  // ---- called by the session's frame handlers ------------------------------------------

  /** @internal OPEN arrived for this (new) stream. */
  handleOpen(head: RequestHead, flags: number): void {
    this.machine.transition('recvOpen');
    this.requestHead = head;
    this.upgrade = (flags & FrameFlag.UPGRADE) !== 0;
    this.noBody = (flags & FrameFlag.FIN) !== 0;
  }

  /** @internal HEAD arrived. */
  handleHead(head: ResponseHead, flags: number): void {
    this.machine.transition('recvHead');
    this.emit('head', head);
    // A 'head' listener may have reset the stream (a head it cannot forward): FIN is moot then.
    if (flags & FrameFlag.FIN && !this.machine.finished) this.handleFin();
  }

  /**
   * @internal A HEAD arrived that could not be accepted (malformed, over the head limits):
   * a problem of this stream only, so it is reset both ways with `err`.
   */
  handleBadHead(err: TunnelError): void {
    // A HEAD the state does not allow stays a session-level violation.
    this.machine.transition('recvHead');
    this.refuse(err);
  }

  /** @internal Tells the peer (RESET) and the local reader ('reset') that the stream failed. */
  refuse(err: TunnelError): void {
    if (this.machine.finished) return;
    this.machine.transition('sendReset');
    this.owner.writeFrame(FrameType.RESET, 0, this.id, encodeJson(errorMessageOf(err)));
    this.teardown({ err });
  }

  /** @internal DATA arrived; throws TUN_ERR_WINDOW_EXCEEDED on overrun. */
  handleData(payload: Buffer, flags: number): void {
    this.machine.transition('recvData');
    if (payload.length > this.recvLeft) {
      throw new TunnelError(
        'TUN_ERR_WINDOW_EXCEEDED',
        `stream ${this.id}: ${payload.length} bytes sent with ${this.recvLeft} bytes of window left`,
      );
    }
    this.recvLeft -= payload.length;
    if (payload.length > 0) {
      // A queued chunk must not pin the transport's larger buffer, so it is copied.
      if (this.paused || this.inQueue.length > 0) this.inQueue.push(Buffer.from(payload));
      else this.deliver(payload);
    }
    // As for HEAD: a 'data' listener may have reset the stream.
    if (flags & FrameFlag.FIN && !this.machine.finished) this.handleFin();
  }

  /** @internal END arrived (or FIN on another frame). */
  handleFin(): void {
    this.machine.transition('recvFin');
    if (this.paused || this.inQueue.length > 0) this.endPending = true;
    else this.emit('end');
    this.afterTransition();
  }

  /** @internal WINDOW arrived: more credit to send. */
  handleWindow(payload: Buffer): void {
    if (payload.length !== WINDOW_UPDATE_SIZE) {
      throw new TunnelError('TUN_ERR_BAD_MESSAGE', `WINDOW payload must be ${WINDOW_UPDATE_SIZE} bytes`);
    }
    const increment = payload.readUInt32BE(0);
    if (this.machine.finished) return;
    this.sendCredit += increment;
    if (this.sendCredit > 2 ** 31 - 1) {
      throw new TunnelError('TUN_ERR_WINDOW_EXCEEDED', `stream ${this.id}: send window grew past 2^31-1`);
    }
    this.flushQueue();
  }

  /** @internal RESET arrived, or the session went away. */
  handleReset(err: TunnelError): void {
    if (this.machine.finished) return;
    this.machine.transition('recvReset');
    this.teardown({ err });
  }

  /** @internal The session's transport drained. */
  onSessionDrain(): void {
    if (this.wantDrain && this.outQueue.length === 0 && !this.machine.finished) {
      this.wantDrain = false;
      this.emit('drain');
    }
  }

  // ---- internals -----------------------------------------------------------------------

  private deliver(chunk: Buffer): void {
    this.emit('data', chunk);
    if (this.machine.remoteDone) return;
    this.unacked += chunk.length;
    // Granting in half-window steps keeps WINDOW frames rare without starving the sender.
    if (this.unacked >= this.owner.localWindow / 2) {
      const frame = Buffer.allocUnsafe(WINDOW_UPDATE_SIZE);
      frame.writeUInt32BE(this.unacked, 0);
      this.recvLeft += this.unacked;
      this.unacked = 0;
      this.owner.writeFrame(FrameType.WINDOW, 0, this.id, frame);
    }
  }

  /** Why a head's frame would be refused by the peer, or null: the shared head limits, then frame size. */
  private headProblem(headers: readonly string[], bytes: number): string | null {
    const problem = headLimitProblem(headers);
    if (problem !== null) return problem;
    const max = this.owner.peerMaxFramePayload;
    if (bytes > max) return `its frame is ${bytes} bytes, the peer accepts at most ${max}`;
    return null;
  }

  private sendWithinCredit(chunk: Buffer): Buffer {
    const max = this.owner.peerMaxFramePayload;
    while (chunk.length > 0 && this.sendCredit > 0) {
      const n = Math.min(chunk.length, this.sendCredit, max);
      this.owner.writeFrame(FrameType.DATA, 0, this.id, n === chunk.length ? chunk : chunk.subarray(0, n));
      this.sendCredit -= n;
      chunk = chunk.subarray(n);
    }
    return chunk;
  }

  private flushQueue(): void {
    while (this.outQueue.length > 0 && this.sendCredit > 0) {
      const rest = this.sendWithinCredit(this.outQueue[0]!);
      if (rest.length > 0) this.outQueue[0] = rest;
      else this.outQueue.shift();
    }
    if (this.outQueue.length > 0) return;
    if (this.finQueued && this.machine.canSend) this.sendFin();
    if (this.wantDrain && !this.owner.congested) {
      this.wantDrain = false;
      this.emit('drain');
    } else if (this.wantDrain) {
      this.owner.waitForDrain(this);
    }
  }

  private requestDrain(): void {
    this.wantDrain = true;
    if (this.outQueue.length === 0) this.owner.waitForDrain(this);
  }

  private sendFin(): void {
    this.machine.transition('sendFin');
    this.owner.writeFrame(FrameType.END, 0, this.id);
    this.afterTransition();
  }

  private afterTransition(): void {
    if (this.machine.finished) this.teardown();
  }

  /**
   * Frees the stream. A failure (`err`, emitted as 'reset') or a local reset
   * (`discardInput`) drops what a paused reader has not read yet: data and 'end' still to
   * come would report a stream that was aborted as one that finished.
   */
  private teardown(options: { err?: TunnelError; discardInput?: boolean } = {}): void {
    const { err } = options;
    this.outQueue.length = 0;
    if (err !== undefined || options.discardInput === true) {
      this.inQueue.length = 0;
      this.endPending = false;
    }
    this.owner.release(this);
    if (err !== undefined) this.emit('reset', err);
    // A paused reader still has data and 'end' to come; 'close' waits for them.
    if (!this.endPending) this.emitClose();
  }

  private emitClose(): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.emit('close');
  }
}
