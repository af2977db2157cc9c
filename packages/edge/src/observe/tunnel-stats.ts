/**
 * Per-tunnel statistics kept incrementally from finished requests (never a scan of history):
 * counts, status classes, error codes, bytes, latency percentiles over the last minute, hour
 * and day, the last status, open WebSockets. What `GET /tunnels/{name}/stats` shows the
 * tunnel's owner. A name released or freed starts again from zero (`forget`).
 *
 * Memory: a tracked tunnel is a small object plus, for each time bucket that saw a request,
 * one array of latency bins (72 × 4 bytes); at most 6 + 12 + 24 buckets, about 12 KiB for a
 * tunnel busy all day. At most `maxTunnels` are tracked; beyond it the one tracked longest
 * is dropped. A name starts being tracked by a record with an owner (it reached a live
 * target, which names its user) or when `admits` says so (the edge: an agent serves it), so
 * requests for random hostnames cannot crowd real tunnels out.
 */

import type { Clock } from '@burrow/protocol';
import { LATENCY_BIN_COUNT, latencyBin, quantileMs } from './latency-bins.js';
import { LatencyWindow } from './latency-window.js';
import type { RequestObserver, RequestRecord } from './request-observer.js';
import { NO_TUNNEL } from '../store/request-records.js';

/** Default bound on tracked tunnels. */
export const DEFAULT_MAX_TRACKED_TUNNELS = 100_000;
/** Distinct error codes counted per tunnel; the catalog has fewer, so this only guards odd input. */
const MAX_ERROR_CODES = 100;
/** Forgotten names whose forget time is kept (so `since` is right for them); oldest dropped. */
const MAX_FORGOTTEN = 10_000;

/** Latency over one window: how many requests finished in it and their total-time percentiles in ms. */
export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
}

export interface TunnelStatsSnapshot {
  /** Epoch ms counting began for this name: the stats' start, or when the name was last forgotten. */
  since: number;
  /** Plain requests recorded (upgrades not included). */
  requests: number;
  /** Upgrade (WebSocket) exchanges recorded, i.e. finished. */
  upgrades: number;
  /** Records per status class: index 0 is "no status" (the viewer left first), 1–5 are 1xx–5xx. */
  statusClasses: readonly number[];
  /** Records with an error code, by code. */
  errorsByCode: Readonly<Record<string, number>>;
  bytesIn: number;
  bytesOut: number;
  lastStatus: number | null;
  /** Epoch ms the last record arrived. */
  lastAt: number | null;
  /** Upgrades whose 101 went out and whose record has not arrived yet. */
  openWebSockets: number;
  /** Over the total time of plain requests (an upgrade's lasts as long as its connection). */
  latency: { minute: LatencySummary; hour: LatencySummary; day: LatencySummary };
}

class TunnelEntry {
  requests = 0;
  upgrades = 0;
  readonly statusClasses = [0, 0, 0, 0, 0, 0];
  readonly errorsByCode = new Map<string, number>();
  bytesIn = 0;
  bytesOut = 0;
  lastStatus: number | null = null;
  lastAt: number | null = null;
  openWebSockets = 0;
  /** Whose counts these are: the first owner seen; another owner's record starts them over. */
  owner: string | null = null;
  readonly minute = new LatencyWindow(6, 10_000);
  readonly hour = new LatencyWindow(12, 300_000);
  readonly day = new LatencyWindow(24, 3_600_000);

  constructor(readonly since: number) {}
}

export class TunnelStats implements RequestObserver {
  readonly startedAt: number;
  private readonly entries = new Map<string, TunnelEntry>();
  private readonly forgotten = new Map<string, number>();
  private readonly clock: Clock;
  private readonly maxTunnels: number;
  private readonly admits: (name: string) => boolean;
  /** Reused by `get` (single-threaded, never held across calls). */
  private readonly scratch = new Uint32Array(LATENCY_BIN_COUNT);

  /**
   * `admits`: may this untracked name start being tracked (default: every name)? Asked for a
   * new name only, and not for a record with an owner.
   */
  constructor(options: { clock: Clock; maxTunnels?: number; admits?: (name: string) => boolean }) {
    this.clock = options.clock;
    this.maxTunnels = options.maxTunnels ?? DEFAULT_MAX_TRACKED_TUNNELS;
    this.admits = options.admits ?? (() => true);
    this.startedAt = this.clock.now();
  }

  /** Tunnels tracked now. */
  get size(): number {
    return this.entries.size;
  }

  record(record: RequestRecord): void {
    // A refusal that reached no tunnel: there is no name to count it under.
    if (record.tunnel === NO_TUNNEL) return;
    const now = this.clock.now();
    let entry = this.entry(record.tunnel, now, record.userId !== null);
    if (entry === null) return;
    // The name changed hands where this edge did not see it (the CLI, another edge, a BIND
    // claiming a free name): the new owner must not read the old owner's counts.
    if (record.userId !== null && entry.owner !== record.userId) {
      if (entry.owner !== null) {
        this.forget(record.tunnel);
        entry = this.entry(record.tunnel, now, true);
        if (entry === null) return;
      }
      entry.owner = record.userId;
    }
    const status = record.status;
    const statusClass = status >= 100 && status < 600 ? (status / 100) | 0 : 0;
    entry.statusClasses[statusClass] = entry.statusClasses[statusClass]! + 1;
    if (record.errorCode !== null) this.countError(entry, record.errorCode);
    entry.bytesIn += record.bytesIn;
    entry.bytesOut += record.bytesOut;
    entry.lastStatus = status;
    entry.lastAt = now;
    if (record.upgrade) {
      entry.upgrades++;
      if (status === 101 && entry.openWebSockets > 0) entry.openWebSockets--;
      return;
    }
    entry.requests++;
    const bin = latencyBin(record.timing.totalMs);
    entry.minute.add(now, bin);
    entry.hour.add(now, bin);
    entry.day.add(now, bin);
  }

  upgraded(tunnel: string): void {
    const entry = this.entry(tunnel, this.clock.now(), false);
    if (entry !== null) entry.openWebSockets++;
  }

  /** The name changed hands (released, freed, reserved by someone new): its counts go. */
  forget(name: string): void {
    this.entries.delete(name);
    this.remember(name, this.clock.now());
  }

  /**
   * The name's counts; with `owner`, counts another owner made read as none (the name
   * changed hands where this edge did not see it, and no record of the new owner came yet).
   */
  get(name: string, owner?: string | null): TunnelStatsSnapshot {
    const now = this.clock.now();
    const found = this.entries.get(name);
    const entry =
      found !== undefined && owner !== undefined && found.owner !== null && found.owner !== owner
        ? undefined
        : found;
    if (entry === undefined) {
      const none = { count: 0, p50Ms: null, p90Ms: null, p99Ms: null };
      return {
        since: this.forgotten.get(name) ?? this.startedAt,
        requests: 0,
        upgrades: 0,
        statusClasses: [0, 0, 0, 0, 0, 0],
        errorsByCode: {},
        bytesIn: 0,
        bytesOut: 0,
        lastStatus: null,
        lastAt: null,
        openWebSockets: 0,
        latency: { minute: none, hour: { ...none }, day: { ...none } },
      };
    }
    return {
      since: entry.since,
      requests: entry.requests,
      upgrades: entry.upgrades,
      statusClasses: [...entry.statusClasses],
      errorsByCode: Object.fromEntries(entry.errorsByCode),
      bytesIn: entry.bytesIn,
      bytesOut: entry.bytesOut,
      lastStatus: entry.lastStatus,
      lastAt: entry.lastAt,
      openWebSockets: entry.openWebSockets,
      latency: {
        minute: this.summarize(entry.minute, now),
        hour: this.summarize(entry.hour, now),
        day: this.summarize(entry.day, now),
      },
    };
  }

  private summarize(window: LatencyWindow, now: number): LatencySummary {
    const counts = this.scratch;
    counts.fill(0);
    const count = window.mergeInto(now, counts);
    return {
      count,
      p50Ms: quantileMs(counts, count, 0.5),
      p90Ms: quantileMs(counts, count, 0.9),
      p99Ms: quantileMs(counts, count, 0.99),
    };
  }

  private countError(entry: TunnelEntry, code: string): void {
    const seen = entry.errorsByCode.get(code);
    if (seen !== undefined) entry.errorsByCode.set(code, seen + 1);
    else if (entry.errorsByCode.size < MAX_ERROR_CODES) entry.errorsByCode.set(code, 1);
  }

  /** The name's entry, made when `served` or admitted; null when neither. */
  private entry(name: string, now: number, served: boolean): TunnelEntry | null {
    let entry = this.entries.get(name);
    if (entry !== undefined) return entry;
    if (!served && !this.admits(name)) return null;
    if (this.entries.size >= this.maxTunnels) {
      // The dropped name's counts are gone: if it comes back, it counts from then.
      const dropped = this.dropOldest(this.entries);
      if (dropped !== undefined) this.remember(dropped, now);
    }
    // Counting for a name began when it was last forgotten, else when these stats started.
    const forgottenAt = this.forgotten.get(name);
    if (forgottenAt !== undefined) this.forgotten.delete(name);
    entry = new TunnelEntry(forgottenAt ?? this.startedAt);
    this.entries.set(name, entry);
    return entry;
  }

  private remember(name: string, at: number): void {
    this.forgotten.delete(name);
    if (this.forgotten.size >= MAX_FORGOTTEN) this.dropOldest(this.forgotten);
    this.forgotten.set(name, at);
  }

  private dropOldest(map: Map<string, unknown>): string | undefined {
    const oldest = map.keys().next();
    if (oldest.done === true) return undefined;
    map.delete(oldest.value);
    return oldest.value;
  }
}
