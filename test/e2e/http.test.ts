/** HTTP through a real edge and agent: semantics, bytes, streaming, concurrency. */

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { stopAll, tempDir, tunnelRequest, type Agent, type Edge } from './harness.js';
import { startTunnel } from './fixture.js';
import { BLOCK, expectedSha } from './origin.js';

const run = promisify(execFile);

let edge: Edge;
let agent: Agent;

interface Echo {
  method: string;
  url: string;
  rawHeaders: string[];
  bodyLength: number;
  bodySha: string;
}

beforeAll(async () => {
  ({ edge, agent } = await startTunnel());
});

afterAll(stopAll);

/** Sends raw bytes as a request and returns the raw response text. */
function rawRequest(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    // No half-close: like curl, the client keeps its side open until the server closes.
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

describe('HTTP through the tunnel', () => {
  it('prints a URL of the form http://<6 chars>.localhost:<port>', () => {
    expect(agent.url).toMatch(new RegExp(`^http://[2-9a-z]{6}\\.localhost:${edge.port}$`));
  });

  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const)(
    'forwards %s with its body',
    async (method) => {
      const body = method === 'GET' || method === 'OPTIONS' ? undefined : `payload for ${method}`;
      const res = await tunnelRequest(edge, agent.name, '/echo', { method, body });
      expect(res.statusCode).toBe(200);
      const echo = (await res.body.json()) as Echo;
      expect(echo.method).toBe(method);
      expect(echo.bodyLength).toBe(body ? Buffer.byteLength(body) : 0);
    },
  );

  it('answers HEAD with the headers and no body', async () => {
    const res = await tunnelRequest(edge, agent.name, '/echo', { method: 'HEAD' });
    expect(res.statusCode).toBe(200);
    expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    expect((await res.body.arrayBuffer()).byteLength).toBe(0);
  });

  it('keeps percent-encoded paths and long query strings byte-exact', async () => {
    const query = `q=${'x%20y'.repeat(1500)}&u=%C3%A9%E2%9C%93&plus=a+b`;
    const path = `/echo/%E2%9C%93/a%20b/%2F%2e%2E/?${query}`;
    const res = await tunnelRequest(edge, agent.name, path);
    const echo = (await res.body.json()) as Echo;
    expect(echo.url).toBe(path);
  });

  it('keeps unicode paths, percent-encoded as clients send them, byte-exact', async () => {
    const path = `/echo/${encodeURIComponent('ünï€ode ✓')}/${encodeURIComponent('日本')}?${encodeURIComponent('ß')}=${encodeURIComponent('ø')}`;
    const res = await tunnelRequest(edge, agent.name, path);
    expect(((await res.body.json()) as Echo).url).toBe(path);
  });

  it('answers raw non-ASCII bytes in the request line with a readable 400, and keeps serving', async () => {
    const head = Buffer.concat([
      Buffer.from('GET '),
      Buffer.from('/echo/ünï', 'utf8'),
      Buffer.from(` HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nConnection: close\r\n\r\n`),
    ]);
    const text = await rawRequest(edge.port, head);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toMatch(/malformed HTTP request/);
    const res = await tunnelRequest(edge, agent.name, '/echo');
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('keeps request header order, case and repeats, and sets forwarding headers', async () => {
    // A raw client, so the exact header bytes (including Connection tokens) are ours.
    const text = await rawRequest(
      edge.port,
      Buffer.from(
        `GET /echo HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nX-First: one\r\nx-MiXeD: Two\r\n` +
          'X-Repeat: a\r\nX-Repeat: b\r\nConnection: close, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n' +
          'X-Forwarded-For: 203.0.113.9\r\nX-Request-Id: spoofed\r\n\r\n',
      ),
    );
    const responseHead = text.slice(0, text.indexOf('\r\n\r\n'));
    const { rawHeaders } = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Echo;
    const names = rawHeaders.filter((_, i) => i % 2 === 0);
    const firstIdx = names.indexOf('X-First');
    expect(names.slice(firstIdx, firstIdx + 4)).toEqual(['X-First', 'x-MiXeD', 'X-Repeat', 'X-Repeat']);
    expect(names.map((n) => n.toLowerCase())).not.toContain('x-hop');
    expect(names.map((n) => n.toLowerCase())).not.toContain('keep-alive');
    const value = (name: string): string | undefined => rawHeaders[rawHeaders.indexOf(name) + 1];
    // The viewer's own X-Forwarded-For is dropped: the origin gets the one address the edge saw.
    expect(value('X-Forwarded-For')).toBe('127.0.0.1');
    expect(value('X-Forwarded-Proto')).toBe('http');
    expect(value('X-Forwarded-Host')).toBe(edge.host(agent.name));
    expect(value('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(value('X-Request-Id')).not.toBe('spoofed');
    expect(responseHead).toContain(`X-Request-Id: ${value('X-Request-Id')}`);
  });

  it('passes several Set-Cookie headers and header case back to the viewer', async () => {
    const text = await rawRequest(
      edge.port,
      Buffer.from(`GET /cookies HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nConnection: close\r\n\r\n`),
    );
    const lines = text.split('\r\n');
    expect(lines.filter((l) => /^set-cookie:/i.test(l))).toEqual([
      'Set-Cookie: a=1; Path=/',
      'Set-Cookie: b=2; HttpOnly',
      'set-cookie: c=3',
    ]);
    expect(lines).toContain('X-Mixed-Case: Value');
  });

  it('returns bytes 0-255 byte-exact', async () => {
    const res = await tunnelRequest(edge, agent.name, '/bytes256');
    const body = Buffer.from(await res.body.arrayBuffer());
    expect(body.length).toBe(1024);
    for (let i = 0; i < body.length; i++) expect(body[i]).toBe(i % 256);
  });

  it('uploads 10 MiB with a matching sha256', async () => {
    const size = 10 * 1024 * 1024;
    const data = Buffer.alloc(size);
    for (let off = 0; off < size; off += BLOCK.length) BLOCK.copy(data, off);
    const res = await tunnelRequest(edge, agent.name, '/upload', { method: 'POST', body: data });
    const reply = (await res.body.json()) as { length: number; sha: string };
    expect(reply.length).toBe(size);
    expect(reply.sha).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('downloads 100 MiB with a matching sha256', async () => {
    const size = 100 * 1024 * 1024;
    const res = await tunnelRequest(edge, agent.name, `/download?bytes=${size}`);
    const hash = createHash('sha256');
    let length = 0;
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    expect(length).toBe(size);
    expect(hash.digest('hex')).toBe(expectedSha(size));
  });

  it('delivers the first chunk before the origin finishes', async () => {
    const started = Date.now();
    const res = await tunnelRequest(edge, agent.name, '/chunked?gap=1000');
    const iterator = res.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    const firstAt = Date.now() - started;
    expect(Buffer.from(first.value as Buffer).toString()).toBe('first;');
    expect(firstAt).toBeLessThan(800);
    let rest = '';
    for (let r = await iterator.next(); !r.done; r = await iterator.next())
      rest += Buffer.from(r.value as Buffer).toString();
    expect(rest).toBe('second');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('streams server-sent events one by one', async () => {
    const res = await tunnelRequest(edge, agent.name, '/sse', { headers: { accept: 'text/event-stream' } });
    expect(res.headers['content-type']).toBe('text/event-stream');
    const arrivals: number[] = [];
    let text = '';
    const started = Date.now();
    for await (const chunk of res.body) {
      text += Buffer.from(chunk as Buffer).toString();
      arrivals.push(Date.now() - started);
    }
    expect(text.match(/data: event \d/g)).toEqual([
      'data: event 0',
      'data: event 1',
      'data: event 2',
      'data: event 3',
      'data: event 4',
    ]);
    // Five events 150 ms apart arrive as separate reads spread over time, not in one burst at the end.
    expect(arrivals.length).toBeGreaterThanOrEqual(4);
    expect(arrivals[0]!).toBeLessThan(300);
  });

  it('handles Expect: 100-continue from curl', async () => {
    const file = join(tempDir(), 'body.bin');
    writeFileSync(file, Buffer.alloc(200_000, 7));
    const { stdout, stderr } = await run('curl', [
      '-sv',
      '-H',
      `Host: ${edge.host(agent.name)}`,
      '-H',
      'Expect: 100-continue',
      '--data-binary',
      `@${file}`,
      `${edge.url}/upload`,
    ]);
    expect(stderr).toMatch(/HTTP\/1\.1 100 Continue/);
    expect(JSON.parse(stdout)).toMatchObject({ length: 200_000 });
  });

  it('serves 200 concurrent requests with no cross-talk', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const res = await tunnelRequest(edge, agent.name, `/echo?i=${i}`, {
          method: 'POST',
          body: `body-${i}`,
          headers: { 'x-test-id': String(i) },
        });
        const echo = (await res.body.json()) as Echo;
        return { i, echo, requestId: res.headers['x-request-id'] };
      }),
    );
    for (const { i, echo } of results) {
      expect(echo.url).toBe(`/echo?i=${i}`);
      expect(echo.rawHeaders[echo.rawHeaders.indexOf('x-test-id') + 1]).toBe(String(i));
      expect(echo.bodySha).toBe(createHash('sha256').update(`body-${i}`).digest('hex'));
    }
    expect(new Set(results.map((r) => r.requestId)).size).toBe(200);
  });

  it('does not let a 5 s request delay 50 fast ones', async () => {
    const slow = tunnelRequest(edge, agent.name, '/slow?ms=5000');
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const res = await tunnelRequest(edge, agent.name, '/echo');
        await res.body.dump();
        expect(res.statusCode).toBe(200);
      }),
    );
    expect(Date.now() - started).toBeLessThan(2000);
    const res = await slow;
    expect(await res.body.text()).toBe('slow');
  });

  it('routes /t/<name>/ on the edge host for setups without wildcard DNS', async () => {
    const res = await request(`${edge.url}/t/${agent.name}/echo?x=1`);
    const echo = (await res.body.json()) as Echo;
    expect(echo.url).toBe('/echo?x=1');
    expect(echo.rawHeaders[echo.rawHeaders.indexOf('X-Forwarded-Prefix') + 1]).toBe(`/t/${agent.name}`);
  });

  it('works with curl resolving <name>.localhost itself', async () => {
    const { stdout } = await run('curl', ['-s', `${agent.url}/echo?via=curl`]);
    expect((JSON.parse(stdout) as Echo).url).toBe('/echo?via=curl');
  });

  it('reports health on the edge host', async () => {
    for (const path of ['/health', '/health/live', '/health/ready']) {
      const res = await request(`${edge.url}${path}`);
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toMatchObject({ status: 'ok' });
    }
  });
});
