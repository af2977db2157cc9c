import { describe, expect, it } from 'vitest';
import { NO_TUNNEL } from '../store/request-records.js';
import { sampleRecord, timedRecord } from './test-support/sample-record.js';
import { TunnelStats } from './tunnel-stats.js';

const DAY = 86_400_000;
/** Midnight, so time buckets (10 s, 5 min, 1 h) start exactly here. */
const T0 = Math.floor(1_700_000_000_000 / DAY) * DAY;

function rig(maxTunnels?: number, admits?: (name: string) => boolean) {
  const clock = { t: T0, now: () => clock.t };
  return { clock, stats: new TunnelStats({ clock, maxTunnels, admits }) };
}

describe('TunnelStats', () => {
  it('gives exact percentiles of total time for known inputs', () => {
    const { stats } = rig();
    for (let i = 0; i < 50; i++) stats.record(timedRecord(10));
    for (let i = 0; i < 40; i++) stats.record(timedRecord(20));
    for (let i = 0; i < 9; i++) stats.record(timedRecord(100));
    stats.record(timedRecord(3000));
    const { latency } = stats.get('alpha');
    expect(latency.minute).toEqual({ count: 100, p50Ms: 10, p90Ms: 20, p99Ms: 100 });
    expect(latency.hour).toEqual(latency.minute);
    expect(latency.day).toEqual(latency.minute);
  });

  it('reports the upper edge of the bin a value falls in', () => {
    const { stats } = rig();
    stats.record(timedRecord(11));
    expect(stats.get('alpha').latency.minute).toEqual({ count: 1, p50Ms: 12.5, p90Ms: 12.5, p99Ms: 12.5 });
  });

  it('lets values leave the minute, hour and day windows as time passes', () => {
    const { clock, stats } = rig();
    for (let i = 0; i < 10; i++) stats.record(timedRecord(500));
    clock.t = T0 + 59_999;
    expect(stats.get('alpha').latency.minute.count).toBe(10);
    clock.t = T0 + 60_000;
    stats.record(timedRecord(40));
    const later = stats.get('alpha').latency;
    expect(later.minute).toEqual({ count: 1, p50Ms: 40, p90Ms: 40, p99Ms: 40 });
    expect(later.hour).toEqual({ count: 11, p50Ms: 500, p90Ms: 500, p99Ms: 500 });
    clock.t = T0 + 3_600_000;
    expect(stats.get('alpha').latency.hour.count).toBe(0);
    expect(stats.get('alpha').latency.day).toEqual({ count: 11, p50Ms: 500, p90Ms: 500, p99Ms: 500 });
    clock.t = T0 + DAY;
    expect(stats.get('alpha').latency.day).toEqual({ count: 0, p50Ms: null, p90Ms: null, p99Ms: null });
    // Counters are since counting began, not windowed.
    expect(stats.get('alpha').requests).toBe(11);
  });

  it('reuses a time bucket when its slot comes round, without the old counts', () => {
    const { clock, stats } = rig();
    stats.record(timedRecord(1000));
    clock.t = T0 + 60_000; // the same slot of the six 10 s buckets, a minute later
    stats.record(timedRecord(2));
    expect(stats.get('alpha').latency.minute).toEqual({ count: 1, p50Ms: 2, p90Ms: 2, p99Ms: 2 });
  });

  it('counts status classes, error codes, bytes and the last status', () => {
    const { clock, stats } = rig();
    stats.record(sampleRecord({ status: 200, bytesIn: 10, bytesOut: 1000 }));
    stats.record(sampleRecord({ status: 404, bytesOut: 20 }));
    stats.record(sampleRecord({ status: 502, errorCode: 'TUN_ERR_ORIGIN_REFUSED' }));
    stats.record(sampleRecord({ status: 502, errorCode: 'TUN_ERR_ORIGIN_REFUSED' }));
    clock.t = T0 + 5_000;
    stats.record(sampleRecord({ status: 0, errorCode: 'TUN_ERR_STREAM_CANCELLED', bytesIn: 5 }));
    const snapshot = stats.get('alpha');
    expect(snapshot.requests).toBe(5);
    expect(snapshot.statusClasses).toEqual([1, 0, 1, 0, 1, 2]);
    expect(snapshot.errorsByCode).toEqual({ TUN_ERR_ORIGIN_REFUSED: 2, TUN_ERR_STREAM_CANCELLED: 1 });
    expect(snapshot.bytesIn).toBe(15);
    expect(snapshot.bytesOut).toBe(1020);
    expect(snapshot.lastStatus).toBe(0);
    expect(snapshot.lastAt).toBe(T0 + 5_000);
    expect(stats.get('beta').requests).toBe(0);
  });

  it('counts nothing for a refusal that reached no tunnel, even where every name is admitted', () => {
    const { stats } = rig();
    stats.record(sampleRecord({ tunnel: NO_TUNNEL, status: 429, errorCode: 'EDGE_RATE_LIMITED' }));
    expect(stats.size).toBe(0);
    expect(stats.get(NO_TUNNEL).requests).toBe(0);
  });

  it('counts open WebSockets as upgraded minus recorded, and keeps upgrades out of latency', () => {
    const { stats } = rig();
    stats.upgraded('alpha');
    stats.upgraded('alpha');
    expect(stats.get('alpha').openWebSockets).toBe(2);
    stats.record(timedRecord(90_000, { upgrade: true, status: 101, bytesIn: 7, bytesOut: 9 }));
    // A refused upgrade never had a 101: it closes nothing.
    stats.record(timedRecord(3, { upgrade: true, status: 401, errorCode: 'POLICY_AUTH_REQUIRED' }));
    const snapshot = stats.get('alpha');
    expect(snapshot.openWebSockets).toBe(1);
    expect(snapshot.upgrades).toBe(2);
    expect(snapshot.requests).toBe(0);
    expect(snapshot.latency.minute.count).toBe(0);
    expect(snapshot.bytesOut).toBe(9);
    // A record after the counts were forgotten never goes below zero.
    stats.forget('alpha');
    stats.record(timedRecord(1, { upgrade: true, status: 101 }));
    expect(stats.get('alpha').openWebSockets).toBe(0);
  });

  it('starts a forgotten name again from zero, counting since it was forgotten', () => {
    const { clock, stats } = rig();
    stats.record(sampleRecord({ status: 200 }));
    clock.t = T0 + 1_000;
    stats.forget('alpha');
    expect(stats.get('alpha')).toMatchObject({ since: T0 + 1_000, requests: 0, lastStatus: null });
    clock.t = T0 + 2_000;
    stats.record(sampleRecord({ status: 201 }));
    expect(stats.get('alpha')).toMatchObject({ since: T0 + 1_000, requests: 1, lastStatus: 201 });
    expect(stats.get('never-seen').since).toBe(T0);
  });

  it("starts over when another owner's record arrives (the name changed hands elsewhere)", () => {
    const { clock, stats } = rig();
    stats.record(sampleRecord({ status: 500, userId: 'user-1', bytesIn: 7 }));
    stats.record(sampleRecord({ status: 200, userId: null, bytesIn: 7 }));
    expect(stats.get('alpha')).toMatchObject({ requests: 2, bytesIn: 14 });
    // Read by the new owner before any record of theirs: nothing of the old owner's shows.
    expect(stats.get('alpha', 'user-2')).toMatchObject({ requests: 0, bytesIn: 0, lastStatus: null });
    expect(stats.get('alpha', 'user-1')).toMatchObject({ requests: 2 });
    clock.t = T0 + 5_000;
    stats.record(sampleRecord({ status: 201, userId: 'user-2', bytesIn: 3 }));
    expect(stats.get('alpha')).toMatchObject({
      since: T0 + 5_000,
      requests: 1,
      bytesIn: 3,
      lastStatus: 201,
      statusClasses: [0, 0, 1, 0, 0, 0],
    });
  });

  it('tracks at most maxTunnels names, dropping the one tracked longest', () => {
    const { clock, stats } = rig(3);
    for (const tunnel of ['a', 'b', 'c']) stats.record(sampleRecord({ tunnel }));
    clock.t = T0 + 7_000;
    stats.record(sampleRecord({ tunnel: 'd' }));
    expect(stats.size).toBe(3);
    expect(stats.get('a')).toMatchObject({ requests: 0, since: T0 + 7_000 });
    expect(stats.get('b').requests).toBe(1);
    expect(stats.get('d').requests).toBe(1);
  });

  it('starts tracking only the names it admits, asking once per name', () => {
    const asked: string[] = [];
    const { stats } = rig(undefined, (name) => {
      asked.push(name);
      return name === 'served';
    });
    // Anonymous records (no owner) and upgrades ask; a record with an owner reached a live target.
    for (let i = 0; i < 3; i++) stats.record(sampleRecord({ tunnel: 'served', userId: null }));
    stats.record(sampleRecord({ tunnel: 'random-scan', userId: null }));
    stats.upgraded('random-scan');
    stats.record(sampleRecord({ tunnel: 'owned', userId: 'u1' }));
    expect(stats.size).toBe(2);
    expect(stats.get('served').requests).toBe(3);
    expect(stats.get('owned').requests).toBe(1);
    expect(stats.get('random-scan')).toMatchObject({ requests: 0, openWebSockets: 0 });
    expect(asked).toEqual(['served', 'random-scan', 'random-scan']);
  });
});
