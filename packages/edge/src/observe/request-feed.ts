/**
 * The live feed: finished requests handed to whoever watches a tunnel right now (the API's
 * Server-Sent Events stream). A record is formatted once per tunnel and written to each
 * watcher's sink; nothing is queued here. A sink whose unsent bytes pass `maxBufferedBytes`
 * (a reader slower than the tunnel's traffic) is ended with a final event and dropped, so
 * memory per watcher stays bounded. Each user may hold `maxStreamsPerUser` subscriptions.
 */

import { TunnelError, type Timers } from '@burrow/protocol';
import type { RequestObserver, RequestRecord } from './request-observer.js';

/** Defaults: `limits.sseStreamsPerUser`, the unsent bytes a watcher may lag by, the heartbeat period. */
export const DEFAULT_STREAMS_PER_USER = 5;
export const DEFAULT_MAX_BUFFERED_BYTES = 1_048_576;
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Why the feed ended a subscription: its reader fell behind, or the edge is shutting down. */
/** `unauthorized`: the key was revoked or its user disabled after the stream opened. */
export type FeedEndReason = 'slow-reader' | 'edge-closing' | 'unauthorized';

/** Where one watcher's events go. Methods never throw; `buffered` is read after each write. */
export interface FeedSink {
  /** One record's event, as `format` made it (shared by every watcher of the tunnel). */
  event(text: string): void;
  /** Keeps idle connections (and proxies in between) from timing out. */
  heartbeat(): void;
  /** The last call: says why, then closes. */
  end(reason: FeedEndReason): void;
  /** Bytes written and not yet taken by the network. */
  readonly buffered: number;
}

export interface FeedSubscription {
  /** The watcher left: stop writing to its sink (the sink is not ended). Idempotent. */
  close(): void;
}

export interface RequestFeedOptions {
  timers: Timers;
  /** One record as the event text every watcher of its tunnel gets. */
  format(record: RequestRecord): string;
  maxStreamsPerUser?: number;
  maxBufferedBytes?: number;
  heartbeatMs?: number;
}

interface Watcher {
  readonly tunnel: string;
  readonly caller: string;
  /** Only records of this user; undefined for an admin, who sees every record of the tunnel. */
  readonly visibleUserId: string | undefined;
  readonly sink: FeedSink;
  /** Asked at each heartbeat: false ends the stream (`unauthorized`). */
  readonly stillAllowed?: () => Promise<boolean>;
  /** A check is under way: the next heartbeat does not start another. */
  checking?: boolean;
}

export class RequestFeed implements RequestObserver {
  private readonly byTunnel = new Map<string, Set<Watcher>>();
  private readonly perCaller = new Map<string, number>();
  private readonly maxStreamsPerUser: number;
  private readonly maxBufferedBytes: number;
  private readonly heartbeatMs: number;
  private heartbeatTimer: unknown = null;
  private watchers = 0;
  private closed = false;

  constructor(private readonly options: RequestFeedOptions) {
    this.maxStreamsPerUser = options.maxStreamsPerUser ?? DEFAULT_STREAMS_PER_USER;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /** Subscriptions open now. */
  get size(): number {
    return this.watchers;
  }

  /**
   * Starts sending `tunnel`'s new records to `sink`. `caller` is the user the stream counts
   * against; `visibleUserId` limits it to that user's records (undefined: all of them).
   * Throws TUN_ERR_FEED_LIMIT when the caller has `maxStreamsPerUser` open, and
   * TUN_ERR_GOING_AWAY once the feed is closed.
   */
  subscribe(options: {
    tunnel: string;
    caller: string;
    visibleUserId: string | undefined;
    sink: FeedSink;
    /**
     * Whether the key that opened the stream may still read it (not revoked, its user not
     * disabled); asked at each heartbeat. Absent: never asked again.
     */
    stillAllowed?: () => Promise<boolean>;
  }): FeedSubscription {
    if (this.closed) throw new TunnelError('TUN_ERR_GOING_AWAY', 'the edge is shutting down');
    const open = this.perCaller.get(options.caller) ?? 0;
    if (open >= this.maxStreamsPerUser) {
      throw new TunnelError(
        'TUN_ERR_FEED_LIMIT',
        `this user already has ${open} live request streams open (the limit is ${this.maxStreamsPerUser}); close one first`,
      );
    }
    const watcher: Watcher = { ...options };
    let set = this.byTunnel.get(options.tunnel);
    if (set === undefined) {
      set = new Set();
      this.byTunnel.set(options.tunnel, set);
    }
    set.add(watcher);
    this.perCaller.set(options.caller, open + 1);
    if (this.watchers++ === 0) {
      this.heartbeatTimer = this.options.timers.setInterval(() => this.beat(), this.heartbeatMs);
    }
    return { close: () => this.remove(watcher) };
  }

  record(record: RequestRecord): void {
    const set = this.byTunnel.get(record.tunnel);
    if (set === undefined) return;
    let text: string | null = null;
    for (const watcher of set) {
      if (watcher.visibleUserId !== undefined && watcher.visibleUserId !== record.userId) continue;
      text ??= this.options.format(record);
      watcher.sink.event(text);
      if (watcher.sink.buffered > this.maxBufferedBytes) this.drop(watcher, 'slow-reader');
    }
  }

  /** Ends every subscription (`edge-closing`); later subscribes are refused. */
  close(): void {
    this.closed = true;
    for (const set of [...this.byTunnel.values()])
      for (const watcher of set) this.drop(watcher, 'edge-closing');
  }

  private beat(): void {
    for (const set of [...this.byTunnel.values()]) {
      for (const watcher of set) {
        watcher.sink.heartbeat();
        if (watcher.sink.buffered > this.maxBufferedBytes) this.drop(watcher, 'slow-reader');
        else this.recheck(watcher);
      }
    }
  }

  /** A revoked key or a disabled user stops reading within one heartbeat. */
  private recheck(watcher: Watcher): void {
    const check = watcher.stillAllowed;
    if (check === undefined || watcher.checking === true) return;
    watcher.checking = true;
    check().then(
      (allowed) => {
        watcher.checking = false;
        if (!allowed) this.drop(watcher, 'unauthorized');
      },
      // The store failing is no proof the key went bad: ask again at the next heartbeat.
      () => {
        watcher.checking = false;
      },
    );
  }

  private drop(watcher: Watcher, reason: FeedEndReason): void {
    if (this.remove(watcher)) watcher.sink.end(reason);
  }

  /** False when the watcher was gone already. */
  private remove(watcher: Watcher): boolean {
    const set = this.byTunnel.get(watcher.tunnel);
    if (set === undefined || !set.delete(watcher)) return false;
    if (set.size === 0) this.byTunnel.delete(watcher.tunnel);
    const open = (this.perCaller.get(watcher.caller) ?? 1) - 1;
    if (open === 0) this.perCaller.delete(watcher.caller);
    else this.perCaller.set(watcher.caller, open);
    if (--this.watchers === 0) {
      this.options.timers.clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = null;
    }
    return true;
  }
}
