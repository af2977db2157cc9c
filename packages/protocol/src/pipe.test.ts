import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelError } from './errors.js';
import { pipeDuplex, pumpFromStream, pumpIntoStream, StreamReadable, type PipeStats } from './pipe.js';
import type { MuxStream } from './stream.js';
import { FakeTimers } from './test-support/fake-timers.js';
import {
  collect,
  createSessionPair,
  destroyAllSessions,
  requestHead,
  responseHead,
  settle,
  TEST_WINDOW,
  waitUntil,
} from './test-support/session-pair.js';

const sockets: net.Socket[] = [];
const servers: net.Server[] = [];

afterEach(() => {
  destroyAllSessions();
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

/** An edge-side stream and the agent-side stream it opened (upgrade form, no FIN). */
async function streamPair(): Promise<{ near: MuxStream; far: MuxStream }> {
  const { edge, agent } = createSessionPair();
  let far: MuxStream | undefined;
  agent.on('stream', (s) => (far = s));
  const near = edge.openStream();
  near.open(requestHead(), { fin: false, upgrade: true });
  await waitUntil(() => far !== undefined);
  // The opener takes body bytes only after the head, as after an origin's 101.
  let headSeen = false;
  near.once('head', () => (headSeen = true));
  far!.respond(responseHead({ status: 101, statusText: 'Switching Protocols', headers: [] }), { fin: false });
  await waitUntil(() => headSeen);
  return { near, far: far! };
}

/** Two ends of one loopback TCP connection. */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket }> {
  const server = net.createServer({ allowHalfOpen: true });
  servers.push(server);
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const serverSide = await accepted;
  sockets.push(client, serverSide);
  await new Promise((resolve) => (client.connecting ? client.once('connect', resolve) : resolve(undefined)));
  return { client, server: serverSide };
}

function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

function doneWatch(): {
  onDone: (s: PipeStats, e?: TunnelError) => void;
  result: Promise<[PipeStats, TunnelError?]>;
} {
  let resolve!: (v: [PipeStats, TunnelError?]) => void;
  const result = new Promise<[PipeStats, TunnelError?]>((r) => (resolve = r));
  return { onDone: (s, e) => resolve([s, e]), result };
}

describe('pipeDuplex over a memory session pair and a loopback socket', () => {
  it('carries bytes both ways, half-closes each way in turn, and counts', async () => {
    const { near, far } = await streamPair();
    const { client, server } = await socketPair();
    const watch = doneWatch();
    const head = Buffer.from('head-bytes');
    pipeDuplex(far, server, { head, onDone: watch.onDone });

    const up = randomBytes(300_000);
    const down = randomBytes(200_000);
    const atNear = collect(near);
    client.end(up);
    // The socket's end reached the stream; the other direction still flows.
    expect((await atNear).equals(Buffer.concat([head, up]))).toBe(true);
    const atClient = readAll(client);
    near.write(down);
    near.end();
    expect((await atClient).equals(down)).toBe(true);

    const [stats, err] = await watch.result;
    expect(err).toBeUndefined();
    expect(stats).toEqual({ toStream: head.length + up.length, fromStream: down.length });
  });

  it('a head that fills the credit leaves the socket paused until the peer reads', async () => {
    const { near, far } = await streamPair();
    const { server } = await socketPair();
    near.pause(); // the peer reads nothing: no credit comes back
    pipeDuplex(far, server, { head: randomBytes(TEST_WINDOW * 2) });
    expect(server.isPaused()).toBe(true);
    near.resume();
    await waitUntil(() => !server.isPaused());
  });

  it('passes the stream end first while the socket keeps sending', async () => {
    const { near, far } = await streamPair();
    const { client, server } = await socketPair();
    pipeDuplex(far, server);
    const atClient = readAll(client);
    near.end();
    expect((await atClient).length).toBe(0);
    const atNear = collect(near);
    client.end('after the half-close');
    expect((await atNear).toString()).toBe('after the half-close');
  });

  it('a slow socket reader bounds what the pipe buffers: the sender waits on credit', async () => {
    const { near, far } = await streamPair();
    const { client, server } = await socketPair();
    client.pause();
    pipeDuplex(far, server);
    const total = 16 * 1024 * 1024;
    near.write(randomBytes(total));
    await settle(200);
    // Only the kernel's socket buffers and one window are past the sender's queue.
    expect(near.queuedBytes).toBeGreaterThan(total / 2);
    expect(server.writableLength).toBeLessThanOrEqual(2 * TEST_WINDOW);
    const atClient = readAll(client);
    near.end();
    client.resume();
    expect((await atClient).length).toBe(total);
  });

  it('a socket error resets the stream with the mapped code', async () => {
    const { near, far } = await streamPair();
    const { server } = await socketPair();
    const watch = doneWatch();
    pipeDuplex(far, server, {
      toError: (e) => new TunnelError('TUN_ERR_ORIGIN_ERROR', e?.message ?? 'closed'),
      onDone: watch.onDone,
    });
    const reset = new Promise<TunnelError>((resolve) => near.once('reset', resolve));
    server.destroy(new Error('boom'));
    expect((await reset).code).toBe('TUN_ERR_ORIGIN_ERROR');
    const [, err] = await watch.result;
    expect(err?.code).toBe('TUN_ERR_ORIGIN_ERROR');
  });

  it('a socket closed before it ended resets the stream (default code: cancelled)', async () => {
    const { near, far } = await streamPair();
    const { server } = await socketPair();
    pipeDuplex(far, server);
    const reset = new Promise<TunnelError>((resolve) => near.once('reset', resolve));
    // Closed on this side without an error: no 'end' came first.
    server.destroy();
    expect((await reset).code).toBe('TUN_ERR_STREAM_CANCELLED');
  });

  it('a stream reset, by the peer or locally, destroys the socket', async () => {
    for (const by of ['peer', 'local'] as const) {
      const { near, far } = await streamPair();
      const { server } = await socketPair();
      const watch = doneWatch();
      pipeDuplex(far, server, { onDone: watch.onDone });
      const closed = new Promise((resolve) => server.once('close', resolve));
      const err = new TunnelError('TUN_ERR_ORIGIN_TIMEOUT');
      if (by === 'peer') near.reset(err);
      else far.reset(err);
      await closed;
      expect(server.destroyed).toBe(true);
      const [, reported] = await watch.result;
      // A local reset is the caller's own: it knows why.
      expect(reported?.code).toBe(by === 'peer' ? 'TUN_ERR_ORIGIN_TIMEOUT' : undefined);
    }
  });
});

describe('pumpIntoStream', () => {
  it('sends a Readable with backpressure and ends the stream', async () => {
    const { near, far } = await streamPair();
    const body = randomBytes(TEST_WINDOW * 5);
    const chunks = Array.from({ length: 20 }, (_, i) =>
      body.subarray(i * (body.length / 20), (i + 1) * (body.length / 20)),
    );
    const watch = doneWatch();
    const atFar = collect(far);
    pumpIntoStream(Readable.from(chunks), near, { onDone: watch.onDone });
    expect((await atFar).equals(body)).toBe(true);
    const [stats, err] = await watch.result;
    expect(err).toBeUndefined();
    expect(stats.toStream).toBe(body.length);
  });

  it('a refused chunk stops the pump; the hook owns the outcome', async () => {
    const { near, far } = await streamPair();
    let seen = 0;
    const source = Readable.from([Buffer.alloc(10), Buffer.alloc(10), Buffer.alloc(10)]);
    const watch = doneWatch();
    const reset = new Promise<TunnelError>((resolve) => far.once('reset', resolve));
    pumpIntoStream(source, near, {
      onChunk: (chunk) => {
        if (seen + chunk.length > 15) {
          near.reset(new TunnelError('TUN_ERR_BODY_LENGTH'));
          return false;
        }
        seen += chunk.length;
        return true;
      },
      onDone: watch.onDone,
    });
    expect((await reset).code).toBe('TUN_ERR_BODY_LENGTH');
    expect((await watch.result)[0].toStream).toBe(10);
  });

  it('a source error resets the stream with the mapped code', async () => {
    const { near, far } = await streamPair();
    const source = new Readable({ read() {} });
    const reset = new Promise<TunnelError>((resolve) => far.once('reset', resolve));
    const watch = doneWatch();
    pumpIntoStream(source, near, {
      toError: () => new TunnelError('TUN_ERR_ORIGIN_ERROR'),
      onDone: watch.onDone,
    });
    source.push('partial');
    source.destroy(new Error('boom'));
    expect((await reset).code).toBe('TUN_ERR_ORIGIN_ERROR');
    expect((await watch.result)[1]?.code).toBe('TUN_ERR_ORIGIN_ERROR');
  });
});

describe('pumpFromStream', () => {
  /** A Writable that takes a chunk only when the test says so. */
  function slowSink(): { sink: Writable; held: () => number; release: () => void; got: Buffer[] } {
    const got: Buffer[] = [];
    let pending: (() => void)[] = [];
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        got.push(chunk);
        pending.push(cb);
      },
    });
    return {
      sink,
      got,
      held: () => sink.writableLength,
      release: () => {
        const now = pending;
        pending = [];
        for (const cb of now) cb();
      },
    };
  }

  it('a slow sink pauses the stream, so the sender stops after one window', async () => {
    const { near, far } = await streamPair();
    const { sink, held, release, got } = slowSink();
    const watch = doneWatch();
    pumpFromStream(far, sink, { onDone: watch.onDone });
    const total = TEST_WINDOW * 8;
    near.write(randomBytes(total));
    near.end();
    await settle(50);
    expect(held()).toBeLessThanOrEqual(TEST_WINDOW);
    expect(near.queuedBytes).toBeGreaterThanOrEqual(total - 2 * TEST_WINDOW);
    while (!sink.writableEnded) {
      release();
      await settle(2);
    }
    release();
    const [stats, err] = await watch.result;
    expect(err).toBeUndefined();
    expect(stats.fromStream).toBe(total);
    expect(Buffer.concat(got).length).toBe(total);
  });

  it('a sink closed before it finished resets the stream', async () => {
    const { near, far } = await streamPair();
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const reset = new Promise<TunnelError>((resolve) => near.once('reset', resolve));
    pumpFromStream(far, sink);
    near.write(Buffer.from('x'));
    await settle();
    sink.destroy();
    expect((await reset).code).toBe('TUN_ERR_STREAM_CANCELLED');
  });

  it('a stream reset reports the error and leaves the sink to the caller', async () => {
    const { near, far } = await streamPair();
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const watch = doneWatch();
    pumpFromStream(far, sink, { onDone: watch.onDone });
    near.reset(new TunnelError('TUN_ERR_BODY_TIMEOUT'));
    expect((await watch.result)[1]?.code).toBe('TUN_ERR_BODY_TIMEOUT');
    expect(sink.destroyed).toBe(false);
  });
});

describe('pump hooks', () => {
  it('idle: an input quiet for `ms` stops the pump and hands the outcome to the caller', async () => {
    const { near, far } = await streamPair();
    const timers = new FakeTimers();
    const source = new Readable({ read() {} });
    let idled = 0;
    const watch = doneWatch();
    pumpIntoStream(source, near, {
      idle: { ms: 100, timers, onIdle: () => idled++ },
      onDone: watch.onDone,
    });
    const atFar: Buffer[] = [];
    far.on('data', (c: Buffer) => atFar.push(c));
    source.push('a');
    await settle();
    timers.advance(60);
    source.push('b');
    await settle();
    // 60 ms after the last byte: the first chunk's age does not count.
    timers.advance(60);
    expect(idled).toBe(0);
    timers.advance(40);
    expect(idled).toBe(1);
    const [stats, err] = await watch.result;
    expect(err).toBeUndefined();
    expect(stats.toStream).toBe(2);
    // The pump let go: later bytes are the caller's, and the stream was left to it.
    source.push('c');
    await settle();
    expect(Buffer.concat(atFar).toString()).toBe('ab');
    expect(near.finished).toBe(false);
  });

  it('idle: time spent waiting on a full output does not count', async () => {
    const { near, far } = await streamPair();
    const timers = new FakeTimers();
    const pending: (() => void)[] = [];
    const sink = new Writable({
      highWaterMark: 1024,
      write: (_c: Buffer, _e, cb) => void pending.push(cb),
    });
    let idled = 0;
    pumpFromStream(far, sink, { idle: { ms: 100, timers, onIdle: () => idled++ } });
    near.write(randomBytes(2048));
    await settle();
    expect(far.isPaused).toBe(true);
    timers.advance(500);
    expect(idled).toBe(0);
    for (const cb of pending.splice(0)) cb();
    await settle();
    expect(far.isPaused).toBe(false);
    // Counted from the drain, not from the last byte.
    timers.advance(99);
    expect(idled).toBe(0);
    timers.advance(1);
    expect(idled).toBe(1);
  });

  it('idle: a finished pump leaves no timer behind', async () => {
    const { near, far } = await streamPair();
    const timers = new FakeTimers();
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const watch = doneWatch();
    pumpFromStream(far, sink, { idle: { ms: 100, timers, onIdle: () => undefined }, onDone: watch.onDone });
    expect(timers.pending).toBe(1);
    near.end();
    await watch.result;
    expect(timers.pending).toBe(0);
  });

  it('write: a sink with its own framing writes around the chunk and may end itself', async () => {
    const { near, far } = await streamPair();
    const got: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        got.push(chunk);
        cb();
      },
    });
    let written = 0;
    const watch = doneWatch();
    pumpFromStream(far, sink, {
      end: false,
      write: (chunk) => {
        if (written === 0) sink.write('head|');
        written += chunk.length;
        const more = sink.write(chunk);
        if (written === 5) sink.end();
        return more;
      },
      onDone: watch.onDone,
    });
    near.write(Buffer.from('hel'));
    near.write(Buffer.from('lo'));
    near.end();
    const [stats, err] = await watch.result;
    expect(err).toBeUndefined();
    expect(stats.fromStream).toBe(5);
    await new Promise((resolve) =>
      sink.writableFinished ? resolve(undefined) : sink.once('finish', resolve),
    );
    expect(Buffer.concat(got).toString()).toBe('head|hello');
  });
});

describe('StreamReadable', () => {
  it('pulls the body and ends with the stream', async () => {
    const { near, far } = await streamPair();
    const readable = new StreamReadable(far);
    const body = randomBytes(TEST_WINDOW * 3);
    near.write(body);
    near.end();
    const chunks: Buffer[] = [];
    for await (const chunk of readable) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
    expect(readable.stats.fromStream).toBe(body.length);
  });

  it('a reset destroys it with the stream error', async () => {
    const { near, far } = await streamPair();
    const readable = new StreamReadable(far);
    const failed = new Promise<Error>((resolve) => readable.once('error', resolve));
    readable.resume();
    near.reset(new TunnelError('TUN_ERR_ORIGIN_TIMEOUT'));
    expect((await failed) as TunnelError).toMatchObject({ code: 'TUN_ERR_ORIGIN_TIMEOUT' });
  });
});
