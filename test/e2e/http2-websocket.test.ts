/**
 * WebSocket over HTTP/2 (RFC 8441) by hand: node:http2 as the viewer sends an extended
 * CONNECT and raw WebSocket frames; the edge turns it into an HTTP/1.1 Upgrade for the real
 * agent and the origin's `ws` server, which echoes. In-process edge with an HTTPS listener.
 */

import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { constants as h2, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import type { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../packages/edge/src/store/request-records.js';
import { startAgent, startOrigin, stopAll } from './harness.js';
import { h2session, startHttpsTunnel, within, type HttpsTunnel } from './https-fixture.js';
import { originHandler } from './origin.js';

/** An HTTP/2 session to the edge whose SETTINGS have arrived (extended CONNECT needs them). */
async function settledSession(tunnel: HttpsTunnel, host: string): Promise<ClientHttp2Session> {
  const session = h2session(tunnel, host);
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  return session;
}

/** A client frame (RFC 6455 §5.2): FIN, masked, payload under 126 bytes. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

interface Frame {
  opcode: number;
  payload: Buffer;
}

/** The extended CONNECT's stream, its response head and the server frames read from it. */
interface Opened {
  stream: ClientHttp2Stream;
  headers: Promise<Record<string, string | string[] | number | undefined>>;
  /** Resolves with the next whole server frame (unmasked, payload under 126 bytes). */
  nextFrame(): Promise<Frame>;
  closed: Promise<number>;
}

function openWebSocket(
  session: ClientHttp2Session,
  authority: string,
  extra: Record<string, string> = {},
  path = '/ws',
): Opened {
  const stream = session.request(
    {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': path,
      ':authority': authority,
      'sec-websocket-version': '13',
      ...extra,
    },
    { endStream: false },
  );
  stream.on('error', () => {});
  let buffered = Buffer.alloc(0);
  const waiters: (() => void)[] = [];
  stream.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (const wake of waiters.splice(0)) wake();
  });
  const nextFrame = async (): Promise<Frame> => {
    for (let i = 0; i < 100; i++) {
      if (buffered.length >= 2 && buffered.length >= 2 + (buffered[1]! & 0x7f)) {
        const length = buffered[1]! & 0x7f;
        const frame = { opcode: buffered[0]! & 0x0f, payload: buffered.subarray(2, 2 + length) };
        buffered = buffered.subarray(2 + length);
        return frame;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    throw new Error('no whole frame arrived');
  };
  return {
    stream,
    headers: new Promise((resolve) => stream.once('response', resolve)),
    nextFrame,
    closed: new Promise((resolve) => stream.once('close', () => resolve(stream.rstCode ?? -1))),
  };
}

/** The origin's server side of the next WebSocket it accepts. */
function nextOriginSocket(tunnel: HttpsTunnel): Promise<WebSocket> {
  return new Promise((resolve) => tunnel.wss.once('connection', resolve));
}

/** The tunnel's newest upgrade record, once the history has written it. */
async function upgradeRecord(tunnel: HttpsTunnel): Promise<RequestRecord> {
  for (let i = 0; i < 50; i++) {
    const page = await tunnel.edge.store.listRequestRecords({ tunnel: tunnel.name, limit: 10 });
    const found = page.records.find((r) => r.upgrade);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no upgrade record within 5 s');
}

/** RFC 6455 §4.2.2: the Accept a server answers `key` with. */
function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/**
 * An origin that answers each upgrade by path, raw: `/ws` a correct 101 after which it
 * echoes bytes, `/html` a web page, `/bad-accept` and `/not-websocket` 101s that break the
 * handshake, `/h2-settings` a correct 101 with connection-specific headers HTTP/2 forbids.
 * Plain requests: `/h2-settings` with those headers, anything else `fine`. `upgrades` keeps
 * every upgrade request's raw headers as the origin got them.
 */
async function startHandshakeOrigin(): Promise<{ port: number; upgrades: string[][] }> {
  const upgrades: string[][] = [];
  const origin = await startOrigin((req, res) => {
    if (req.url === '/h2-settings')
      res
        .writeHead(200, { 'HTTP2-Settings': 'x', 'Keep-Alive': 'timeout=5', 'Content-Length': '2' })
        .end('ok');
    else res.writeHead(200, { 'Content-Length': '4' }).end('fine');
  });
  origin.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    upgrades.push(req.rawHeaders);
    socket.on('error', () => {});
    const accept = acceptFor(String(req.headers['sec-websocket-key']));
    const switching = (lines: string[]): void => {
      socket.write(['HTTP/1.1 101 Switching Protocols', ...lines, '', ''].join('\r\n'));
      socket.pipe(socket);
    };
    switch (req.url) {
      case '/html':
        socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\n\r\n<html>hi</html>');
        break;
      case '/bad-accept':
        switching([
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Accept: ${acceptFor('other')}`,
        ]);
        break;
      case '/not-websocket':
        switching(['Upgrade: h2c', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`]);
        break;
      case '/h2-settings':
        switching([
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Accept: ${accept}`,
          'HTTP2-Settings: x',
          'Keep-Alive: timeout=5',
          'X-Kept: yes',
        ]);
        break;
      default:
        switching(['Upgrade: WebSocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`]);
    }
  });
  return { port: origin.port, upgrades };
}

describe('WebSocket over HTTP/2 extended CONNECT', () => {
  let tunnel: HttpsTunnel;
  beforeAll(async () => {
    tunnel = await startHttpsTunnel(originHandler);
  }, 30_000);
  afterAll(async () => {
    await stopAll();
    tunnel?.stop();
  });

  it('answers 200 with the negotiated subprotocol, echoes frames and closes with a close code', async () => {
    const session = await settledSession(tunnel, tunnel.host);
    try {
      expect(session.remoteSettings.enableConnectProtocol).toBe(true);
      const origin = nextOriginSocket(tunnel);
      const ws = openWebSocket(session, tunnel.host, { 'sec-websocket-protocol': 'chat, superchat' });
      const headers = await within(5_000, 'the response', ws.headers);
      expect(headers[':status']).toBe(200);
      expect(headers['sec-websocket-protocol']).toBe('chat');
      expect(headers['sec-websocket-accept']).toBeUndefined();
      // The origin saw an HTTP/1.1 handshake (ws checks key and version) for the same subprotocol.
      expect((await origin).protocol).toBe('chat');

      ws.stream.write(maskedFrame(0x1, Buffer.from('hello over h2')));
      const echo = await within(5_000, 'the echo', ws.nextFrame());
      expect(echo.opcode).toBe(0x1);
      expect(echo.payload.toString()).toBe('hello over h2');

      const code = Buffer.alloc(2);
      code.writeUInt16BE(4001);
      ws.stream.write(maskedFrame(0x8, code));
      const close = await within(5_000, 'the close frame', ws.nextFrame());
      expect(close.opcode).toBe(0x8);
      expect(close.payload.readUInt16BE(0)).toBe(4001);
      // The origin closed its socket: the tunnel stream ended, and with it the HTTP/2 stream's side.
      await within(5_000, 'the stream end', new Promise((resolve) => ws.stream.once('end', resolve)));
      ws.stream.end();
      expect(await within(5_000, 'the stream closing', ws.closed)).toBe(h2.NGHTTP2_NO_ERROR);
      expect(session.closed || session.destroyed).toBe(false);

      // Recorded as the upgrade it stands for: GET, 101, the frames' bytes each way.
      const record = await upgradeRecord(tunnel);
      expect(record).toMatchObject({
        method: 'GET',
        path: '/ws',
        status: 101,
        upgrade: true,
        errorCode: null,
      });
      expect(record.bytesIn).toBe(
        maskedFrame(0x1, Buffer.from('hello over h2')).length + maskedFrame(0x8, code).length,
      );
      expect(record.bytesOut).toBe(2 + 'hello over h2'.length + 2 + 2);
    } finally {
      session.close();
    }
  });

  it('closes the origin WebSocket when the viewer resets its stream; the connection goes on', async () => {
    const session = await settledSession(tunnel, tunnel.host);
    try {
      const origin = nextOriginSocket(tunnel);
      const ws = openWebSocket(session, tunnel.host);
      expect((await within(5_000, 'the response', ws.headers))[':status']).toBe(200);
      const server = await origin;
      const originClosed = new Promise<number>((resolve) => server.once('close', resolve));
      ws.stream.close(h2.NGHTTP2_CANCEL);
      // No close frame: the origin sees the TCP connection go (1006).
      expect(await within(5_000, 'the origin closing', originClosed)).toBe(1006);

      const again = openWebSocket(session, tunnel.host);
      expect((await within(5_000, 'a second response', again.headers))[':status']).toBe(200);
      again.stream.write(maskedFrame(0x1, Buffer.from('still here')));
      expect((await within(5_000, 'the echo', again.nextFrame())).payload.toString()).toBe('still here');
      again.stream.close(h2.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
  });

  it("relays the origin's refusal of the handshake as the stream's response, then closes the stream", async () => {
    const session = await settledSession(tunnel, tunnel.host);
    try {
      // ws refuses a version it does not speak with 400, before any 101.
      const ws = openWebSocket(session, tunnel.host, { 'sec-websocket-version': '99' });
      let body = '';
      ws.stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
      const headers = await within(5_000, 'the response', ws.headers);
      expect(headers[':status']).toBe(400);
      expect(headers['x-burrow-error']).toBeUndefined();
      expect(await within(3_000, 'the stream closing', ws.closed)).toBe(h2.NGHTTP2_NO_ERROR);
      expect(body).toMatch(/Sec-WebSocket-Version/);
    } finally {
      session.close();
    }
  });

  it('refuses a :protocol other than websocket with 501 and closes the stream', async () => {
    const session = await settledSession(tunnel, tunnel.host);
    try {
      const other = session.request(
        {
          ':method': 'CONNECT',
          ':protocol': 'connect-udp',
          ':scheme': 'https',
          ':path': '/',
          ':authority': tunnel.host,
        },
        { endStream: false },
      );
      other.on('error', () => {});
      other.on('data', () => {});
      const closed = new Promise<number>((resolve) =>
        other.once('close', () => resolve(other.rstCode ?? -1)),
      );
      const headers = await within(
        5_000,
        'the response',
        new Promise<Record<string, unknown>>((r) => other.once('response', r)),
      );
      expect(headers[':status']).toBe(501);
      expect(headers['x-burrow-error']).toBe('TUN_ERR_PROTOCOL_NOT_SUPPORTED');
      expect(await within(3_000, 'the stream closing', closed)).toBe(h2.NGHTTP2_NO_ERROR);
      expect(session.closed || session.destroyed).toBe(false);
    } finally {
      session.close();
    }
  });

  it('answers a tunnel nobody serves with its 404 on the stream, then closes it', async () => {
    const host = 'nosuch.burrow.test';
    const session = await settledSession(tunnel, host);
    try {
      const ws = openWebSocket(session, host);
      const headers = await within(5_000, 'the response', ws.headers);
      expect(headers[':status']).toBe(404);
      expect(headers['x-burrow-error']).toBe('TUN_ERR_TUNNEL_NOT_FOUND');
      expect(await within(3_000, 'the stream closing', ws.closed)).toBe(h2.NGHTTP2_NO_ERROR);
    } finally {
      session.close();
    }
  });

  it("names the :authority in the 404 for an upgrade at the edge's own host", async () => {
    const session = await settledSession(tunnel, 'burrow.test');
    try {
      const ws = openWebSocket(session, 'burrow.test');
      let body = '';
      ws.stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
      const headers = await within(5_000, 'the response', ws.headers);
      expect(headers[':status']).toBe(404);
      expect(await within(3_000, 'the stream closing', ws.closed)).toBe(h2.NGHTTP2_NO_ERROR);
      expect(body).toContain('nothing to upgrade at burrow.test/ws');
    } finally {
      session.close();
    }
  });

  it("runs the tunnel's policy: 401 on the stream without credentials, the WebSocket with them", async () => {
    const agent = await startAgent(
      { url: `http://127.0.0.1:${tunnel.edge.port}` },
      String(tunnel.originPort),
      {
        args: ['--basic-auth', 'ann:secret'],
      },
    );
    const host = `${agent.name}.burrow.test`;
    const session = await settledSession(tunnel, host);
    try {
      const refused = openWebSocket(session, host);
      const headers = await within(5_000, 'the refusal', refused.headers);
      expect(headers[':status']).toBe(401);
      expect(headers['x-burrow-error']).toBe('POLICY_AUTH_REQUIRED');
      expect(headers['www-authenticate']).toMatch(/^Basic /);
      expect(await within(3_000, 'the stream closing', refused.closed)).toBe(h2.NGHTTP2_NO_ERROR);

      const admitted = openWebSocket(session, host, {
        authorization: `Basic ${Buffer.from('ann:secret').toString('base64')}`,
      });
      expect((await within(5_000, 'the response', admitted.headers))[':status']).toBe(200);
      admitted.stream.write(maskedFrame(0x1, Buffer.from('let in')));
      expect((await within(5_000, 'the echo', admitted.nextFrame())).payload.toString()).toBe('let in');
      admitted.stream.close(h2.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
  });

  it("resets the viewer's stream with CANCEL when its agent goes away mid-WebSocket", async () => {
    const agent = await startAgent(
      { url: `http://127.0.0.1:${tunnel.edge.port}` },
      String(tunnel.originPort),
    );
    const host = `${agent.name}.burrow.test`;
    const session = await settledSession(tunnel, host);
    try {
      const ws = openWebSocket(session, host);
      expect((await within(5_000, 'the response', ws.headers))[':status']).toBe(200);
      ws.stream.write(maskedFrame(0x1, Buffer.from('before')));
      expect((await within(5_000, 'the echo', ws.nextFrame())).payload.toString()).toBe('before');
      agent.proc.signal('SIGKILL');
      // RFC 8441 §5: an abort is RST_STREAM CANCEL; a clean end would be END_STREAM.
      expect(await within(5_000, 'the stream reset', ws.closed)).toBe(h2.NGHTTP2_CANCEL);
      expect(session.closed || session.destroyed).toBe(false);
    } finally {
      session.close();
    }
  });

  it('still refuses a plain CONNECT with 405', async () => {
    const session = await settledSession(tunnel, tunnel.host);
    try {
      const plain = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
      plain.on('error', () => {});
      plain.on('data', () => {});
      const headers = await within(
        5_000,
        'the response',
        new Promise<Record<string, unknown>>((r) => plain.once('response', r)),
      );
      expect(headers[':status']).toBe(405);
      expect(headers['x-burrow-error']).toBe('TUN_ERR_METHOD_NOT_ALLOWED');
      plain.close();
    } finally {
      session.close();
    }
  });
  describe("the origin's answer to the handshake the edge made up", () => {
    let host: string;
    let origin: Awaited<ReturnType<typeof startHandshakeOrigin>>;
    beforeAll(async () => {
      origin = await startHandshakeOrigin();
      // Captures are kept only for tunnels with an owner: this agent has a key.
      const { secret } = await tunnel.edge.store.createApiKey({ label: 'h2-websocket' });
      const agent = await startAgent({ url: `http://127.0.0.1:${tunnel.edge.port}` }, String(origin.port), {
        token: secret,
        args: ['--capture', 'headers'],
      });
      host = `${agent.name}.burrow.test`;
    }, 30_000);

    /** A WebSocket to `/ws` through the same agent, open and echoing (the session is alive). */
    async function openEcho(session: ClientHttp2Session): Promise<Opened> {
      const ws = openWebSocket(session, host);
      expect((await within(5_000, 'the echo socket', ws.headers))[':status']).toBe(200);
      return ws;
    }

    async function echoes(ws: Opened, text: string): Promise<void> {
      let got = '';
      const echoed = new Promise<void>((resolve) =>
        ws.stream.on('data', (chunk: Buffer) => {
          got += chunk.toString();
          if (got.includes(text)) resolve();
        }),
      );
      ws.stream.write(text);
      await within(5_000, `the echo of ${text}`, echoed);
    }

    it.each([
      ['/html', /200 answer/],
      ['/bad-accept', /Sec-WebSocket-Accept/],
      ['/not-websocket', /Upgrade/],
    ])('answers %s with 502 TUN_ERR_HEAD_INVALID, nothing of the origin piped', async (path, detail) => {
      const session = await settledSession(tunnel, host);
      try {
        const ws = openWebSocket(session, host, {}, path);
        let body = '';
        ws.stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
        const headers = await within(5_000, 'the response', ws.headers);
        expect(headers[':status']).toBe(502);
        expect(headers['x-burrow-error']).toBe('TUN_ERR_HEAD_INVALID');
        expect(await within(3_000, 'the stream closing', ws.closed)).toBe(h2.NGHTTP2_NO_ERROR);
        expect(body).toMatch(detail);
        expect(body).not.toMatch(/<html>hi/);
        expect(session.closed || session.destroyed).toBe(false);
      } finally {
        session.close();
      }
    });

    it('drops connection-specific headers HTTP/2 forbids from a 101; the agent session goes on', async () => {
      const session = await settledSession(tunnel, host);
      try {
        const held = await openEcho(session);
        await echoes(held, 'before');

        const ws = openWebSocket(session, host, {}, '/h2-settings');
        const headers = await within(5_000, 'the response', ws.headers);
        expect(headers[':status']).toBe(200);
        expect(headers['x-kept']).toBe('yes');
        expect(headers['http2-settings']).toBeUndefined();
        expect(headers['keep-alive']).toBeUndefined();
        await echoes(ws, 'switched');

        // The WebSocket opened before, on the same agent session, still echoes.
        await echoes(held, 'after');
        held.stream.close(h2.NGHTTP2_CANCEL);
        ws.stream.close(h2.NGHTTP2_CANCEL);
      } finally {
        session.close();
      }
    });

    it('drops them from a plain answer to an HTTP/2 request too; the agent session goes on', async () => {
      const session = await settledSession(tunnel, host);
      try {
        const held = await openEcho(session);
        await echoes(held, 'before');

        const plain = session.request({ ':path': '/h2-settings', ':authority': host });
        plain.on('error', () => {});
        let body = '';
        plain.on('data', (chunk: Buffer) => (body += chunk.toString()));
        const plainHeaders = await within(
          5_000,
          'the plain response',
          new Promise<Record<string, unknown>>((resolve) => plain.once('response', resolve)),
        );
        expect(plainHeaders[':status']).toBe(200);
        expect(plainHeaders['http2-settings']).toBeUndefined();
        await within(5_000, 'the plain body', new Promise((resolve) => plain.once('end', resolve)));
        expect(body).toBe('ok');

        await echoes(held, 'after');
        held.stream.close(h2.NGHTTP2_CANCEL);
      } finally {
        session.close();
      }
    });

    it("records the handshake the origin got: Upgrade and the edge's Sec-WebSocket-Key", async () => {
      const session = await settledSession(tunnel, host);
      try {
        const before = origin.upgrades.length;
        const ws = await openEcho(session);
        ws.stream.close(h2.NGHTTP2_CANCEL);
        const got = origin.upgrades[before]!;
        const key = got[got.findIndex((name) => name.toLowerCase() === 'sec-websocket-key') + 1]!;
        const name = host.split('.')[0]!;
        /** A captured header's value. */
        const value = (captured: readonly string[], wanted: string): string | undefined =>
          captured[captured.findIndex((n) => n.toLowerCase() === wanted) + 1];
        // The list leaves captures out: each upgrade of /ws is read whole until this one's shows.
        let captured: string[] = [];
        for (let i = 0; i < 50 && value(captured, 'sec-websocket-key') !== key; i++) {
          const page = await tunnel.edge.store.listRequestRecords({ tunnel: name, limit: 20 });
          for (const summary of page.records.filter((r) => r.upgrade && r.path === '/ws')) {
            const whole = await tunnel.edge.store.getRequestRecord(summary.id);
            if (value(whole?.capture?.requestHeaders ?? [], 'sec-websocket-key') === key)
              captured = whole!.capture!.requestHeaders;
          }
          if (value(captured, 'sec-websocket-key') !== key)
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(value(captured, 'sec-websocket-key')).toBe(key);
        expect(value(captured, 'upgrade')).toBe('websocket');
      } finally {
        session.close();
      }
    });
  });
});

describe('WebSocket over HTTP/2 and limits.connectionsPerIp', () => {
  let tunnel: HttpsTunnel;
  beforeAll(async () => {
    tunnel = await startHttpsTunnel(originHandler, {}, { BURROW_LIMITS_CONNECTIONS_PER_IP: '3' });
  }, 30_000);
  afterAll(async () => {
    await stopAll();
    tunnel?.stop();
  });

  it('counts WebSocket streams as connections of their address: the first rides on its connection, each further one takes a slot while open', async () => {
    // From 127.0.0.1: the agent's connection and this HTTP/2 connection are two of the three;
    // the first WebSocket is the HTTP/2 connection's own (as over HTTP/1.1, one connection
    // each), the second takes the third slot.
    const session = await settledSession(tunnel, tunnel.host);
    try {
      const first = openWebSocket(session, tunnel.host);
      expect((await within(5_000, 'the first response', first.headers))[':status']).toBe(200);
      const extra = openWebSocket(session, tunnel.host);
      expect((await within(5_000, 'the second response', extra.headers))[':status']).toBe(200);

      const second = openWebSocket(session, tunnel.host);
      const refused = await within(5_000, 'the refusal', second.headers);
      expect(refused[':status']).toBe(429);
      expect(refused['x-burrow-error']).toBe('EDGE_TOO_MANY_CONNECTIONS');
      expect(refused['retry-after']).toBe('1');
      expect(refused['x-request-id']).toBeDefined();
      expect(await within(3_000, 'the refused stream closing', second.closed)).toBe(h2.NGHTTP2_NO_ERROR);

      // The first WebSocket's close gives its place back.
      first.stream.close(h2.NGHTTP2_CANCEL);
      await within(3_000, 'the first stream closing', first.closed);
      let third: Opened | undefined;
      for (let i = 0; i < 20; i++) {
        const attempt = openWebSocket(session, tunnel.host);
        if ((await within(5_000, 'a later response', attempt.headers))[':status'] === 200) {
          third = attempt;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(third).toBeDefined();
      third!.stream.write(maskedFrame(0x1, Buffer.from('room again')));
      expect((await within(5_000, 'the echo', third!.nextFrame())).payload.toString()).toBe('room again');
      third!.stream.close(h2.NGHTTP2_CANCEL);
      extra.stream.close(h2.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
  });
});
