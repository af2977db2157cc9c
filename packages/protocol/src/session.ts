/**
 * The multiplexed session over one transport. It owns the transport: one decoder feeding
 * one handler table, one ordered writer that batches the frames produced in a tick into a
 * single transport write. Streams are opened by the edge only (odd ids); the agent accepts.
 *
 * A protocol violation that desyncs the connection (bad framing, stream-id or stream-state
 * violations, bad control messages) closes the whole session with a GOAWAY carrying the error
 * code. A well-framed OPEN or HEAD whose head cannot be accepted (malformed, over the head
 * limits) is that stream's problem only: it is reset with the code and the session goes on.
 * Nothing throws out of the transport callbacks.
 *
 * `close()` is graceful (GOAWAY, drain in-flight streams, bounded); `destroy()` is at once.
 */

import { EventEmitter } from 'node:events';
import { TunnelError, toTunnelError } from './errors.js';
import { FrameDecoder, type Frame } from './decoder.js';
import { FrameFlag, FrameType, MAX_STREAM_ID } from './frame.js';
import {
  decodeErrorMessage,
  decodeRequestHead,
  decodeResponseHead,
  encodeJson,
  errorMessageOf,
  type RequestHead,
  type ResponseHead,
} from './messages.js';
import { MuxStream, type StreamOwner } from './stream.js';
import type { Transport } from './transport/transport.js';
import { realTimers, type Timers } from './timers.js';
import { SMALL_WRITE, WriteBatch } from './write-batch.js';

export type SessionRole = 'edge' | 'agent';

export interface SessionOptions {
  transport: Transport;
  role: SessionRole;
  /** Largest frame payload we accept. */
  maxFramePayload: number;
  /** Our receive window per stream, in bytes. */
  window: number;
  /** Most streams open at once; OPENs past it are refused with TUN_ERR_TOO_MANY_STREAMS. */
  maxStreams: number;
  /** PING interval. */
  heartbeatMs: number;
  /** A session that hears nothing for this long is closed with TUN_ERR_PEER_TIMEOUT. */
  deadPeerMs: number;
  /** Transport bytes queued above which writers are told to wait. */
  highWaterMark?: number;
  timers?: Timers;
}

/** Control frames the session does not interpret itself; the owner decodes them. */
export type ControlType =
  | typeof FrameType.HELLO
  | typeof FrameType.HELLO_ACK
  | typeof FrameType.BIND
  | typeof FrameType.BIND_ACK
  | typeof FrameType.UNBIND
  | typeof FrameType.ERROR;

export interface SessionEvents {
  control: [type: ControlType, payload: Buffer];
  /** A stream the peer opened (agent side). */
  stream: [stream: MuxStream];
  /** The peer will open no more streams and wants to close after in-flight ones. */
  goaway: [err: TunnelError];
  /** The session is gone; `err` unless it was a clean local close. */
  close: [err: TunnelError | undefined];
}

const PING_SIZE = 8;
type Handler = (frame: Frame) => void;

export class Session extends EventEmitter<SessionEvents> implements StreamOwner {
  readonly role: SessionRole;
  readonly localWindow: number;
  peerMaxFramePayload: number;
  /** Last measured round-trip time in ms, from PING/PONG. */
  rttMs: number | null = null;

  private readonly transport: Transport;
  private readonly options: SessionOptions;
  private readonly timers: Timers;
  private readonly decoder: FrameDecoder;
  private readonly handlers: Record<number, Handler>;
  private readonly streams = new Map<number, MuxStream>();
  /** Streams handed out by openStream() whose OPEN has not been sent yet (they have no id). */
  private readonly unopened = new Set<MuxStream>();
  private readonly drainWaiters = new Set<MuxStream>();
  private readonly highWaterMark: number;
  private peerWindow: number;
  private nextStreamId = 1;
  private highestPeerStreamId = 0;
  /** The frames of the next transport write. */
  private readonly batch = new WriteBatch();
  /** A setImmediate flush is pending (it may find the batch already sent: harmless). */
  private flushScheduled = false;
  /** A microtask flush is pending for a batch past SMALL_WRITE. */
  private flushUrgent = false;
  private lastReceivedAt: number;
  /** When the transport last went over its high-water mark without draining since; 0 if not. */
  private congestedSince = 0;
  private heartbeat: unknown = null;
  private localGoingAway = false;
  private peerGoingAway = false;
  private closed = false;

  constructor(options: SessionOptions) {
    super();
    this.options = options;
    this.role = options.role;
    this.transport = options.transport;
    this.timers = options.timers ?? realTimers;
    this.localWindow = options.window;
    // Until the handshake tells us otherwise, assume the peer accepts what we accept.
    this.peerWindow = options.window;
    this.peerMaxFramePayload = options.maxFramePayload;
    this.highWaterMark = options.highWaterMark ?? 4 * 1024 * 1024;
    this.lastReceivedAt = this.timers.now();
    this.decoder = new FrameDecoder({
      maxPayload: options.maxFramePayload,
      onFrame: (f) => this.dispatch(f),
    });
    this.handlers = this.registerHandlers();
    this.transport.attach({
      onData: (chunk) => this.receive(chunk),
      onDrain: () => this.drained(),
      onClose: (err) => this.transportClosed(err),
    });
    this.heartbeat = this.timers.setInterval(() => this.tick(), options.heartbeatMs);
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True once either side said GOAWAY: no new streams on this session. */
  get goingAway(): boolean {
    return this.localGoingAway || this.peerGoingAway;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  get congested(): boolean {
    return this.transport.bufferedAmount + this.batch.bytes > this.highWaterMark;
  }

  /** Applies the peer's limits from the handshake (HELLO / HELLO_ACK). */
  setPeerLimits(limits: { window: number; maxFramePayload: number }): void {
    this.peerWindow = limits.window;
    this.peerMaxFramePayload = limits.maxFramePayload;
  }

  /** Sends a control message on stream 0. */
  sendControl(type: ControlType, message: object): void {
    this.writeFrame(type, 0, 0, encodeJson(message));
  }

  /** Opens a stream to the peer (edge only). Throws if the session cannot take one. */
  openStream(): MuxStream {
    if (this.role !== 'edge') throw new TunnelError('TUN_ERR_PROTOCOL', 'only the edge opens streams');
    if (this.closed) throw new TunnelError('TUN_ERR_SESSION_CLOSED');
    if (this.goingAway) throw new TunnelError('TUN_ERR_GOING_AWAY');
    if (this.streams.size + this.unopened.size >= this.options.maxStreams) {
      throw new TunnelError('TUN_ERR_TOO_MANY_STREAMS', `session has ${this.streams.size} open streams`);
    }
    if (this.nextStreamId > MAX_STREAM_ID)
      throw new TunnelError('TUN_ERR_GOING_AWAY', 'stream ids exhausted');
    const stream = new MuxStream(this, 0, this.peerWindow);
    this.unopened.add(stream);
    return stream;
  }

  /**
   * Says GOAWAY: asks the peer to open no new streams. In-flight streams continue, and so do
   * OPENs the peer sent before it saw our GOAWAY (dropping them would lose requests).
   */
  goAway(err: TunnelError = new TunnelError('TUN_ERR_GOING_AWAY')): void {
    if (this.localGoingAway || this.closed) return;
    this.localGoingAway = true;
    this.writeFrame(FrameType.GOAWAY, 0, 0, encodeJson(errorMessageOf(err)));
  }

  /** Graceful: GOAWAY, wait for in-flight streams (at most `timeoutMs`), then close. */
  async close(timeoutMs: number, err?: TunnelError): Promise<void> {
    if (this.closed) return;
    this.goAway(err);
    const deadline = this.timers.now() + timeoutMs;
    while (this.streams.size > 0 && !this.closed && this.timers.now() < deadline) {
      await new Promise<void>((resolve) => this.timers.setTimeout(resolve, 20));
    }
    this.shutdown(undefined, true);
  }

  /** At once: every stream is reset with `err`, the transport is dropped. */
  destroy(err?: TunnelError): void {
    this.shutdown(err, false);
  }

  // ---- StreamOwner ---------------------------------------------------------------------

  writeFrame(type: FrameType, flags: number, streamId: number, payload?: Uint8Array): void {
    if (this.closed) return;
    this.batch.add(type, flags, streamId, payload);
    this.scheduleFlush();
  }

  writeJsonFrame(type: FrameType, flags: number, streamId: number, json: string, bytes: number): void {
    if (this.closed) return;
    this.batch.addJson(type, flags, streamId, json, bytes);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    // Small frames (heads, WINDOWs, the body of a small response) wait for the end of the
    // event-loop turn, so the frames of every request handled in that turn share one
    // transport write; a batch that grew big goes out at the end of this task instead.
    if (this.batch.bytes >= SMALL_WRITE) {
      if (!this.flushUrgent) {
        this.flushUrgent = true;
        queueMicrotask(this.flushNow);
      }
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  allocateStreamId(stream: MuxStream): number {
    this.unopened.delete(stream);
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    this.streams.set(id, stream);
    return id;
  }

  waitForDrain(stream: MuxStream): void {
    this.drainWaiters.add(stream);
  }

  release(stream: MuxStream): void {
    this.unopened.delete(stream);
    this.streams.delete(stream.id);
    this.drainWaiters.delete(stream);
  }

  // ---- reading -------------------------------------------------------------------------

  private registerHandlers(): Record<number, Handler> {
    const control = (type: ControlType) => (f: Frame) => {
      this.requireStream0(f);
      this.emit('control', type, f.payload);
    };
    return {
      [FrameType.HELLO]: control(FrameType.HELLO),
      [FrameType.HELLO_ACK]: control(FrameType.HELLO_ACK),
      [FrameType.BIND]: control(FrameType.BIND),
      [FrameType.BIND_ACK]: control(FrameType.BIND_ACK),
      [FrameType.UNBIND]: control(FrameType.UNBIND),
      [FrameType.ERROR]: control(FrameType.ERROR),
      [FrameType.OPEN]: (f) => this.onOpen(f),
      [FrameType.HEAD]: (f) => this.onHead(f),
      [FrameType.DATA]: (f) => this.stream(f)?.handleData(f.payload, f.flags),
      [FrameType.END]: (f) => this.stream(f)?.handleFin(),
      [FrameType.WINDOW]: (f) => this.stream(f)?.handleWindow(f.payload),
      [FrameType.RESET]: (f) => {
        const msg = decodeErrorMessage(f.payload, 'RESET');
        this.stream(f)?.handleReset(TunnelError.fromWire(msg.code, msg.message));
      },
      [FrameType.PING]: (f) => {
        this.requireStream0(f);
        if (f.payload.length !== PING_SIZE)
          throw new TunnelError('TUN_ERR_BAD_MESSAGE', 'PING must carry 8 bytes');
        this.writeFrame(FrameType.PONG, 0, 0, f.payload);
      },
      [FrameType.PONG]: (f) => {
        this.requireStream0(f);
        if (f.payload.length !== PING_SIZE)
          throw new TunnelError('TUN_ERR_BAD_MESSAGE', 'PONG must carry 8 bytes');
        this.rttMs = Math.max(0, this.timers.now() - Number(f.payload.readBigUInt64BE(0)));
      },
      [FrameType.GOAWAY]: (f) => {
        this.requireStream0(f);
        const msg = decodeErrorMessage(f.payload, 'GOAWAY');
        if (this.peerGoingAway) return;
        this.peerGoingAway = true;
        this.emit('goaway', TunnelError.fromWire(msg.code, msg.message));
      },
    };
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.lastReceivedAt = this.timers.now();
    try {
      this.decoder.push(chunk);
    } catch (err) {
      // Decoding and validation throw TunnelErrors; anything else is our own handler's bug, not the peer's.
      this.fail(toTunnelError(err, 'TUN_ERR_INTERNAL'));
    }
  }

  private dispatch(frame: Frame): void {
    if (this.closed) return;
    // The decoder validated the type, so a handler always exists.
    this.handlers[frame.type]!(frame);
  }

  private requireStream0(f: Frame): void {
    if (f.streamId !== 0)
      throw new TunnelError('TUN_ERR_PROTOCOL', 'control frame on a stream id other than 0');
  }

  /** The stream a frame belongs to; undefined for one that already finished (late frames). */
  private stream(f: Frame): MuxStream | undefined {
    if (f.streamId === 0) throw new TunnelError('TUN_ERR_PROTOCOL', 'stream frame on stream 0');
    const stream = this.streams.get(f.streamId);
    if (stream) return stream;
    // Stream ids are odd (edge-opened); a late frame for a finished stream is normal, any other id is not.
    const seen =
      this.role === 'edge' ? f.streamId < this.nextStreamId : f.streamId <= this.highestPeerStreamId;
    const known = f.streamId % 2 === 1 && seen;
    if (!known)
      throw new TunnelError('TUN_ERR_PROTOCOL', `frame for stream ${f.streamId} that was never opened`);
    return undefined;
  }

  private onOpen(f: Frame): void {
    if (this.role === 'edge') throw new TunnelError('TUN_ERR_PROTOCOL', 'agents may not open streams');
    if (f.streamId % 2 !== 1 || f.streamId <= this.highestPeerStreamId) {
      throw new TunnelError('TUN_ERR_PROTOCOL', `OPEN with invalid stream id ${f.streamId}`);
    }
    // Seen from here on, even if refused below: its later frames are late frames, not violations.
    this.highestPeerStreamId = f.streamId;
    let head: RequestHead;
    try {
      head = decodeRequestHead(f.payload);
    } catch (err) {
      const refusal = headRefusal(err, 'TUN_ERR_BAD_MESSAGE');
      this.writeFrame(FrameType.RESET, 0, f.streamId, encodeJson(errorMessageOf(refusal)));
      return;
    }
    const stream = new MuxStream(this, f.streamId, this.peerWindow);
    if (this.streams.size >= this.options.maxStreams) {
      stream.handleOpen(head, f.flags & ~FrameFlag.FIN);
      stream.reset(new TunnelError('TUN_ERR_TOO_MANY_STREAMS'));
      return;
    }
    this.streams.set(stream.id, stream);
    stream.handleOpen(head, f.flags);
    this.emit('stream', stream);
    // FIN on OPEN is applied after 'stream' so the listener attached there sees 'end'.
    if (stream.noBody && !stream.finished) stream.handleFin();
  }

  private onHead(f: Frame): void {
    const stream = this.stream(f);
    if (stream === undefined) return;
    let head: ResponseHead;
    try {
      head = decodeResponseHead(f.payload);
    } catch (err) {
      stream.handleBadHead(headRefusal(err, 'TUN_ERR_HEAD_INVALID'));
      return;
    }
    stream.handleHead(head, f.flags);
  }

  // ---- writing -------------------------------------------------------------------------

  private readonly flushNow = (): void => this.flush();

  private flush(): void {
    this.flushUrgent = false;
    this.flushScheduled = false;
    const buffers = this.batch.take(this.transport.bufferedAmount > 0);
    if (this.closed || buffers.length === 0) return;
    if (buffers.length === 1) this.transport.send(buffers[0]!);
    else this.transport.sendAll(buffers);
  }

  private drained(): void {
    if (this.congested) return;
    const waiters = [...this.drainWaiters];
    this.drainWaiters.clear();
    for (const stream of waiters) stream.onSessionDrain();
  }

  // ---- lifecycle -----------------------------------------------------------------------

  private tick(): void {
    if (this.closed) return;
    const now = this.timers.now();
    if (now - this.lastReceivedAt > this.options.deadPeerMs) {
      this.fail(
        new TunnelError('TUN_ERR_PEER_TIMEOUT', `no frame from the peer for ${now - this.lastReceivedAt} ms`),
      );
      return;
    }
    // A peer that keeps sending but never reads would make us buffer without bound.
    if (!this.congested) this.congestedSince = 0;
    else if (this.congestedSince === 0) this.congestedSince = now;
    else if (now - this.congestedSince > this.options.deadPeerMs) {
      this.fail(
        new TunnelError(
          'TUN_ERR_PEER_TIMEOUT',
          `the peer has not read from the connection for ${now - this.congestedSince} ms`,
        ),
      );
      return;
    }
    const payload = Buffer.allocUnsafe(PING_SIZE);
    payload.writeBigUInt64BE(BigInt(Math.floor(now)), 0);
    this.writeFrame(FrameType.PING, 0, 0, payload);
  }

  /** A protocol violation or dead peer: say why, then drop everything. */
  private fail(err: TunnelError): void {
    if (this.closed) return;
    this.writeFrame(FrameType.GOAWAY, 0, 0, encodeJson(errorMessageOf(err)));
    this.flush();
    this.shutdown(err, true);
  }

  private transportClosed(err?: Error): void {
    if (this.closed) return;
    const reason = err
      ? toTunnelError(err, 'TUN_ERR_SESSION_CLOSED')
      : new TunnelError('TUN_ERR_SESSION_CLOSED', 'the connection closed');
    this.shutdown(reason, false);
  }

  private shutdown(err: TunnelError | undefined, graceful: boolean): void {
    if (this.closed) return;
    if (graceful) this.flush();
    this.closed = true;
    this.timers.clearInterval(this.heartbeat);
    const streamErr = err ?? new TunnelError('TUN_ERR_SESSION_CLOSED');
    for (const stream of [...this.streams.values(), ...this.unopened]) stream.handleReset(streamErr);
    this.streams.clear();
    this.unopened.clear();
    this.drainWaiters.clear();
    if (graceful) this.transport.close();
    else this.transport.destroy();
    this.emit('close', err);
  }
}

/**
 * The error a stream is refused with for a head that failed to decode: a limit error keeps
 * its own code; a malformed head (TUN_ERR_BAD_MESSAGE) gets `malformed`, message kept.
 */
function headRefusal(err: unknown, malformed: 'TUN_ERR_BAD_MESSAGE' | 'TUN_ERR_HEAD_INVALID'): TunnelError {
  if (!(err instanceof TunnelError)) throw err;
  return err.code === 'TUN_ERR_BAD_MESSAGE' ? new TunnelError(malformed, err.message) : err;
}
