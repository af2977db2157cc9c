import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { realTimers } from '@burrow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestFeed } from '../observe/request-feed.js';
import { sampleRecord } from '../observe/test-support/sample-record.js';
import { EventStream } from './event-stream.js';
import { requestEvent } from './request-view.js';

let server: Server | null = null;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = null;
});

/** A real HTTP server whose every request becomes a stream of `feed` for tunnel alpha. */
async function serve(feed: RequestFeed): Promise<number> {
  server = createServer((req, res) => {
    const stream = new EventStream(res, realTimers);
    const subscription = feed.subscribe({
      tunnel: 'alpha',
      caller: 'u1',
      visibleUserId: undefined,
      sink: stream,
    });
    stream.open();
    res.once('close', () => subscription.close());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('EventStream over a real connection', () => {
  it('sends the SSE head, the retry delay, each event and the final end event', async () => {
    const feed = new RequestFeed({ timers: realTimers, format: requestEvent });
    const port = await serve(feed);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    await until(() => feed.size === 1);
    feed.record(sampleRecord({ id: 'one' }));
    feed.close();
    const text = await res.text();
    expect(text).toMatch(
      /^retry: 5000\n: burrow request stream\n\nevent: request\nid: one\ndata: \{.*\}\n\n/,
    );
    expect(text.endsWith('event: end\ndata: {"reason":"edge-closing"}\n\n')).toBe(true);
  });

  it('drops a reader that stops reading once 64 KiB wait for it, and still hands it the end event', async () => {
    const feed = new RequestFeed({ timers: realTimers, format: requestEvent, maxBufferedBytes: 65_536 });
    const port = await serve(feed);
    const socket: Socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => feed.size === 1);
    socket.pause();
    const big = sampleRecord({ path: `/${'x'.repeat(2000)}` });
    let sent = 0;
    // One record a turn of the event loop, as requests finish: only the reader's stall fills the buffer.
    while (feed.size === 1 && sent < 20_000) {
      feed.record(big);
      sent++;
      await new Promise((r) => setImmediate(r));
    }
    expect(feed.size).toBe(0);
    // Kernel buffers took some first; the bound applies to what Node holds beyond them.
    expect(sent).toBeGreaterThan(65_536 / 2200);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
    await until(() => Buffer.concat(chunks).toString('latin1').includes('"reason":"slow-reader"'));
    socket.destroy();
  });

  it('keeps a reader that keeps up, however much passes through', async () => {
    const feed = new RequestFeed({ timers: realTimers, format: requestEvent, maxBufferedBytes: 65_536 });
    const port = await serve(feed);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await until(() => feed.size === 1);
    const reader = res.body!.getReader();
    let bytes = 0;
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        bytes += value.length;
      }
    })();
    const big = sampleRecord({ path: `/${'x'.repeat(2000)}` });
    for (let i = 0; i < 5000; i++) {
      feed.record(big);
      await new Promise((r) => setImmediate(r));
    }
    expect(feed.size).toBe(1);
    feed.close();
    await reading;
    expect(bytes).toBeGreaterThan(5000 * 2000);
  });

  it('stops writing to a client that went away', async () => {
    const feed = new RequestFeed({ timers: realTimers, format: requestEvent });
    const port = await serve(feed);
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: controller.signal });
    expect(res.status).toBe(200);
    await until(() => feed.size === 1);
    controller.abort();
    await until(() => feed.size === 0);
    feed.record(sampleRecord());
  });
});
