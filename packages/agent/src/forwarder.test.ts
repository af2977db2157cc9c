import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  ERROR_CATALOG,
  Session,
  createMemoryTransportPair,
  TunnelError,
  realTimers,
  type MuxStream,
  type RequestHead,
  type ResponseHead,
} from '@burrow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { HostHeader } from './config/index.js';
import { routeFor, serveStream } from './forwarder.js';
import { OriginPools } from './origin-pools.js';
import type { RequestRecord } from './request-log.js';
import { AGENT_SESSION_LIMITS } from './session-client.js';
import { listenOnLoopback } from './test-support/loopback-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startOrigin(handler: http.RequestListener): Promise<{ server: http.Server; url: URL }> {
  const server = http.createServer(handler);
  const listening = await listenOnLoopback(server);
  cleanups.push(listening.close);
  return { server, url: new URL(`http://127.0.0.1:${listening.port}`) };
}

interface Tunnel {
  edge: Session;
  agent: Session;
  records: RequestRecord[];
  /** The agent's side of each stream, in arrival order. */
  agentStreams: MuxStream[];
}

function tunnelTo(origin: URL, options: { originTimeoutMs?: number; hostHeader?: HostHeader } = {}): Tunnel {
  const [agentTransport, edgeTransport] = createMemoryTransportPair();
  const agent = new Session({ role: 'agent', transport: agentTransport, ...AGENT_SESSION_LIMITS });
  const edge = new Session({ role: 'edge', transport: edgeTransport, ...AGENT_SESSION_LIMITS });
  const pools = new OriginPools({ connections: 8 });
  const records: RequestRecord[] = [];
  const agentStreams: MuxStream[] = [];
  agent.on('stream', (stream) => agentStreams.push(stream));
  const route = routeFor({ origin, hostHeader: options.hostHeader ?? 'preserve' });
  const routes = new Map([['app', route]]);
  const context = {
    pools,
    timers: realTimers,
    originTimeoutMs: options.originTimeoutMs ?? 10_000,
    onRequest: (record: RequestRecord) => records.push(record),
  };
  agent.on('stream', (stream) => serveStream(stream, routes, context));
  cleanups.push(async () => {
    edge.destroy();
    agent.destroy();
    await pools.destroy();
  });
  return { edge, agent, records, agentStreams };
}

interface Outcome {
  head: ResponseHead | null;
  body: Buffer;
  reset: TunnelError | null;
}

function head(overrides: Partial<RequestHead> = {}): RequestHead {
  return {
    tunnel: 'app',
    method: 'GET',
    path: '/',
    headers: ['Host', 'k3xnz3.localhost:8080'],
    remoteAddress: '203.0.113.9',
    requestId: 'req-1',
    ...overrides,
  };
}

/** Opens a stream as the edge would, sends `body` with backpressure, collects the response. */
function send(
  edge: Session,
  request: RequestHead,
  body?: Buffer,
): { stream: MuxStream; outcome: Promise<Outcome> } {
  const stream = edge.openStream();
  const chunks: Buffer[] = [];
  let responseHead: ResponseHead | null = null;
  const outcome = new Promise<Outcome>((resolve) => {
    stream.on('head', (h) => (responseHead = h));
    stream.on('data', (chunk) => chunks.push(Buffer.from(chunk)));
    stream.on('end', () => resolve({ head: responseHead, body: Buffer.concat(chunks), reset: null }));
    stream.on('reset', (err) => resolve({ head: responseHead, body: Buffer.concat(chunks), reset: err }));
  });
  stream.open(request, { fin: body === undefined, upgrade: false });
  if (body !== undefined) void writeAll(stream, body);
  return { stream, outcome };
}

async function writeAll(stream: MuxStream, body: Buffer): Promise<void> {
  for (let offset = 0; offset < body.length; offset += 16 * 1024) {
    if (!stream.write(body.subarray(offset, offset + 16 * 1024))) {
      await new Promise<void>((resolve) => stream.once('drain', resolve));
    }
  }
  stream.end();
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('forwarding ordinary requests', () => {
  it('returns a GET response byte-exact and keeps the viewer Host header', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    let seenHost: string | undefined;
    let seenLength: string | undefined;
    const origin = await startOrigin((req, res) => {
      seenHost = req.headers.host;
      seenLength = req.headers['content-length'] ?? req.headers['transfer-encoding'];
      res.end(payload);
    });
    const { edge, records } = tunnelTo(origin.url);
    const { outcome } = send(edge, head({ path: '/big?x=%20y' }));
    const result = await outcome;
    expect(result.reset).toBeNull();
    expect(result.head?.status).toBe(200);
    expect(result.body.length).toBe(payload.length);
    expect(sha256(result.body)).toBe(sha256(payload));
    expect(seenHost).toBe('k3xnz3.localhost:8080');
    // A bodyless GET must not grow a body on the way.
    expect(seenLength).toBeUndefined();
    await sleep(10);
    expect(records).toMatchObject([
      { method: 'GET', path: '/big?x=%20y', status: 200, error: null, requestId: 'req-1' },
    ]);
  });

  it("sends the origin's time to its head in HEAD and in the request record", async () => {
    const origin = await startOrigin((_req, res) => {
      setTimeout(() => res.end('late'), 60);
    });
    const { edge, records } = tunnelTo(origin.url);
    const result = await send(edge, head()).outcome;
    const originMs = result.head?.originMs;
    expect(originMs).toBeGreaterThanOrEqual(59);
    expect(originMs).toBeLessThan(5_000);
    await sleep(10);
    expect(records[0]?.originMs).toBe(originMs);
  });

  it('records no origin time when the origin never sent a head', async () => {
    const closed = await startOrigin(() => undefined);
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    const { edge, records } = tunnelTo(closed.url);
    const result = await send(edge, head()).outcome;
    expect(result.reset?.code).toBe('TUN_ERR_ORIGIN_REFUSED');
    await sleep(10);
    expect(records[0]).toMatchObject({ status: null, originMs: null, error: 'TUN_ERR_ORIGIN_REFUSED' });
  });

  it('streams a POST body to the origin byte-exact', async () => {
    const payload = randomBytes(2 * 1024 * 1024 + 5);
    const origin = await startOrigin((req, res) => {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.length;
      });
      req.on('end', () =>
        res.end(JSON.stringify({ length, sha: hash.digest('hex'), te: req.headers['transfer-encoding'] })),
      );
    });
    const { edge } = tunnelTo(origin.url);
    const { outcome } = send(edge, head({ method: 'POST', path: '/upload' }), payload);
    const result = await outcome;
    expect(result.head?.status).toBe(200);
    expect(JSON.parse(result.body.toString())).toEqual({
      length: payload.length,
      sha: sha256(payload),
      te: 'chunked',
    });
  });

  it('keeps order, case and repeats of response headers, several Set-Cookie included', async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(201, 'Made It', [
        'Set-Cookie',
        'a=1; Path=/',
        'X-Custom-CASE',
        'v',
        'set-cookie',
        'b=2',
        'Set-Cookie',
        'c=3',
        'Content-Length',
        '2',
      ]);
      res.end('ok');
    });
    const { edge } = tunnelTo(origin.url);
    const result = await send(edge, head()).outcome;
    expect(result.head?.status).toBe(201);
    expect(result.head?.statusText).toBe('Made It');
    const headers = result.head!.headers;
    const pairs = [];
    for (let i = 0; i < headers.length; i += 2) pairs.push(`${headers[i]}: ${headers[i + 1]}`);
    expect(pairs.filter((p) => !/^(date|connection|keep-alive):/i.test(p))).toEqual([
      'Set-Cookie: a=1; Path=/',
      'X-Custom-CASE: v',
      'set-cookie: b=2',
      'Set-Cookie: c=3',
      'Content-Length: 2',
    ]);
    expect(pairs.some((p) => /^(connection|keep-alive|transfer-encoding):/i.test(p))).toBe(false);
    expect(result.body.toString()).toBe('ok');
  });

  it('answers HEAD with the head only, finished by FIN', async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1234', 'Content-Type': 'text/plain' });
      res.end();
    });
    const { edge, records } = tunnelTo(origin.url);
    const result = await send(edge, head({ method: 'HEAD' })).outcome;
    expect(result.reset).toBeNull();
    expect(result.head?.status).toBe(200);
    expect(result.head?.headers).toContain('1234');
    expect(result.body.length).toBe(0);
    await sleep(10);
    expect(records[0]).toMatchObject({ method: 'HEAD', status: 200, error: null });
  });

  it('sends no body for 204 and 304', async () => {
    const origin = await startOrigin((req, res) => {
      res.writeHead(req.url === '/304' ? 304 : 204);
      res.end();
    });
    const { edge } = tunnelTo(origin.url);
    const [noContent, notModified] = await Promise.all([
      send(edge, head({ path: '/204' })).outcome,
      send(edge, head({ path: '/304' })).outcome,
    ]);
    expect(noContent.head?.status).toBe(204);
    expect(notModified.head?.status).toBe(304);
    expect(noContent.body.length + notModified.body.length).toBe(0);
  });

  it('forwards several requests at once over one session', async () => {
    const origin = await startOrigin((req, res) => res.end(`you asked for ${req.url}`));
    const { edge } = tunnelTo(origin.url);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => send(edge, head({ path: `/n/${i}`, requestId: `r${i}` })).outcome),
    );
    results.forEach((result, i) => expect(result.body.toString()).toBe(`you asked for /n/${i}`));
  });
});

describe('forwarding OPTIONS *', () => {
  interface Seen {
    line: string;
    body: string;
    headers: string[];
  }

  async function asteriskOrigin(answer: (res: http.ServerResponse) => void): Promise<{
    url: URL;
    seen: Seen[];
  }> {
    const seen: Seen[] = [];
    const origin = await startOrigin((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          line: `${req.method ?? ''} ${req.url ?? ''}`,
          body: Buffer.concat(chunks).toString(),
          headers: req.rawHeaders,
        });
        answer(res);
      });
    });
    return { url: origin.url, seen };
  }

  it('streams its body to the origin and brings the answer back like any response', async () => {
    const origin = await asteriskOrigin((res) => {
      res.writeHead(200, 'Fine', ['Allow', 'GET, OPTIONS', 'Connection', 'close, X-Hop', 'X-Hop', 'h']);
      res.end('allowed');
    });
    const { edge, records } = tunnelTo(origin.url);
    const request = head({
      method: 'OPTIONS',
      path: '*',
      headers: [
        'Host',
        'k3xnz3.localhost:8080',
        'Content-Length',
        '5',
        'Connection',
        'X-Private',
        'X-Private',
        'p',
        'Keep-Alive',
        'timeout=5',
        'Proxy-Authorization',
        'Basic Zm9vOmJhcg==',
        'X-Kept',
        'k',
      ],
    });
    const result = await send(edge, request, Buffer.from('hello')).outcome;
    expect(result.reset).toBeNull();
    expect(result.head).toMatchObject({ status: 200, statusText: 'Fine' });
    expect(result.body.toString()).toBe('allowed');
    const names = (raw: readonly string[]): string[] =>
      raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    // The origin's hop-by-hop headers stay on its hop, as for any response.
    expect(names(result.head!.headers)).toContain('allow');
    expect(names(result.head!.headers)).not.toContain('x-hop');
    expect(names(result.head!.headers)).not.toContain('connection');
    expect(origin.seen).toHaveLength(1);
    expect(origin.seen[0]).toMatchObject({ line: 'OPTIONS *', body: 'hello' });
    // The same header hygiene as an ordinary request.
    const sent = names(origin.seen[0]!.headers);
    expect(sent).toContain('x-kept');
    expect(sent).not.toContain('x-private');
    expect(sent).not.toContain('keep-alive');
    expect(sent).not.toContain('proxy-authorization');
    await sleep(10);
    expect(records).toMatchObject([{ method: 'OPTIONS', path: '*', status: 200, error: null }]);
  });

  it('sends a body of unknown length chunked', async () => {
    const origin = await asteriskOrigin((res) => res.end());
    const { edge } = tunnelTo(origin.url);
    const payload = randomBytes(300 * 1024);
    const request = head({ method: 'OPTIONS', path: '*' });
    const result = await send(edge, request, payload).outcome;
    expect(result.head?.status).toBe(200);
    expect(origin.seen[0]!.body).toBe(payload.toString());
  });

  it('sends no body when the request has none', async () => {
    const origin = await asteriskOrigin((res) => res.writeHead(204).end());
    const { edge } = tunnelTo(origin.url);
    const result = await send(edge, head({ method: 'OPTIONS', path: '*' })).outcome;
    expect(result.head?.status).toBe(204);
    expect(origin.seen).toMatchObject([{ line: 'OPTIONS *', body: '' }]);
    const sent = origin.seen[0]!.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(sent).not.toContain('transfer-encoding');
  });

  it('closes the origin connection when the viewer goes away', async () => {
    let originSawClose = false;
    let arrived: () => void = () => undefined;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    const origin = await startOrigin((req) => {
      arrived();
      req.socket.on('close', () => (originSawClose = true));
    });
    const { edge, records } = tunnelTo(origin.url);
    const { stream } = send(edge, head({ method: 'OPTIONS', path: '*' }));
    await requestArrived;
    stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'viewer left'));
    for (let i = 0; i < 50 && !originSawClose; i++) await sleep(10);
    expect(originSawClose).toBe(true);
    expect(records[0]).toMatchObject({ status: null, error: 'TUN_ERR_STREAM_CANCELLED' });
  });

  it('resets with TUN_ERR_ORIGIN_TIMEOUT when the origin never answers', async () => {
    const origin = await startOrigin(() => undefined);
    const { edge } = tunnelTo(origin.url, { originTimeoutMs: 100 });
    const result = await send(edge, head({ method: 'OPTIONS', path: '*' })).outcome;
    expect(result.reset?.code).toBe('TUN_ERR_ORIGIN_TIMEOUT');
  });

  it('resets with TUN_ERR_ORIGIN_REFUSED when nothing listens', async () => {
    const closed = await startOrigin(() => undefined);
    const url = closed.url;
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    const { edge } = tunnelTo(url);
    const result = await send(edge, head({ method: 'OPTIONS', path: '*' })).outcome;
    expect(result.reset?.code).toBe('TUN_ERR_ORIGIN_REFUSED');
  });
});

describe('forwarding failures', () => {
  it('resets with TUN_ERR_ORIGIN_REFUSED when nothing listens on the origin port', async () => {
    const closed = await startOrigin(() => undefined);
    const url = closed.url;
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    const { edge, records } = tunnelTo(url);
    const result = await send(edge, head()).outcome;
    expect(result.head).toBeNull();
    expect(result.reset?.wire).toBe(ERROR_CATALOG.TUN_ERR_ORIGIN_REFUSED.wire);
    expect(result.reset?.code).toBe('TUN_ERR_ORIGIN_REFUSED');
    expect(result.reset?.message).toBe(`connection refused by 127.0.0.1:${url.port}`);
    expect(records[0]).toMatchObject({ status: null, error: 'TUN_ERR_ORIGIN_REFUSED' });
  });

  it('resets with TUN_ERR_ORIGIN_TIMEOUT when the origin never answers', async () => {
    const origin = await startOrigin(() => undefined);
    const { edge, records } = tunnelTo(origin.url, { originTimeoutMs: 300 });
    const started = Date.now();
    const result = await send(edge, head()).outcome;
    expect(result.reset?.code).toBe('TUN_ERR_ORIGIN_TIMEOUT');
    expect(result.reset?.wire).toBe(ERROR_CATALOG.TUN_ERR_ORIGIN_TIMEOUT.wire);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(records[0]?.error).toBe('TUN_ERR_ORIGIN_TIMEOUT');
  });

  it('does not time out while the origin is still reading a slow upload', async () => {
    const origin = await startOrigin((req, res) => {
      req.resume();
      req.on('end', () => res.end('got it'));
    });
    const { edge } = tunnelTo(origin.url, { originTimeoutMs: 300 });
    const slow = edge.openStream();
    const result = new Promise<ResponseHead>((resolve) => slow.on('head', resolve));
    slow.open(head({ method: 'PUT', requestId: 'slow' }), { fin: false, upgrade: false });
    for (let i = 0; i < 6; i++) {
      slow.write(Buffer.from(`part ${i};`));
      await sleep(100);
    }
    slow.end();
    expect((await result).status).toBe(200);
  });

  it('aborts the origin request when the viewer goes away', async () => {
    let originSawClose = false;
    let arrived: () => void = () => undefined;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    const origin = await startOrigin((req) => {
      arrived();
      req.socket.on('close', () => (originSawClose = true));
    });
    const { edge, records } = tunnelTo(origin.url);
    const { stream } = send(edge, head());
    await requestArrived;
    stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'viewer left'));
    for (let i = 0; i < 50 && !originSawClose; i++) await sleep(10);
    expect(originSawClose).toBe(true);
    expect(records[0]).toMatchObject({ status: null, error: 'TUN_ERR_STREAM_CANCELLED' });
  });

  it('resets a stream for a tunnel the agent does not serve', async () => {
    const origin = await startOrigin((_req, res) => res.end());
    const { edge } = tunnelTo(origin.url);
    const result = await send(edge, head({ tunnel: 'other' })).outcome;
    expect(result.reset?.code).toBe('TUN_ERR_TUNNEL_NOT_FOUND');
  });
});

describe('backpressure', () => {
  it('does not buffer more than a window when the edge stops reading', async () => {
    const total = 64 * 1024 * 1024;
    let flushed = 0;
    const chunk = randomBytes(64 * 1024);
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(total) });
      const pump = (): void => {
        while (flushed < total) {
          flushed += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const { edge, agentStreams } = tunnelTo(origin.url);
    const stream = edge.openStream();
    let received = 0;
    const gotHead = new Promise<void>((resolve) => stream.on('head', () => resolve()));
    stream.on('data', (data) => (received += data.length));
    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    stream.open(head(), { fin: true, upgrade: false });
    await gotHead;
    stream.pause();
    await sleep(600);

    // The edge holds at most one window; the agent a frame's worth beyond what it may send.
    expect(received).toBeLessThanOrEqual(AGENT_SESSION_LIMITS.window);
    expect(agentStreams[0]!.queuedBytes).toBeLessThanOrEqual(256 * 1024);
    // The origin was held back too (kernel socket buffers absorb some): it did not get to write it all.
    expect(flushed).toBeLessThan(total / 2);

    stream.resume();
    await ended;
    expect(received).toBe(total);
  });
});

describe('forwarding upgrades', () => {
  function maskedFrame(opcode: number, payload: Buffer): Buffer {
    const mask = randomBytes(4);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
    return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
  }

  const upgradeHeaders = [
    'Host',
    'k3xnz3.localhost:8080',
    'Upgrade',
    'websocket',
    'Connection',
    'Upgrade',
    'Sec-WebSocket-Key',
    'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version',
    '13',
  ];

  it('pipes a WebSocket through to a ws origin and back, then half-closes cleanly', async () => {
    const origin = await startOrigin((_req, res) => res.end('not a websocket'));
    const wss = new WebSocketServer({ server: origin.server });
    wss.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })));
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const { edge, records } = tunnelTo(origin.url);

    const stream = edge.openStream();
    const responseHead = new Promise<ResponseHead>((resolve) => stream.on('head', resolve));
    const received: Buffer[] = [];
    stream.on('data', (data) => received.push(Buffer.from(data)));
    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    stream.open(head({ path: '/ws', headers: upgradeHeaders }), { fin: false, upgrade: true });

    const h = await responseHead;
    expect(h.status).toBe(101);
    const accept =
      h.headers[h.headers.findIndex((name) => name.toLowerCase() === 'sec-websocket-accept') + 1];
    expect(accept).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');

    stream.write(maskedFrame(0x1, Buffer.from('hello through the tunnel')));
    for (let i = 0; i < 100 && Buffer.concat(received).length < 26; i++) await sleep(10);
    const echo = Buffer.concat(received);
    expect(echo[0]).toBe(0x81);
    expect(echo.subarray(2, 2 + echo[1]!).toString()).toBe('hello through the tunnel');

    // Close handshake: the server answers with its close frame and ends its side.
    stream.write(maskedFrame(0x8, Buffer.from([0x03, 0xe8])));
    await ended;
    stream.end();
    await new Promise<void>((resolve) => (stream.finished ? resolve() : stream.on('close', resolve)));
    await sleep(20);
    expect(records[0]).toMatchObject({ path: '/ws', status: 101, error: null });
  });

  it("sends the origin's time to its 101 in the upgrade's HEAD", async () => {
    const origin = await startOrigin((_req, res) => res.end('not a websocket'));
    const wss = new WebSocketServer({ noServer: true });
    origin.server.on('upgrade', (req, socket, upgradeHead) =>
      setTimeout(() => wss.handleUpgrade(req, socket, upgradeHead, (ws) => ws.close()), 40),
    );
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const { edge } = tunnelTo(origin.url);
    const stream = edge.openStream();
    const responseHead = new Promise<ResponseHead>((resolve) => stream.on('head', resolve));
    stream.open(head({ path: '/ws', headers: upgradeHeaders }), { fin: false, upgrade: true });
    const h = await responseHead;
    expect(h.status).toBe(101);
    expect(h.originMs).toBeGreaterThanOrEqual(39);
    stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'done'));
  });

  it('forwards an ordinary response when the origin declines the upgrade', async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain' });
      res.end('upgrade refused');
    });
    const { edge } = tunnelTo(origin.url);
    const stream = edge.openStream();
    const chunks: Buffer[] = [];
    let status = 0;
    let originMs: number | undefined;
    stream.on('head', (h) => {
      status = h.status;
      originMs = h.originMs;
    });
    stream.on('data', (data) => chunks.push(Buffer.from(data)));
    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    stream.open(head({ headers: upgradeHeaders }), { fin: false, upgrade: true });
    await ended;
    expect(status).toBe(426);
    expect(Buffer.concat(chunks).toString()).toBe('upgrade refused');
    expect(originMs).toBeGreaterThanOrEqual(0);
  });

  it('resets with TUN_ERR_ORIGIN_REFUSED when the upgrade cannot connect', async () => {
    const closed = await startOrigin(() => undefined);
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    const { edge } = tunnelTo(closed.url);
    const stream = edge.openStream();
    const reset = new Promise<TunnelError>((resolve) => stream.on('reset', resolve));
    stream.open(head({ headers: upgradeHeaders }), { fin: false, upgrade: true });
    expect((await reset).code).toBe('TUN_ERR_ORIGIN_REFUSED');
  });
});

describe('Host header', () => {
  const viewerHeaders = ['X-First', '1', 'host', 'k3xnz3.localhost:8080', 'X-Last-CASE', 'z'];

  /** The headers the origin saw that the viewer sent, in order (undici adds its own). */
  function viewerHeadersSeen(raw: string[]): string[] {
    const names = new Set(['x-first', 'host', 'x-last-case']);
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2)
      if (names.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
    return out;
  }

  it.each([
    { hostHeader: 'rewrite', expected: (port: string) => `127.0.0.1:${port}` },
    { hostHeader: 'myapp.test:5173', expected: () => 'myapp.test:5173' },
    { hostHeader: 'preserve', expected: () => 'k3xnz3.localhost:8080' },
  ])('sends $hostHeader to the origin for an ordinary request', async ({ hostHeader, expected }) => {
    let seen: string[] = [];
    const origin = await startOrigin((req, res) => {
      seen = req.rawHeaders;
      res.end('ok');
    });
    const { edge } = tunnelTo(origin.url, { hostHeader });
    const result = await send(edge, head({ headers: viewerHeaders })).outcome;
    expect(result.head?.status).toBe(200);
    // undici writes Host right after the request line whatever its place; the rest keep theirs.
    expect(viewerHeadersSeen(seen)).toEqual([
      'host',
      expected(origin.url.port),
      'X-First',
      '1',
      'X-Last-CASE',
      'z',
    ]);
  });

  it.each([
    { hostHeader: 'rewrite', expected: (port: string) => `127.0.0.1:${port}` },
    { hostHeader: 'myapp.test:5173', expected: () => 'myapp.test:5173' },
  ])('sends $hostHeader to the origin for a WebSocket upgrade', async ({ hostHeader, expected }) => {
    const origin = await startOrigin((_req, res) => res.end('not a websocket'));
    const wss = new WebSocketServer({ server: origin.server });
    let seen: string[] = [];
    wss.on('connection', (socket, req) => {
      seen = req.rawHeaders;
      socket.close();
    });
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const { edge } = tunnelTo(origin.url, { hostHeader });

    const stream = edge.openStream();
    const responseHead = new Promise<ResponseHead>((resolve) => stream.on('head', resolve));
    stream.open(
      head({
        path: '/ws',
        headers: [
          'X-First',
          '1',
          'Host',
          'k3xnz3.localhost:8080',
          'Upgrade',
          'websocket',
          'Connection',
          'Upgrade',
          'Sec-WebSocket-Key',
          'dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version',
          '13',
        ],
      }),
      { fin: false, upgrade: true },
    );
    expect((await responseHead).status).toBe(101);
    expect(seen.slice(0, 4)).toEqual(['X-First', '1', 'Host', expected(origin.url.port)]);
    expect(seen.filter((_, i) => i % 2 === 0)).toEqual([
      'X-First',
      'Host',
      'Upgrade',
      'Connection',
      'Sec-WebSocket-Key',
      'Sec-WebSocket-Version',
    ]);
  });
});
