import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import { FakeTimers } from '../test-support/fake-timers.js';
import { RequestFeed, type FeedEndReason, type FeedSink } from './request-feed.js';
import { sampleRecord } from './test-support/sample-record.js';

/** A sink that keeps what it got; `buffered` is what a test says the network has not taken. */
class ListSink implements FeedSink {
  readonly events: string[] = [];
  heartbeats = 0;
  ended: FeedEndReason | null = null;
  buffered = 0;
  event(text: string): void {
    this.events.push(text);
  }
  heartbeat(): void {
    this.heartbeats++;
  }
  end(reason: FeedEndReason): void {
    this.ended = reason;
  }
}

function rig(options: { maxStreamsPerUser?: number; maxBufferedBytes?: number } = {}) {
  const timers = new FakeTimers();
  let formatted = 0;
  const feed = new RequestFeed({
    timers,
    heartbeatMs: 15_000,
    format: (record) => {
      formatted++;
      return `event ${record.id}`;
    },
    ...options,
  });
  return { timers, feed, formatted: () => formatted };
}

describe('RequestFeed', () => {
  it("sends a tunnel's records to its watchers only, formatted once for all of them", () => {
    const { feed, formatted } = rig();
    const one = new ListSink();
    const two = new ListSink();
    const other = new ListSink();
    feed.subscribe({ tunnel: 'alpha', caller: 'u1', visibleUserId: 'u1', sink: one });
    feed.subscribe({ tunnel: 'alpha', caller: 'admin', visibleUserId: undefined, sink: two });
    feed.subscribe({ tunnel: 'beta', caller: 'u1', visibleUserId: 'u1', sink: other });
    const record = sampleRecord({ tunnel: 'alpha', userId: 'u1' });
    feed.record(record);
    expect(one.events).toEqual([`event ${record.id}`]);
    expect(two.events).toEqual([`event ${record.id}`]);
    expect(other.events).toEqual([]);
    expect(formatted()).toBe(1);
  });

  it("never shows a user another user's records of the same name; an admin sees them", () => {
    const { feed } = rig();
    const owner = new ListSink();
    const admin = new ListSink();
    feed.subscribe({ tunnel: 'alpha', caller: 'u1', visibleUserId: 'u1', sink: owner });
    feed.subscribe({ tunnel: 'alpha', caller: 'root', visibleUserId: undefined, sink: admin });
    feed.record(sampleRecord({ tunnel: 'alpha', userId: 'u2' }));
    feed.record(sampleRecord({ tunnel: 'alpha', userId: null }));
    expect(owner.events).toHaveLength(0);
    expect(admin.events).toHaveLength(2);
  });

  it('formats nothing when nobody watches the tunnel', () => {
    const { feed, formatted } = rig();
    feed.record(sampleRecord());
    expect(formatted()).toBe(0);
  });

  it('drops a reader whose unsent bytes pass the bound, with a final event, and keeps the others', () => {
    const { feed } = rig({ maxBufferedBytes: 100 });
    const slow = new ListSink();
    const fast = new ListSink();
    feed.subscribe({ tunnel: 'alpha', caller: 'u1', visibleUserId: undefined, sink: slow });
    feed.subscribe({ tunnel: 'alpha', caller: 'u1', visibleUserId: undefined, sink: fast });
    feed.record(sampleRecord());
    slow.buffered = 101;
    feed.record(sampleRecord());
    expect(slow.ended).toBe('slow-reader');
    expect(feed.size).toBe(1);
    feed.record(sampleRecord());
    expect(slow.events).toHaveLength(2);
    expect(fast.events).toHaveLength(3);
    expect(fast.ended).toBeNull();
  });

  it('allows maxStreamsPerUser streams per user and 429s one more, until one closes', () => {
    const { feed } = rig({ maxStreamsPerUser: 2 });
    const first = feed.subscribe({ tunnel: 'a', caller: 'u1', visibleUserId: 'u1', sink: new ListSink() });
    feed.subscribe({ tunnel: 'b', caller: 'u1', visibleUserId: 'u1', sink: new ListSink() });
    let refused: unknown;
    try {
      feed.subscribe({ tunnel: 'a', caller: 'u1', visibleUserId: 'u1', sink: new ListSink() });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(TunnelError);
    expect((refused as TunnelError).code).toBe('TUN_ERR_FEED_LIMIT');
    expect((refused as TunnelError).status).toBe(429);
    // Another user is not affected.
    feed.subscribe({ tunnel: 'a', caller: 'u2', visibleUserId: 'u2', sink: new ListSink() });
    first.close();
    first.close();
    feed.subscribe({ tunnel: 'a', caller: 'u1', visibleUserId: 'u1', sink: new ListSink() });
    expect(feed.size).toBe(3);
  });

  it('sends a heartbeat every 15 s while anyone watches, and runs no timer otherwise', () => {
    const { feed, timers } = rig();
    expect(timers.pending).toBe(0);
    const sink = new ListSink();
    const subscription = feed.subscribe({ tunnel: 'a', caller: 'u1', visibleUserId: 'u1', sink });
    timers.advance(44_999);
    expect(sink.heartbeats).toBe(2);
    timers.advance(1);
    expect(sink.heartbeats).toBe(3);
    subscription.close();
    expect(timers.pending).toBe(0);
  });

  it('drops a reader that does not even take heartbeats', () => {
    const { feed, timers } = rig({ maxBufferedBytes: 10 });
    const sink = new ListSink();
    feed.subscribe({ tunnel: 'a', caller: 'u1', visibleUserId: 'u1', sink });
    sink.buffered = 11;
    timers.advance(15_000);
    expect(sink.ended).toBe('slow-reader');
    expect(timers.pending).toBe(0);
  });

  it('ends a stream whose key stops being allowed, asking at each heartbeat, and keeps it through a failing check', async () => {
    const { feed, timers } = rig();
    const sink = new ListSink();
    const answers: (boolean | Error)[] = [true, new Error('store down'), false];
    let asked = 0;
    feed.subscribe({
      tunnel: 'a',
      caller: 'u1',
      visibleUserId: 'u1',
      sink,
      stillAllowed: () => {
        const answer = answers[asked++]!;
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    });
    const settle = () => new Promise((r) => setImmediate(r));
    timers.advance(15_000);
    await settle();
    expect(sink.ended).toBeNull();
    timers.advance(15_000);
    await settle();
    expect(sink.ended).toBeNull();
    timers.advance(15_000);
    await settle();
    expect(asked).toBe(3);
    expect(sink.ended).toBe('unauthorized');
    expect(feed.size).toBe(0);
    expect(timers.pending).toBe(0);
  });

  it('ends every stream when the edge closes and refuses new ones', () => {
    const { feed, timers } = rig();
    const sinks = [new ListSink(), new ListSink()];
    sinks.forEach((sink, i) => feed.subscribe({ tunnel: `t${i}`, caller: 'u1', visibleUserId: 'u1', sink }));
    feed.close();
    expect(sinks.map((s) => s.ended)).toEqual(['edge-closing', 'edge-closing']);
    expect(timers.pending).toBe(0);
    expect(() =>
      feed.subscribe({ tunnel: 'a', caller: 'u1', visibleUserId: 'u1', sink: new ListSink() }),
    ).toThrow(expect.objectContaining({ code: 'TUN_ERR_GOING_AWAY' }));
  });
});
