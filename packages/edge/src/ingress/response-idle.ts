/**
 * The response body idle timeout: once a response head reached the viewer, a body that
 * sends nothing for `idleMs` is given up on, so a stalled origin cannot hold a viewer (and
 * a stream) forever. Heartbeats of SSE and long polls reset it. Time the viewer spends not
 * reading does not count: then the stream is paused by us, not stalled by the origin.
 */

import type { Writable } from 'node:stream';
import type { Timers } from '@burrow/protocol';

export class ResponseIdle {
  private readonly timers: Timers;
  private readonly idleMs: number;
  private readonly viewer: Writable;
  private readonly onIdle: () => void;
  private lastByteAt: number;
  private timer: unknown = null;

  constructor(timers: Timers, idleMs: number, viewer: Writable, onIdle: () => void) {
    this.timers = timers;
    this.idleMs = idleMs;
    this.viewer = viewer;
    this.onIdle = onIdle;
    this.lastByteAt = timers.now();
    this.arm(idleMs);
  }

  /** A body byte arrived. Only moves a timestamp: one timer per response, re-armed lazily. */
  touch(): void {
    this.lastByteAt = this.timers.now();
  }

  stop(): void {
    if (this.timer === null) return;
    this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(delayMs: number): void {
    this.timer = this.timers.setTimeout(() => this.check(), delayMs);
  }

  private check(): void {
    this.timer = null;
    const now = this.timers.now();
    // A full viewer socket pauses the stream; waiting on the viewer is not the origin's idling.
    if (this.viewer.writableNeedDrain) this.lastByteAt = now;
    const quietMs = now - this.lastByteAt;
    if (quietMs < this.idleMs) this.arm(this.idleMs - quietMs);
    else this.onIdle();
  }
}
