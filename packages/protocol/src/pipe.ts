/**
 * The one way bytes move between a MuxStream and Node streams, on both sides of the tunnel.
 *
 * - `pipeDuplex(stream, socket)`: an upgraded connection, both ways.
 * - `pumpIntoStream(source, stream)`: a Readable (a request or response body) into a stream.
 * - `pumpFromStream(stream, sink)`: a stream into a Writable (a ServerResponse, a socket).
 * - `readableFromStream(stream)`: a stream as a pull-driven Readable, for a consumer that
 *   wants one (undici's request body).
 *
 * In every form: backpressure (a full side pauses the other; the MuxStream's withheld credit
 * then stops the peer), half-close (an end is passed on as an end), and byte counts. Failures
 * are mapped, never thrown: a Node-side error or early close resets the stream with the code
 * `toError` gives (default TUN_ERR_STREAM_CANCELLED); in the duplex form a stream reset
 * destroys the socket. The one-direction forms leave their Node stream to the caller after a
 * reset, since the edge may still answer the viewer with an error page.
 */

import type { EventEmitter } from 'node:events';
import { Readable, type Duplex, type Writable } from 'node:stream';
import { TunnelError } from './errors.js';
import type { MuxStream } from './stream.js';
import type { Timers } from './timers.js';

/** Bytes moved, counted as they are handed on. */
export interface PipeStats {
  /** Node side → stream (sent to the peer). */
  toStream: number;
  /** Stream → Node side (received from the peer). */
  fromStream: number;
}

/** Turns a Node-side failure into the stream's reset reason; `null`: it closed before it ended. */
export type PipeErrorMapper = (err: Error | null) => TunnelError;

/** Called once when the pipe or pump is finished; `err` when it ended by a reset or failure. */
export type PipeDone = (stats: PipeStats, err?: TunnelError) => void;

export interface PipeDuplexOptions {
  /** Bytes already read from the socket (an upgrade's head): sent into the stream first. */
  head?: Buffer;
  toError?: PipeErrorMapper;
  onDone?: PipeDone;
}

export interface PumpOptions {
  /**
   * Sees each chunk before it is handed on; false refuses it and stops the pump (the hook has
   * dealt with the stream: reset it, cut the connection). For counting or length limits.
   */
  onChunk?: (chunk: Buffer) => boolean;
  /** Whether the end of the input ends the output (default true). */
  end?: boolean;
  /** Gives up on an input that sends nothing for a while (slow or stalled bodies). */
  idle?: PumpIdle;
  toError?: PipeErrorMapper;
  onDone?: PipeDone;
}

export interface PumpFromOptions extends PumpOptions {
  /**
   * Writes a chunk in place of `sink.write`, for a sink with its own framing (a held head that
   * goes out with the first byte, an end at a declared length). Returns what `write` would:
   * false, the sink is full and the stream pauses until the sink's 'drain'.
   */
  write?: (chunk: Buffer) => boolean;
}

/**
 * The input idles when it sends nothing for `ms` while the pump reads; time the pump spends
 * waiting on a full output is its own wait, not the input's, and does not count.
 */
export interface PumpIdle {
  ms: number;
  timers: Timers;
  /** The pump has stopped; the caller owns the outcome (reset the stream, answer the viewer). */
  onIdle: () => void;
}

/** A running one-direction pump. */
export interface Pump {
  readonly stats: PipeStats;
  /** Detaches from both sides (nothing else): the caller takes over. */
  stop(): void;
}

const cancelled: PipeErrorMapper = (err) =>
  new TunnelError(
    'TUN_ERR_STREAM_CANCELLED',
    err === null ? 'the connection closed before it ended' : `the connection failed: ${err.message}`,
  );

/** Calls `onDone` once, with the first failure seen. */
function once(stats: PipeStats, onDone: PipeDone | undefined): (err?: TunnelError) => void {
  let called = false;
  return (err) => {
    if (called) return;
    called = true;
    onDone?.(stats, err);
  };
}

/**
 * Joins a stream and a socket both ways until both have ended or either fails. The socket is
 * made half-open, so one side's end passes through while the other keeps sending; the stream
 * and the socket are resumed here.
 */
export function pipeDuplex(stream: MuxStream, socket: Duplex, options: PipeDuplexOptions = {}): PipeStats {
  const stats: PipeStats = { toStream: 0, fromStream: 0 };
  const toError = options.toError ?? cancelled;
  const done = once(stats, options.onDone);
  let failure: TunnelError | undefined;
  let socketEnded = false;
  let streamEnded = false;
  let socketPaused = false;
  let streamPaused = false;

  const fail = (err: Error | null): void => {
    if (!stream.finished) {
      // Set before the reset: the reset emits 'close', which reports the outcome.
      failure ??= toError(err);
      stream.reset(failure);
    }
    socket.destroy();
  };
  const feed = (chunk: Buffer): void => {
    stats.toStream += chunk.length;
    if (stream.write(chunk) || socketPaused) return;
    socketPaused = true;
    socket.pause();
  };

  socket.allowHalfOpen = true;
  socket.on('data', feed);
  socket.on('end', () => {
    socketEnded = true;
    stream.end();
  });
  socket.on('error', fail);
  socket.on('close', () => {
    // Both halves ended cleanly: the stream only waits for credit to send its END.
    if (!stream.finished && !(socketEnded && streamEnded)) fail(null);
  });
  socket.on('drain', () => {
    if (!streamPaused) return;
    streamPaused = false;
    stream.resume();
  });

  stream.on('data', (chunk: Buffer) => {
    stats.fromStream += chunk.length;
    if (socket.write(chunk) || streamPaused) return;
    streamPaused = true;
    stream.pause();
  });
  stream.on('drain', () => {
    if (!socketPaused) return;
    socketPaused = false;
    socket.resume();
  });
  stream.on('end', () => {
    streamEnded = true;
    socket.end();
  });
  stream.on('reset', (err: TunnelError) => {
    failure ??= err;
  });
  stream.on('close', () => {
    // A reset, by the peer or locally: the socket must not outlive the stream.
    if (stream.state === 'reset') socket.destroy();
    done(failure);
  });

  if (options.head !== undefined && options.head.length > 0) feed(options.head);
  // The head may already have filled the stream's credit: then the socket stays paused.
  if (!socketPaused) socket.resume();
  stream.resume();
  return stats;
}

/** Pumps `source` into `stream`: the source pauses while the stream has no credit. */
export function pumpIntoStream(source: Readable, stream: MuxStream, options: PumpOptions = {}): Pump {
  return pumpOneWay(stream, source, options, {
    input: source,
    output: stream,
    write: (chunk) => stream.write(chunk),
    end: () => stream.end(),
    count: 'toStream',
    // A source closed before its end: the viewer or the origin went away mid-body.
    closedEarly: () => true,
  });
}

/** Pumps `stream` into `sink`: the stream pauses (withholding credit) while the sink is full. */
export function pumpFromStream(stream: MuxStream, sink: Writable, options: PumpFromOptions = {}): Pump {
  return pumpOneWay(stream, sink, options, {
    input: stream,
    output: sink,
    write: options.write ?? ((chunk) => sink.write(chunk)),
    end: () => sink.end(),
    count: 'fromStream',
    // A sink closed before everything was written to it: the reader went away.
    closedEarly: () => !sink.writableFinished,
  });
}

/** An event source that a full output can pause: a Readable or a MuxStream. */
interface Pausable extends EventEmitter {
  pause(): unknown;
  resume(): unknown;
}

/** Which side of a one-way pump is which; the MuxStream is one of them, the Node stream the other. */
interface Direction {
  input: Pausable;
  output: EventEmitter;
  write(chunk: Buffer): boolean;
  end(): void;
  count: keyof PipeStats;
  /** At the Node stream's 'close': whether it closed before it was done (a failure). */
  closedEarly(): boolean;
}

/** The one-way pump both directions share: backpressure, end, failures, idle, counts. */
function pumpOneWay(
  stream: MuxStream,
  node: Readable | Writable,
  options: PumpOptions,
  way: Direction,
): Pump {
  const stats: PipeStats = { toStream: 0, fromStream: 0 };
  const toError = options.toError ?? cancelled;
  const done = once(stats, options.onDone);
  const { input, output } = way;
  let failure: TunnelError | undefined;
  let paused = false;

  const onData = (chunk: Buffer): void => {
    if (options.onChunk !== undefined && !options.onChunk(chunk)) {
      stop();
      done();
      return;
    }
    idle?.touch();
    stats[way.count] += chunk.length;
    if (way.write(chunk) || paused) return;
    paused = true;
    input.pause();
  };
  const onDrain = (): void => {
    if (!paused) return;
    paused = false;
    idle?.touch();
    input.resume();
  };
  const onEnd = (): void => {
    stop();
    if (options.end !== false) way.end();
    done();
  };
  const onError = (err: Error): void => fail(err);
  const onClose = (): void => {
    if (way.closedEarly()) fail(null);
  };
  const onReset = (err: TunnelError): void => {
    failure ??= err;
  };
  const onStreamClose = (): void => {
    stop();
    done(failure);
  };
  const fail = (err: Error | null): void => {
    stop();
    if (!stream.finished) {
      failure ??= toError(err);
      stream.reset(failure);
    }
    done(failure);
  };
  const onIdle = (): void => {
    stop();
    options.idle?.onIdle();
    done();
  };
  const stop = (): void => {
    idle?.stop();
    input.off('data', onData);
    input.off('end', onEnd);
    output.off('drain', onDrain);
    node.off('error', onError);
    node.off('close', onClose);
    stream.off('reset', onReset);
    stream.off('close', onStreamClose);
  };

  const idle = options.idle === undefined ? null : new IdleWatch(options.idle, () => paused, onIdle);
  input.on('data', onData);
  input.on('end', onEnd);
  output.on('drain', onDrain);
  node.on('error', onError);
  node.on('close', onClose);
  stream.on('reset', onReset);
  stream.on('close', onStreamClose);
  input.resume();
  return { stats, stop };
}

/**
 * One timer per pump, re-armed lazily: a chunk only moves a timestamp, so the per-chunk cost
 * is a clock read, not a timer.
 */
class IdleWatch {
  private lastActive: number;
  private timer: unknown = null;

  constructor(
    private readonly idle: PumpIdle,
    /** True while the pump waits on a full output: that wait is not the input's idling. */
    private readonly waiting: () => boolean,
    private readonly onIdle: () => void,
  ) {
    this.lastActive = idle.timers.now();
    this.arm(idle.ms);
  }

  touch(): void {
    this.lastActive = this.idle.timers.now();
  }

  stop(): void {
    if (this.timer === null) return;
    this.idle.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(delayMs: number): void {
    this.timer = this.idle.timers.setTimeout(() => this.check(), delayMs);
  }

  private check(): void {
    this.timer = null;
    const now = this.idle.timers.now();
    if (this.waiting()) this.lastActive = now;
    const quietMs = now - this.lastActive;
    if (quietMs < this.idle.ms) this.arm(this.idle.ms - quietMs);
    else this.onIdle();
  }
}

/**
 * A stream's incoming bytes as a Readable that pulls: nothing flows until the consumer reads,
 * and a full buffer pauses the stream, whose withheld credit stops the peer. A reset destroys
 * the Readable with the stream's error. `destroy()` detaches and leaves the stream flowing
 * into nothing, so an unread rest cannot stall the peer.
 */
export class StreamReadable extends Readable {
  readonly stats: PipeStats = { toStream: 0, fromStream: 0 };
  private readonly stream: MuxStream;

  private readonly onData = (chunk: Buffer): void => {
    this.stats.fromStream += chunk.length;
    if (!this.push(chunk)) this.stream.pause();
  };

  private readonly onEnd = (): void => {
    this.push(null);
  };

  private readonly onReset = (err: TunnelError): void => {
    this.destroy(err);
  };

  constructor(stream: MuxStream, options: { highWaterMark?: number } = {}) {
    super({ highWaterMark: options.highWaterMark ?? 64 * 1024 });
    this.stream = stream;
    stream.pause();
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('reset', this.onReset);
  }

  override _read(): void {
    this.stream.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('reset', this.onReset);
    this.stream.resume();
    callback(err);
  }
}
