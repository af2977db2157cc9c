/**
 * The edge's answer to a viewer when what comes back through a tunnel is broken or hostile:
 * it fails alone (a readable 502, or a cut connection once the head is out), the edge never
 * throws while answering, and nobody else notices.
 */

import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FrameType } from '@burrow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  type Agent,
  type Edge,
} from './harness.js';
import { expectServing } from './fixture.js';
import { originHandler } from './origin.js';
import { ScriptedAgent, type ScriptedHead } from './raw-agent.js';

let edge: Edge;
let healthy: Agent;
let scripted: ScriptedAgent;
const rawServers: Server[] = [];

beforeAll(async () => {
  const origin = await startOrigin(originHandler);
  edge = await startEdge({
    env: { BURROW_TIMEOUTS_RESPONSE_IDLE_MS: '1000', BURROW_TUNNELS_ANONYMOUS_TUNNELS_PER_IP: '100' },
  });
  healthy = await startAgent(edge, String(origin.port));
  scripted = await ScriptedAgent.connect(edge.port);
});

afterAll(async () => {
  scripted.close();
  for (const s of rawServers) s.close();
  await stopAll();
});

/** An origin that answers every request with the same raw bytes and closes. */
async function rawOrigin(bytes: Buffer | string): Promise<number> {
  const server = createServer((socket: Socket) => {
    socket.once('data', () => socket.end(bytes));
    socket.on('error', () => undefined);
  });
  rawServers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Sends raw request bytes to the edge; collects what comes back until close or `waitMs`. */
function rawViewer(request: string, waitMs = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(edge.port, '127.0.0.1', () => socket.write(request));
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
  });
}

/** A GET that closes the connection after its answer; `keepAlive` leaves it open. */
function get(name: string, path = '/', keepAlive = false): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${edge.host(name)}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`;
}

/** Has the scripted agent answer the next request with `head` and then `then` (body frames). */
async function scriptedAnswer(
  head: ScriptedHead,
  then: (id: number) => void = (id) => scripted.end(id),
  request = get(scripted.name),
  waitMs?: number,
): Promise<{ text: string; closed: boolean; id: number }> {
  const from = scripted.frames.length;
  const viewer = rawViewer(request, waitMs);
  const id = await scripted.accept(from);
  scripted.head(id, head);
  then(id);
  return { ...(await viewer), id };
}

async function scriptedStillServes(): Promise<void> {
  const { text } = await scriptedAnswer(
    { status: 200, statusText: 'OK', headers: ['Content-Length', '2'] },
    (id) => scripted.data(id, 'ok', true),
    `GET / HTTP/1.1\r\nHost: ${edge.host(scripted.name)}\r\nConnection: close\r\n\r\n`,
  );
  expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(scripted.open).toBe(true);
}

describe('reason phrases', () => {
  it.each([
    ['a control byte', 'HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nhi'],
    ['a non-ASCII byte', 'HTTP/1.1 200 \xe2\x82\xac\r\nContent-Length: 2\r\n\r\nhi'],
  ])('an origin reason phrase with %s is answered with the standard one', async (_what, raw) => {
    const port = await rawOrigin(Buffer.from(raw, 'latin1'));
    const agent = await startAgent(edge, String(port));
    const { text } = await rawViewer(
      `GET / HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nConnection: close\r\n\r\n`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.endsWith('\r\n\r\nhi')).toBe(true);
    await expectServing(edge, healthy);
    const again = await tunnelRequest(edge, agent.name, '/');
    expect(again.statusCode).toBe(200);
    await again.body.dump();
  });

  it.each(['O\x01K', '€', 'OK\r\nSet-Cookie: stolen=1', 'OK\nX: y'])(
    'a hostile agent reason phrase %j never reaches the viewer and breaks nothing',
    async (statusText) => {
      const { text } = await scriptedAnswer(
        { status: 200, statusText, headers: ['Content-Length', '2'] },
        (id) => scripted.data(id, 'hi', true),
      );
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(text).not.toMatch(/stolen|\nX: y/);
      await scriptedStillServes();
      await expectServing(edge, healthy);
    },
  );

  it('a hostile reason phrase on an upgrade answer cannot split the response', async () => {
    const { text } = await scriptedAnswer(
      {
        status: 101,
        statusText: 'Switching\r\nSet-Cookie: stolen=1',
        headers: ['Upgrade', 'websocket', 'Connection', 'Upgrade'],
      },
      (id) => scripted.end(id),
      `GET / HTTP/1.1\r\nHost: ${edge.host(scripted.name)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(text).not.toContain('stolen');
    await scriptedStillServes();
  });
});

describe('header bytes', () => {
  it('keeps obs-text bytes (0x80-0xff) in a streamed response header byte for byte', async () => {
    const port = await rawOrigin(
      Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nX-V: a\u00a0b\u00e9\r\n\r\nhi', 'latin1'),
    );
    const agent = await startAgent(edge, String(port));
    const { text } = await rawViewer(get(agent.name), 4000);
    // Node's flushHeaders() would have sent these two bytes as four (UTF-8).
    expect(text).toContain('\r\nX-V: a\u00a0b\u00e9\r\n');
  });
});

describe('response framing', () => {
  it.each([
    [['Content-Length', '5', 'Content-Length', '6']],
    [['Content-Length', '5, 6']],
    [['Content-Length', '-1']],
    [['Content-Length', '5x']],
    [['Content-Length', '']],
    [['Content-Length', '99999999999999999999']],
    [['Content-Length', '5', 'Transfer-Encoding', 'chunked']],
  ])('refuses a head with broken framing %j with 502 TUN_ERR_HEAD_INVALID', async (headers) => {
    const { text, id } = await scriptedAnswer({ status: 200, statusText: 'OK', headers }, (sid) =>
      scripted.data(sid, 'hello', true),
    );
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(text).toMatch(/\r\nX-Burrow-Error: TUN_ERR_HEAD_INVALID\r\n/);
    expect(text).not.toContain('hello');
    expect(await scripted.resetCode(id)).toBe('TUN_ERR_HEAD_INVALID');
    await scriptedStillServes();
  });

  it('collapses identical repeated Content-Length values into one', async () => {
    const { text } = await scriptedAnswer(
      { status: 200, statusText: 'OK', headers: ['Content-Length', '5, 5', 'Content-Length', '5'] },
      (id) => scripted.data(id, 'hello', true),
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.match(/content-length/gi)).toHaveLength(1);
    expect(text).toMatch(/\r\nContent-Length: 5\r\n/);
    expect(text).toMatch(/\r\n\r\nhello$/);
  });

  it.each([600, 999, 102, 101])('refuses status %i on a plain request with 502', async (status) => {
    const { text } = await scriptedAnswer({ status, statusText: '', headers: [] });
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(text).toMatch(/\r\nX-Burrow-Error: TUN_ERR_HEAD_INVALID\r\n/);
    await scriptedStillServes();
  });

  it('never lets bytes past Content-Length reach the viewer as a second response', async () => {
    const smuggled = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled';
    const { text, closed, id } = await scriptedAnswer(
      { status: 200, statusText: 'OK', headers: ['Content-Length', '5'] },
      (sid) => {
        scripted.data(sid, 'hello');
        // No FIN: the stream is still open, so the edge can (and must) reset it.
        scripted.data(sid, smuggled);
      },
      get(scripted.name, '/', true) + get(scripted.name, '/second', true),
    );
    expect(text).not.toContain('smuggled');
    // The first answer was whole at its fifth byte; the extra bytes only cost the stream.
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(text).toMatch(/\r\n\r\nhello$/);
    expect(closed).toBe(false);
    expect(await scripted.resetCode(id)).toBe('TUN_ERR_BODY_LENGTH');
    await scriptedStillServes();
  });

  it('cuts the viewer when the body ends before Content-Length', async () => {
    const started = Date.now();
    const { text, closed } = await scriptedAnswer(
      { status: 200, statusText: 'OK', headers: ['Content-Length', '10'] },
      (id) => scripted.data(id, 'hello', true),
      get(scripted.name, '/', true),
      4000,
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhello$/);
    expect(closed).toBe(true);
    // Not the keep-alive timeout (5 s) closing an idle connection: cut at once.
    expect(Date.now() - started).toBeLessThan(2000);
    await scriptedStillServes();
  });

  it('answers 502 with a code when the body ends before its first byte (nothing reached the viewer yet)', async () => {
    const { text, closed } = await scriptedAnswer(
      { status: 200, statusText: 'OK', headers: ['Content-Length', '10'] },
      (id) => scripted.end(id),
      get(scripted.name, '/', true),
      4000,
    );
    expect(text).toMatch(/^HTTP\/1\.1 502 /);
    expect(text).toMatch(/\r\nX-Burrow-Error: TUN_ERR_BODY_LENGTH\r\n/i);
    expect(closed).toBe(false);
    await scriptedStillServes();
  });

  it('answers 502 when a real origin closes after a head promising a body it never sends', async () => {
    const port = await rawOrigin('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n');
    const agent = await startAgent(edge, String(port));
    const { text } = await rawViewer(get(agent.name), 4000);
    expect(text).toMatch(/^HTTP\/1\.1 502 /);
    expect(text).toMatch(/\r\nX-Burrow-Error: TUN_ERR_[A-Z_]+\r\n/i);
  });

  it('answers as soon as the declared body is complete, without waiting for a late END', async () => {
    const from = scripted.frames.length;
    const host = edge.host(scripted.name);
    // Two pipelined requests: the second's answer queues behind the first's end.
    const viewer = rawViewer(
      `GET /1 HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /2 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      2500,
    );
    const first = await scripted.accept(from);
    scripted.head(first, { status: 200, statusText: 'OK', headers: ['Content-Length', '2'] });
    scripted.data(first, 'ok'); // and no END
    const second = (await scripted.nextFrame(FrameType.OPEN, from, 5000, (f) => f.streamId !== first))
      .streamId;
    scripted.head(second, { status: 200, statusText: 'OK', headers: ['Content-Length', '3'] });
    scripted.data(second, 'two', true);
    const { text, closed } = await viewer;
    expect(text).toMatch(/\r\n\r\nok(HTTP\/1\.1 200 OK\r\n)[^]*\r\n\r\ntwo$/);
    expect(closed).toBe(false);
    await scriptedStillServes();
  });

  it('reads and drops the rest of an upload once the exchange has failed, instead of stalling it', async () => {
    const from = scripted.frames.length;
    const size = 32 * 1024 * 1024;
    const socket = connect(edge.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(`POST / HTTP/1.1\r\nHost: ${edge.host(scripted.name)}\r\nContent-Length: ${size}\r\n\r\n`);
    const flushed = new Promise<void>((resolve) => socket.write(Buffer.alloc(size, 0x61), () => resolve()));
    const id = await scripted.accept(from);
    // The agent grants no credit past its first window, so the edge has paused the upload.
    scripted.head(id, { status: 200, statusText: 'OK', headers: ['Content-Length', '10'] });
    scripted.end(id);
    const outcome = await Promise.race([
      flushed.then(() => 'flushed'),
      new Promise((r) => setTimeout(() => r('stalled'), 8000)),
    ]);
    socket.destroy();
    expect(outcome).toBe('flushed');
    expect(Buffer.concat(chunks).toString('latin1')).toMatch(
      /^HTTP\/1\.1 502 [^]*X-Burrow-Error: TUN_ERR_BODY_LENGTH\r\n/i,
    );
    await scriptedStillServes();
  });

  it('answers a 204 with a body as a bodiless 204 and keeps the connection in sync', async () => {
    const { text, id } = await scriptedAnswer(
      { status: 204, statusText: 'No Content', headers: ['Content-Length', '5'] },
      (sid) => scripted.data(sid, 'hello'),
      `GET / HTTP/1.1\r\nHost: ${edge.host(scripted.name)}\r\nConnection: close\r\n\r\n`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
    expect(text).not.toMatch(/content-length/i);
    expect(text).not.toContain('hello');
    expect(await scripted.resetCode(id)).toBe('TUN_ERR_BODY_LENGTH');
    await scriptedStillServes();
  });
});

describe('response idle timeout (timeouts.responseIdleMs = 1 s here)', () => {
  it('cuts a response whose body stalls, and leaves the tunnel serving', async () => {
    const started = Date.now();
    const res = await tunnelRequest(edge, healthy.name, '/chunked?gap=8000');
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5000);
    await expectServing(edge, healthy);
  });

  it('resets the stream with TUN_ERR_RESPONSE_TIMEOUT', async () => {
    const { closed, id } = await scriptedAnswer({ status: 200, statusText: 'OK', headers: [] }, (sid) =>
      scripted.data(sid, 'first'),
    );
    expect(closed).toBe(true);
    expect(await scripted.resetCode(id)).toBe('TUN_ERR_RESPONSE_TIMEOUT');
  });

  it('lets a slow stream with heartbeats run longer than the idle timeout', async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      let n = 0;
      const tick = setInterval(() => {
        res.write(`: beat ${n}\n\n`);
        if (++n === 6) {
          clearInterval(tick);
          res.end('data: done\n\n');
        }
      }, 400);
      res.on('close', () => clearInterval(tick));
    });
    const agent = await startAgent(edge, String(origin.port));
    const res = await tunnelRequest(edge, agent.name, '/events');
    expect(await res.body.text()).toContain('data: done');
  });
});

describe('OPTIONS *', () => {
  it('reaches the origin as OPTIONS * and its answer comes back', async () => {
    const seen: string[] = [];
    const origin = await startOrigin((req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
      res.writeHead(200, { Allow: 'GET, OPTIONS', 'Content-Length': '0' });
      res.end();
    });
    const agent = await startAgent(edge, String(origin.port));
    const { text } = await rawViewer(
      `OPTIONS * HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nConnection: close\r\n\r\n`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\nAllow: GET, OPTIONS\r\n/);
    expect(seen).toEqual(['OPTIONS *']);
  });

  it('brings its body to the origin, without the hop-by-hop headers', async () => {
    const seen: { line: string; body: string; headers: string[] }[] = [];
    const origin = await startOrigin((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          line: `${req.method ?? ''} ${req.url ?? ''}`,
          body: Buffer.concat(chunks).toString(),
          headers: req.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
        });
        res.writeHead(200, { Allow: 'GET, OPTIONS', 'Content-Length': '2' });
        res.end('ok');
      });
    });
    const agent = await startAgent(edge, String(origin.port));
    const { text } = await rawViewer(
      `OPTIONS * HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nContent-Length: 5\r\n` +
        'Connection: close, X-Private\r\nX-Private: p\r\nX-Kept: k\r\n\r\nhello',
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\nAllow: GET, OPTIONS\r\n/);
    expect(text).toMatch(/\r\n\r\nok$/);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ line: 'OPTIONS *', body: 'hello' });
    expect(seen[0]!.headers).toContain('x-kept');
    expect(seen[0]!.headers).not.toContain('x-private');
  });
});

describe('Set-Cookie scoping', () => {
  it("drops a Domain that is not the tunnel's own host", async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, [
        'Set-Cookie',
        'base=1; Domain=localhost; Path=/',
        'Set-Cookie',
        'dotted=2; domain=.LOCALHOST; HttpOnly',
        'Set-Cookie',
        `own=3; Path=/; Domain=${agentName}.localhost`,
        'Set-Cookie',
        'other=4; Domain=someone-else.localhost; Secure',
        'Set-Cookie',
        'plain=5',
        'Content-Length',
        '2',
      ]);
      res.end('ok');
    });
    let agentName = '';
    const agent = await startAgent(edge, String(origin.port));
    agentName = agent.name;
    const res = await tunnelRequest(edge, agent.name, '/');
    await res.body.dump();
    expect(res.headers['set-cookie']).toEqual([
      'base=1; Path=/',
      'dotted=2; HttpOnly',
      `own=3; Path=/; Domain=${agent.name}.localhost`,
      'other=4; Secure',
      'plain=5',
    ]);
  });

  it('drops every Domain on a path-routed tunnel (/t/<name>/), which shares the edge host', async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, ['Set-Cookie', 'a=1; Domain=localhost', 'Content-Length', '2']);
      res.end('ok');
    });
    const agent = await startAgent(edge, String(origin.port));
    const { text } = await rawViewer(
      `GET /t/${agent.name}/ HTTP/1.1\r\nHost: localhost:${edge.port}\r\nConnection: close\r\n\r\n`,
    );
    expect(text).toMatch(/\r\nSet-Cookie: a=1\r\n/);
  });
});
