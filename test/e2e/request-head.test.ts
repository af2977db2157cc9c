/**
 * What a viewer's request head may say, and what of it reaches the origin: hop-by-hop
 * stripping happens before the owner's header edits, the edge's forwarding headers
 * (Forwarded included) cannot be spoofed, and Host and the request target are strict.
 */

import { createServer, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, startEdge, stopAll, type Agent, type Edge } from './harness.js';

interface Seen {
  url: string;
  rawHeaders: string[];
}

/** Answers every request (and upgrade) with the target and headers it received. */
const origin = createServer((req, res) => {
  const body = JSON.stringify({ url: req.url ?? '', rawHeaders: req.rawHeaders } satisfies Seen);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
origin.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
  const body = JSON.stringify({ url: req.url ?? '', rawHeaders: req.rawHeaders } satisfies Seen);
  socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n${body}`);
});

let edge: Edge;
let plain: Agent;
let edited: Agent;

beforeAll(async () => {
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const port = String((origin.address() as AddressInfo).port);
  edge = await startEdge({ env: { BURROW_TUNNELS_ANONYMOUS_TUNNELS_PER_IP: '100' } });
  plain = await startAgent(edge, port);
  edited = await startAgent(edge, port, { args: ['--request-header-add', 'X-Foo: from-owner'] });
}, 30_000);

afterAll(async () => {
  await stopAll();
  origin.closeAllConnections();
  origin.close();
});

/** Sends a raw head and returns the raw response text (the edge closes: Connection: close). */
function raw(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(edge.port, '127.0.0.1', () => socket.write(head));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

function status(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

function echoed(text: string): Seen {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Seen;
}

function values(seen: Seen, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < seen.rawHeaders.length; i += 2)
    if (seen.rawHeaders[i]!.toLowerCase() === name) out.push(seen.rawHeaders[i + 1]!);
  return out;
}

describe('hop-by-hop stripping happens before the owner header edits', () => {
  it("a viewer's Connection: X-Foo does not remove the owner's added X-Foo", async () => {
    const text = await raw(
      `GET /a HTTP/1.1\r\nHost: ${edge.host(edited.name)}\r\nConnection: close, X-Foo\r\nX-Foo: from-viewer\r\n\r\n`,
    );
    expect(status(text)).toBe(200);
    expect(values(echoed(text), 'x-foo')).toEqual(['from-owner']);
  });

  it("a viewer's Connection: Host does not remove or replace the public Host", async () => {
    const text = await raw(
      `GET /a HTTP/1.1\r\nHost: ${edge.host(plain.name)}\r\nConnection: close, Host, X-Forwarded-Host, X-Request-Id\r\n\r\n`,
    );
    expect(status(text)).toBe(200);
    const seen = echoed(text);
    expect(values(seen, 'host')).toEqual([edge.host(plain.name)]);
    expect(values(seen, 'x-forwarded-host')).toEqual([edge.host(plain.name)]);
    expect(values(seen, 'x-request-id')).toHaveLength(1);
  });

  it("an upgrade's Connection names only Upgrade, so it cannot strip the owner's header", async () => {
    const text = await raw(
      `GET /ws HTTP/1.1\r\nHost: ${edge.host(edited.name)}\r\nUpgrade: echo\r\nConnection: Upgrade, X-Foo\r\nX-Foo: from-viewer\r\n\r\n`,
    );
    expect(status(text)).toBe(101);
    const seen = echoed(text);
    expect(values(seen, 'x-foo')).toEqual(['from-owner']);
    expect(values(seen, 'connection')).toEqual(['Upgrade']);
    expect(values(seen, 'upgrade')).toEqual(['echo']);
  });
});

describe('Forwarded', () => {
  it("replaces the viewer's Forwarded with one element matching X-Forwarded-*", async () => {
    const text = await raw(
      `GET /a HTTP/1.1\r\nHost: ${edge.host(plain.name)}\r\nForwarded: for=203.0.113.9;host=evil.example;proto=https\r\n` +
        'X-Forwarded-For: 198.51.100.7\r\nConnection: close\r\n\r\n',
    );
    expect(status(text)).toBe(200);
    const seen = echoed(text);
    expect(values(seen, 'forwarded')).toEqual([`for=127.0.0.1;host="${edge.host(plain.name)}";proto=http`]);
    // X-Forwarded-For is replaced too: the one client address, the same one Forwarded names.
    expect(values(seen, 'x-forwarded-for')).toEqual(['127.0.0.1']);
  });
});

describe('Host and request target', () => {
  const bad = async (head: string): Promise<string> => {
    const text = await raw(head);
    expect(status(text)).toBe(400);
    expect(text).toMatch(/\r\nX-Burrow-Error: TUN_ERR_BAD_REQUEST\r\n/i);
    return text;
  };

  it('refuses two Host headers', async () => {
    await bad(
      `GET /a HTTP/1.1\r\nHost: ${edge.host(plain.name)}\r\nHost: ${edge.host(edited.name)}\r\nConnection: close\r\n\r\n`,
    );
  });

  it('refuses a missing Host on HTTP/1.1', async () => {
    await bad('GET /a HTTP/1.1\r\nConnection: close\r\n\r\n');
  });

  it.each([
    (p: string, n: string) => `${n}.localhost:1@b.localhost:${p}`,
    (p: string, n: string) => `${n}.localhost:${p}x`,
    (p: string, n: string) => `${n}.localhost:${p},b.localhost`,
    (p: string, n: string) => `${n}.localhost,b.localhost:${p}`,
    (_p: string, n: string) => `${n}.localhost:0`,
    (_p: string, n: string) => `${n}.localhost:65536`,
    (p: string, n: string) => `${n}.local host:${p}`,
    (p: string, _n: string) => `[::1:${p}`,
  ])('refuses an invalid Host (%#)', async (make) => {
    const text = await bad(
      `GET /a HTTP/1.1\r\nHost: ${make(String(edge.port), plain.name)}\r\nConnection: close\r\n\r\n`,
    );
    expect(text).toContain('Host');
  });

  it('sends the origin origin-form for an absolute-form target that agrees with Host', async () => {
    const host = edge.host(plain.name);
    const text = await raw(`GET http://${host}/x?y=1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(status(text)).toBe(200);
    expect(echoed(text).url).toBe('/x?y=1');
  });

  it('refuses an absolute-form target whose authority disagrees with Host, or carries userinfo', async () => {
    await bad(
      `GET http://${edge.host(edited.name)}/x HTTP/1.1\r\nHost: ${edge.host(plain.name)}\r\nConnection: close\r\n\r\n`,
    );
    await bad(
      `GET http://u@${edge.host(plain.name)}/x HTTP/1.1\r\nHost: ${edge.host(plain.name)}\r\nConnection: close\r\n\r\n`,
    );
  });

  it('applies the same rules to upgrades', async () => {
    await bad(
      `GET /ws HTTP/1.1\r\nHost: ${edge.host(plain.name)}\r\nHost: ${edge.host(edited.name)}\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n`,
    );
    await bad(
      `GET /ws HTTP/1.1\r\nHost: ${plain.name}.localhost:1@b.localhost\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n`,
    );
    const host = edge.host(plain.name);
    const ok = await raw(
      `GET http://${host}/ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n`,
    );
    expect(status(ok)).toBe(101);
    expect(echoed(ok).url).toBe('/ws');
  });

  it('answers CONNECT with 405 and a code instead of dropping the connection', async () => {
    const text = await raw(
      `CONNECT ${edge.host(plain.name)} HTTP/1.1\r\nHost: ${edge.host(plain.name)}\r\n\r\n`,
    );
    expect(status(text)).toBe(405);
    expect(text).toMatch(/\r\nX-Burrow-Error: TUN_ERR_METHOD_NOT_ALLOWED\r\n/i);
  });

  it('answers an upgrade to a host with no tunnel with a 404 carrying its code', async () => {
    const host = edge.host('nosuchtunnel');
    const text = await raw(
      `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
    );
    expect(status(text)).toBe(404);
    expect(text).toMatch(/\r\nX-Burrow-Error: TUN_ERR_TUNNEL_NOT_FOUND\r\n/i);
  });

  it('still serves valid requests after all of that', async () => {
    const text = await raw(
      `GET /fine HTTP/1.1\r\nHost: ${edge.host(plain.name).toUpperCase()}\r\nConnection: close\r\n\r\n`,
    );
    expect(status(text)).toBe(200);
    expect(echoed(text).url).toBe('/fine');
  });
});
