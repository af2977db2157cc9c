import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelError } from './errors.js';
import { FrameFlag, FrameType } from './frame.js';
import { realTimers } from './timers.js';
import type { MuxStream } from './stream.js';
import { json } from './test-support/raw-peer.js';
import {
  collect,
  createRawPair,
  createSessionPair,
  destroyAllSessions,
  requestHead,
  responseHead,
  settle,
  waitUntil,
  writeAll,
} from './test-support/session-pair.js';

afterEach(() => destroyAllSessions());

function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    return (err as TunnelError).code;
  }
  throw new Error('expected a TunnelError, nothing was thrown');
}

/** Agent side: answers every stream with `status`, echoing the request body back. */
function serveEcho(agent: ReturnType<typeof createSessionPair>['agent']): void {
  agent.on('stream', (stream) => {
    void collect(stream).then(
      (body) => {
        stream.respond(responseHead({ headers: ['X-Stream', String(stream.id)] }), { fin: false });
        return writeAll(stream, body);
      },
      () => {},
    );
  });
}

describe('Session streams', () => {
  it('opens a stream from the edge and hands the agent the request head', async () => {
    const { edge, agent } = createSessionPair();
    const accepted: MuxStream[] = [];
    agent.on('stream', (s) => accepted.push(s));
    const head = requestHead();
    const s = edge.openStream();
    expect(s.state).toBe('init');
    s.open(head, { fin: true, upgrade: false });
    expect(s.state).toBe('synSent');
    await waitUntil(() => accepted.length === 1);
    expect(accepted[0]!.id).toBe(1);
    expect(accepted[0]!.requestHead).toEqual(head);
    expect(accepted[0]!.upgrade).toBe(false);
    expect(accepted[0]!.state).toBe('synReceived');
    expect(agent.streamCount).toBe(1);
  });

  it("lets a 'stream' listener see noBody and 'end' for an OPEN that carried FIN", async () => {
    const { edge, agent } = createSessionPair();
    const seen = new Promise<{ noBody: boolean; ended: boolean }>((resolve) =>
      agent.on('stream', (s) => {
        const noBody = s.noBody;
        s.on('end', () => resolve({ noBody, ended: true }));
      }),
    );
    edge.openStream().open(requestHead(), { fin: true, upgrade: false });
    expect(await seen).toEqual({ noBody: true, ended: true });
  });

  it('gives edge-opened streams odd, increasing ids in the order OPEN is sent', () => {
    const { edge } = createSessionPair();
    const streams = [edge.openStream(), edge.openStream(), edge.openStream()];
    expect(streams.map((s) => s.id)).toEqual([0, 0, 0]);
    for (const s of [streams[2]!, streams[0]!, streams[1]!])
      s.open(requestHead(), { fin: true, upgrade: false });
    expect(streams.map((s) => s.id)).toEqual([3, 5, 1]);
  });

  it('refuses openStream on the agent with TUN_ERR_PROTOCOL', () => {
    const { agent } = createSessionPair();
    expect(thrownCode(() => agent.openStream())).toBe('TUN_ERR_PROTOCOL');
  });

  it('carries a request body and a response body both ways, byte-exact', async () => {
    const { edge, agent } = createSessionPair();
    const request = randomBytes(300 * 1024);
    const response = randomBytes(500 * 1024);
    let agentGot: Promise<Buffer> | undefined;
    agent.on('stream', (stream) => {
      agentGot = collect(stream);
      stream.respond(responseHead({ status: 201, statusText: 'Created' }), { fin: false });
      void writeAll(stream, response);
    });
    const s = edge.openStream();
    const head = new Promise((resolve) => s.once('head', resolve));
    const edgeGot = collect(s);
    s.open(requestHead(), { fin: false, upgrade: false });
    await writeAll(s, request);
    expect(await head).toEqual(responseHead({ status: 201, statusText: 'Created' }));
    expect((await edgeGot).equals(response)).toBe(true);
    expect((await agentGot!).equals(request)).toBe(true);
    await waitUntil(() => edge.streamCount === 0 && agent.streamCount === 0);
    expect(s.state).toBe('closed');
  });

  it('puts FIN on OPEN and HEAD when no body follows, and sends no END', async () => {
    const { edge, agent, edgeIn, agentIn } = createSessionPair();
    agent.on('stream', (stream) => stream.respond(responseHead({ status: 204 }), { fin: true }));
    const s = edge.openStream();
    const events: string[] = [];
    s.on('head', () => events.push('head'));
    s.on('end', () => events.push('end'));
    s.on('close', () => events.push('close'));
    s.open(requestHead({ method: 'GET' }), { fin: true, upgrade: false });
    await waitUntil(() => events.includes('close'));
    expect(events).toEqual(['head', 'end', 'close']);
    expect(agentIn.map((f) => [f.type, f.flags])).toEqual([[FrameType.OPEN, FrameFlag.FIN]]);
    expect(edgeIn.map((f) => [f.type, f.flags])).toEqual([[FrameType.HEAD, FrameFlag.FIN]]);
    expect(edge.streamCount).toBe(0);
    expect(agent.streamCount).toBe(0);
  });

  it('sends END after the body when the writer ends', async () => {
    const { edge, agent, agentIn } = createSessionPair();
    const bodies: Promise<Buffer>[] = [];
    agent.on('stream', (stream) => bodies.push(collect(stream)));
    const s = edge.openStream();
    s.open(requestHead(), { fin: false, upgrade: false });
    s.write(Buffer.from('abc'));
    s.end();
    await waitUntil(() => bodies.length === 1);
    expect((await bodies[0]!).toString()).toBe('abc');
    expect(agentIn.map((f) => [f.type, f.flags, f.streamId])).toEqual([
      [FrameType.OPEN, 0, 1],
      [FrameType.DATA, 0, 1],
      [FrameType.END, 0, 1],
    ]);
    expect(s.state).toBe('synSent');
  });

  it('carries UPGRADE on OPEN and then pipes raw bytes both ways after a 101 head', async () => {
    const { edge, agent, agentIn } = createSessionPair();
    agent.on('stream', (stream) => {
      expect(stream.upgrade).toBe(true);
      stream.respond(responseHead({ status: 101, statusText: 'Switching Protocols' }), { fin: false });
      stream.on('data', (chunk) => stream.write(Buffer.from(chunk.toString().toUpperCase())));
      stream.on('end', () => stream.end());
    });
    const s = edge.openStream();
    const got = collect(s);
    s.open(requestHead({ method: 'GET' }), { fin: false, upgrade: true });
    await new Promise((resolve) => s.once('head', resolve));
    s.write(Buffer.from('ping'));
    await waitUntil(() => agentGotData());
    s.end();
    expect((await got).toString()).toBe('PING');
    expect(agentIn[0]!.flags & FrameFlag.UPGRADE).toBe(FrameFlag.UPGRADE);
    function agentGotData(): boolean {
      return agentIn.some((f) => f.type === FrameType.DATA);
    }
  });

  it('runs 200 concurrent streams with no cross-talk', async () => {
    const { edge, agent } = createSessionPair();
    serveEcho(agent);
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const body = Buffer.concat([Buffer.from(`stream ${i}:`), randomBytes(1000 + ((i * 7919) % 90_000))]);
        const s = edge.openStream();
        const head = new Promise<string[]>((resolve) => s.once('head', (h) => resolve(h.headers)));
        const echoed = collect(s);
        s.open(requestHead({ requestId: `r${i}` }), { fin: false, upgrade: false });
        await writeAll(s, body, 7000);
        return { id: s.id, sent: body, headers: await head, echoed: await echoed };
      }),
    );
    for (const r of results) {
      expect(r.headers).toEqual(['X-Stream', String(r.id)]);
      expect(r.echoed.equals(r.sent)).toBe(true);
    }
    await waitUntil(() => edge.streamCount === 0 && agent.streamCount === 0);
  });
});

describe('Session stream reset', () => {
  it('a stream reset mid-body reaches the other side as reset with the code', async () => {
    const { edge, agent, agentClose } = createSessionPair();
    const received: Buffer[] = [];
    let agentErr: TunnelError | undefined;
    agent.on('stream', (stream) => {
      stream.on('data', (chunk) => received.push(Buffer.from(chunk)));
      stream.on('reset', (err) => (agentErr = err));
    });
    const s = edge.openStream();
    s.open(requestHead(), { fin: false, upgrade: false });
    s.write(Buffer.alloc(20_000, 1));
    s.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'viewer went away'));
    expect(s.state).toBe('reset');
    await waitUntil(() => agentErr !== undefined);
    expect(agentErr).toBeInstanceOf(TunnelError);
    expect(agentErr!.code).toBe('TUN_ERR_STREAM_CANCELLED');
    expect(agentErr!.message).toBe('viewer went away');
    expect(Buffer.concat(received).length).toBe(20_000);
    expect(agentClose.closed).toBe(false);
    expect(agent.streamCount).toBe(0);
  });

  it('an agent reset mid-response reaches the edge with its code while other streams carry on', async () => {
    const { edge, agent, edgeClose } = createSessionPair();
    agent.on('stream', (stream) => {
      stream.respond(responseHead(), { fin: false });
      if (stream.requestHead?.requestId === 'doomed') {
        stream.write(Buffer.from('partial'));
        stream.reset(new TunnelError('TUN_ERR_ORIGIN_ERROR', 'origin hung up'));
      } else {
        void writeAll(stream, Buffer.from('complete'));
      }
    });
    const doomed = edge.openStream();
    const fine = edge.openStream();
    const doomedBody = collect(doomed);
    const fineBody = collect(fine);
    doomed.open(requestHead({ requestId: 'doomed' }), { fin: true, upgrade: false });
    fine.open(requestHead({ requestId: 'fine' }), { fin: true, upgrade: false });
    const err = await doomedBody.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_ORIGIN_ERROR');
    expect((err as TunnelError).status).toBe(502);
    expect((await fineBody).toString()).toBe('complete');
    expect(edgeClose.closed).toBe(false);
  });

  it('ignores frames that arrive for a stream it already reset', async () => {
    const { session, raw, sessionClose } = createRawPair('agent');
    session.on('stream', (stream) => stream.reset(new TunnelError('TUN_ERR_ORIGIN_REFUSED')));
    raw.send(FrameType.OPEN, 0, 1, requestHead());
    await waitUntil(() => raw.framesOf(FrameType.RESET).length === 1);
    expect(json(raw.framesOf(FrameType.RESET)[0]!)).toMatchObject({ code: 19 });
    raw.send(FrameType.DATA, 0, 1, Buffer.from('late'));
    raw.send(FrameType.WINDOW, 0, 1, Buffer.from([0, 0, 0, 9]));
    raw.send(FrameType.END, 0, 1);
    raw.send(FrameType.RESET, 0, 1, { code: 18, message: 'late reset' });
    await settle();
    expect(sessionClose.closed).toBe(false);
  });

  it("keeps a paused reader's data and end, then emits close after they are read", async () => {
    const { edge, agent } = createSessionPair();
    let accepted: MuxStream | undefined;
    agent.on('stream', (stream) => {
      stream.pause();
      accepted = stream;
    });
    const s = edge.openStream();
    s.open(requestHead(), { fin: false, upgrade: false });
    s.write(Buffer.from('body'));
    s.end();
    await waitUntil(() => accepted !== undefined);
    await settle();
    const events: string[] = [];
    accepted!.on('data', (chunk) => events.push(`data:${chunk.toString()}`));
    accepted!.on('end', () => events.push('end'));
    accepted!.on('close', () => events.push('close'));
    accepted!.respond(responseHead(), { fin: true });
    expect(events).toEqual([]);
    accepted!.resume();
    expect(events).toEqual(['data:body', 'end', 'close']);
  });

  it('reports a code that never crosses the wire as TUN_ERR_PROTOCOL on the other side', async () => {
    const { edge, agent } = createSessionPair();
    let agentErr: TunnelError | undefined;
    agent.on('stream', (stream) => stream.on('reset', (err) => (agentErr = err)));
    const s = edge.openStream();
    s.open(requestHead(), { fin: false, upgrade: false });
    s.reset(new TunnelError('TUN_ERR_CONFIG_INVALID'));
    await waitUntil(() => agentErr !== undefined);
    expect(agentErr!.code).toBe('TUN_ERR_PROTOCOL');
  });
});

describe('Session stream limits', () => {
  it('refuses OPENs past maxStreams with RESET TUN_ERR_TOO_MANY_STREAMS and keeps the session', async () => {
    const { edge, agent, edgeClose, agentClose } = createSessionPair({ agent: { maxStreams: 2 } });
    const accepted: MuxStream[] = [];
    agent.on('stream', (s) => accepted.push(s));
    const streams = [edge.openStream(), edge.openStream(), edge.openStream()];
    let refused: TunnelError | undefined;
    streams[2]!.on('reset', (err) => (refused = err));
    for (const s of streams) s.open(requestHead(), { fin: false, upgrade: false });
    streams[2]!.write(Buffer.from('body the agent never sees'));
    await waitUntil(() => refused !== undefined);
    expect(refused!.code).toBe('TUN_ERR_TOO_MANY_STREAMS');
    expect(refused!.retryable).toBe(true);
    expect(accepted.map((s) => s.id)).toEqual([1, 3]);
    // Finishing one stream makes room for the next.
    accepted[0]!.respond(responseHead(), { fin: true });
    streams[0]!.end();
    await waitUntil(() => agent.streamCount === 1);
    edge.openStream().open(requestHead(), { fin: true, upgrade: false });
    await waitUntil(() => accepted.length === 3);
    expect(accepted[2]!.id).toBe(7);
    expect(edgeClose.closed || agentClose.closed).toBe(false);
  });

  it('throws TUN_ERR_TOO_MANY_STREAMS from openStream at its own limit', () => {
    const { edge } = createSessionPair({ edge: { maxStreams: 2 } });
    edge.openStream();
    edge.openStream();
    expect(thrownCode(() => edge.openStream())).toBe('TUN_ERR_TOO_MANY_STREAMS');
  });

  it('keeps working when streams are opened in a different order than allocated', async () => {
    const { edge, agent, agentClose } = createSessionPair();
    serveEcho(agent);
    const first = edge.openStream();
    const second = edge.openStream();
    const bodies = [collect(first), collect(second)];
    for (const b of bodies) b.catch(() => {});
    second.open(requestHead(), { fin: false, upgrade: false });
    first.open(requestHead(), { fin: false, upgrade: false });
    await writeAll(second, Buffer.from('two'));
    await writeAll(first, Buffer.from('one'));
    await settle();
    expect(agentClose.err).toBeUndefined();
    expect((await bodies[0]!).toString()).toBe('one');
    expect((await bodies[1]!).toString()).toBe('two');
  });

  it('respond() after the peer reset the stream does not throw', async () => {
    const { edge, agent } = createSessionPair();
    let accepted: MuxStream | undefined;
    agent.on('stream', (s) => (accepted = s));
    const s = edge.openStream();
    s.open(requestHead(), { fin: true, upgrade: false });
    await waitUntil(() => accepted !== undefined);
    s.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED'));
    await waitUntil(() => accepted!.state === 'reset');
    expect(() => accepted!.respond(responseHead(), { fin: true })).not.toThrow();
  });
});

describe('Session GOAWAY, close and destroy', () => {
  it('tells the peer with GOAWAY; openStream afterwards throws TUN_ERR_GOING_AWAY', async () => {
    const { edge, agent } = createSessionPair();
    let told: TunnelError | undefined;
    edge.on('goaway', (err) => (told = err));
    agent.goAway(new TunnelError('TUN_ERR_GOING_AWAY', 'agent restarting'));
    expect(agent.goingAway).toBe(true);
    await waitUntil(() => told !== undefined);
    expect(told!.code).toBe('TUN_ERR_GOING_AWAY');
    expect(told!.message).toBe('agent restarting');
    expect(edge.goingAway).toBe(true);
    expect(thrownCode(() => edge.openStream())).toBe('TUN_ERR_GOING_AWAY');
  });

  it('refuses openStream after its own goAway()', () => {
    const { edge } = createSessionPair();
    edge.goAway();
    expect(thrownCode(() => edge.openStream())).toBe('TUN_ERR_GOING_AWAY');
  });

  it('emits goaway once, however many GOAWAYs arrive', async () => {
    const { session, raw } = createRawPair('edge');
    const told: TunnelError[] = [];
    session.on('goaway', (err) => told.push(err));
    raw.send(FrameType.GOAWAY, 0, 0, { code: 11, message: 'first' });
    raw.send(FrameType.GOAWAY, 0, 0, { code: 26, message: 'second' });
    await settle();
    expect(told.map((e) => e.message)).toEqual(['first']);
  });

  it('lets in-flight streams finish after a GOAWAY', async () => {
    const { edge, agent } = createSessionPair();
    let accepted: MuxStream | undefined;
    agent.on('stream', (s) => (accepted = s));
    const s = edge.openStream();
    const body = collect(s);
    s.open(requestHead(), { fin: true, upgrade: false });
    await waitUntil(() => accepted !== undefined);
    agent.goAway();
    await waitUntil(() => edge.goingAway);
    accepted!.respond(responseHead(), { fin: false });
    await writeAll(accepted!, Buffer.from('still delivered'));
    expect((await body).toString()).toBe('still delivered');
  });

  it('graceful close() waits for in-flight streams, then closes both sides', async () => {
    const { edge, agent, edgeClose, agentClose } = createSessionPair({ timers: realTimers });
    let accepted: MuxStream | undefined;
    agent.on('stream', (s) => (accepted = s));
    const s = edge.openStream();
    const body = collect(s);
    s.open(requestHead(), { fin: true, upgrade: false });
    await waitUntil(() => accepted !== undefined);
    let closed = false;
    const closing = agent.close(10_000).then(() => (closed = true));
    await waitUntil(() => edge.goingAway);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(closed).toBe(false);
    expect(agent.isClosed).toBe(false);
    accepted!.respond(responseHead(), { fin: false });
    await writeAll(accepted!, Buffer.from('last response'));
    await closing;
    expect((await body).toString()).toBe('last response');
    expect(agentClose).toEqual({ closed: true, err: undefined });
    await waitUntil(() => edgeClose.closed);
    expect(edgeClose.err?.code).toBe('TUN_ERR_SESSION_CLOSED');
  });

  it('close() resets streams still open at its deadline with TUN_ERR_SESSION_CLOSED', async () => {
    const { edge, agent, agentClose } = createSessionPair({ timers: realTimers });
    let agentErr: TunnelError | undefined;
    agent.on('stream', (stream) => stream.on('reset', (err) => (agentErr = err)));
    const s = edge.openStream();
    let edgeErr: TunnelError | undefined;
    s.on('reset', (err) => (edgeErr = err));
    s.open(requestHead(), { fin: false, upgrade: false });
    await waitUntil(() => agent.streamCount === 1);
    const started = Date.now();
    await agent.close(80);
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    expect(agentErr?.code).toBe('TUN_ERR_SESSION_CLOSED');
    expect(agentClose).toEqual({ closed: true, err: undefined });
    await waitUntil(() => edgeErr !== undefined);
    expect(edgeErr!.code).toBe('TUN_ERR_SESSION_CLOSED');
  });

  it('destroy(err) resets in-flight streams with that error at once', async () => {
    const { edge, agent, edgeClose, agentClose } = createSessionPair();
    let agentErr: TunnelError | undefined;
    agent.on('stream', (stream) => stream.on('reset', (err) => (agentErr = err)));
    const streams = [edge.openStream(), edge.openStream()];
    const edgeErrs: TunnelError[] = [];
    for (const s of streams) {
      s.on('reset', (err) => edgeErrs.push(err));
      s.open(requestHead(), { fin: false, upgrade: false });
    }
    await waitUntil(() => agent.streamCount === 2);
    const err = new TunnelError('TUN_ERR_INTERNAL', 'shutting down hard');
    edge.destroy(err);
    expect(edgeErrs).toEqual([err, err]);
    expect(edgeClose).toEqual({ closed: true, err });
    expect(edge.isClosed).toBe(true);
    expect(edge.streamCount).toBe(0);
    expect(thrownCode(() => edge.openStream())).toBe('TUN_ERR_SESSION_CLOSED');
    await waitUntil(() => agentClose.closed);
    expect(agentClose.err?.code).toBe('TUN_ERR_SESSION_CLOSED');
    expect(agentErr?.code).toBe('TUN_ERR_SESSION_CLOSED');
  });

  it('is idempotent: destroy and close after destroy do nothing more', async () => {
    const { edge } = createSessionPair();
    let closes = 0;
    edge.on('close', () => closes++);
    edge.destroy();
    edge.destroy(new TunnelError('TUN_ERR_INTERNAL'));
    await edge.close(1000);
    expect(closes).toBe(1);
  });

  // An OPEN that crossed our GOAWAY on the wire was sent before the peer knew: serving it
  // keeps the request instead of dropping it.
  it('still serves an OPEN that crossed its own GOAWAY on the wire', async () => {
    const { session, raw } = createRawPair('agent');
    const accepted: MuxStream[] = [];
    session.on('stream', (s) => accepted.push(s));
    session.goAway();
    raw.send(FrameType.OPEN, 0, 1, requestHead());
    await waitUntil(() => accepted.length > 0, 1000);
    expect(accepted.map((s) => s.id)).toEqual([1]);
    expect(raw.framesOf(FrameType.RESET)).toHaveLength(0);
  });
});
