/**
 * Viewers over HTTPS: an in-process edge with an HTTPS listener (certificate from a test CA,
 * until the certificate file source lands in the CLI), a real `burrow http` agent and origin,
 * and real clients: curl (HTTP/1.1 and --http2), nghttp, h2load, node:http2, `ws` over wss.
 * Also the plain listener's redirect to HTTPS and HSTS.
 */

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect as h2connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EdgeServer } from '../../packages/edge/src/index.js';
import type { TestCertificates } from '../../packages/edge/src/listeners/test-support/test-certificates.js';
import { stopAll, tempDir } from './harness.js';
import { startHttpsTunnel, type HttpsTunnel } from './https-fixture.js';
import { expectedSha, originHandler } from './origin.js';

const run = promisify(execFile);

let certs: TestCertificates;
let edge: EdgeServer;
let name: string;
let printedUrl: string;
let httpsPort: number;
let host: string;

let tunnel: HttpsTunnel;
/** Node's own warnings, e.g. a reason phrase written on an HTTP/2 response. */
const warnings: string[] = [];
const onWarning = (w: Error): void => {
  warnings.push(`${w.name}: ${w.message}`);
};

beforeAll(async () => {
  process.on('warning', onWarning);
  tunnel = await startHttpsTunnel(originHandler, { hsts: '600' });
  ({ edge, certs, name, printedUrl, httpsPort, host } = tunnel);
}, 30_000);

afterAll(async () => {
  process.off('warning', onWarning);
  await stopAll();
  tunnel?.stop();
});

async function curl(args: string[]): Promise<{ head: string; body: string }> {
  const resolve = ['--resolve', `${host}:${httpsPort}:127.0.0.1`, '--cacert', certs.caFile];
  const { stdout } = await run('curl', ['-s', '-S', '-i', '--max-time', '10', ...resolve, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const split = stdout.indexOf('\r\n\r\n');
  return { head: stdout.slice(0, split), body: stdout.slice(split + 4) };
}

function rawHeaderNames(echo: { rawHeaders: string[] }): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < echo.rawHeaders.length; i += 2)
    out.set(echo.rawHeaders[i]!.toLowerCase(), echo.rawHeaders[i + 1]!);
  return out;
}

function h2session(): ClientHttp2Session {
  const session = h2connect(`https://${host}:${httpsPort}`, {
    createConnection: () =>
      tlsConnect({
        host: '127.0.0.1',
        port: httpsPort,
        servername: host,
        ca: certs.caPem,
        ALPNProtocols: ['h2'],
      }),
  });
  session.on('error', () => {});
  return session;
}

/** One request on `session`; the body as bytes, with status and headers. */
function h2request(
  session: ClientHttp2Session,
  path: string,
  options: { method?: string; body?: Buffer } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':method': options.method ?? 'GET' });
    const chunks: Buffer[] = [];
    let headers: Record<string, unknown> = {};
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () =>
      resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) }),
    );
    stream.on('error', reject);
    stream.end(options.body);
  });
}

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('HTTPS listener, end to end', () => {
  it('makes the agent print an https URL with the HTTPS port', () => {
    expect(printedUrl).toBe(`https://${name}.burrow.test:${httpsPort}`);
  });

  it('serves HTTP/1.1 over TLS (curl): forwarded as https, HSTS on the response', async () => {
    const { head, body } = await curl(['--http1.1', `https://${host}:${httpsPort}/echo?via=h1`]);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/^strict-transport-security: max-age=600$/im);
    const echo = JSON.parse(body) as { url: string; rawHeaders: string[] };
    const headers = rawHeaderNames(echo);
    expect(echo.url).toBe('/echo?via=h1');
    expect(headers.get('x-forwarded-proto')).toBe('https');
    expect(headers.get('forwarded')).toMatch(/proto=https$/);
    expect(headers.get('host')).toBe(`${host}:${httpsPort}`);
  });

  it('serves HTTP/2 (curl --http2): :authority becomes Host, no pseudo-header reaches the origin', async () => {
    const { head, body } = await curl(['--http2', `https://${host}:${httpsPort}/echo?via=h2`]);
    expect(head).toMatch(/^HTTP\/2 200/);
    expect(head).toMatch(/^strict-transport-security: max-age=600$/im);
    expect(head).not.toMatch(/^(connection|keep-alive|transfer-encoding):/im);
    const echo = JSON.parse(body) as { url: string; method: string; rawHeaders: string[] };
    const headers = rawHeaderNames(echo);
    expect(echo).toMatchObject({ method: 'GET', url: '/echo?via=h2' });
    expect(headers.get('host')).toBe(`${host}:${httpsPort}`);
    expect(headers.get('x-forwarded-proto')).toBe('https');
    expect([...headers.keys()].filter((n) => n.startsWith(':'))).toEqual([]);
  });

  it('streams an upload over HTTP/2 byte-exact (curl --http2 --data-binary)', async () => {
    const upload = randomBytes(3 * 1024 * 1024 + 17);
    const file = join(tempDir(), 'upload.bin');
    writeFileSync(file, upload);
    const { head, body } = await curl([
      '--http2',
      '--data-binary',
      `@${file}`,
      `https://${host}:${httpsPort}/upload`,
    ]);
    expect(head).toMatch(/^HTTP\/2 200/);
    expect(JSON.parse(body)).toEqual({ length: upload.length, sha: sha(upload) });
  });

  it('answers nghttp with distinct bodies for several streams on one connection', async () => {
    const uris = [1, 2, 3, 4, 5].map((i) => `https://${host}:${httpsPort}/echo?stream=${i}`);
    // nghttp has no --resolve: it connects to the name, so give it 127.0.0.1 and :authority.
    const { stdout } = await run('nghttp', [
      '-H',
      `:authority: ${host}:${httpsPort}`,
      ...uris.map((u) => u.replace(host, '127.0.0.1')),
    ]);
    const urls = [...stdout.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]).sort();
    expect(urls).toEqual(uris.map((u) => new URL(u).pathname + new URL(u).search).sort());
  });

  it('multiplexes 1000 requests, 100 at a time, on one h2load connection', async () => {
    // The URL names the tunnel (SNI and :authority); --connect-to dials loopback.
    const { stdout } = await run(
      'h2load',
      ['-n', '1000', '-c', '1', '-m', '100', `https://${host}:${httpsPort}/bytes256`].concat([
        `--connect-to=127.0.0.1:${httpsPort}`,
      ]),
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(
      /requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, 0 errored/,
    );
    expect(stdout).toMatch(/status codes: 1000 2xx/);
    // 1 KiB each: h2load reports the body bytes it got as `(1024000) data`.
    expect(stdout).toMatch(/\(1024000\) data/);
  }, 90_000);

  it('keeps 100 concurrent streams on one connection byte-exact, both ways', async () => {
    const session = h2session();
    try {
      const uploads = Array.from({ length: 50 }, (_, i) => randomBytes(20_000 + i * 997));
      const sizes = Array.from({ length: 50 }, (_, i) => 10_000 + i * 7919);
      const [up, down] = await Promise.all([
        Promise.all(uploads.map((body) => h2request(session, '/upload', { method: 'POST', body }))),
        Promise.all(sizes.map((n) => h2request(session, `/download?bytes=${n}`))),
      ]);
      up.forEach((r, i) =>
        expect(JSON.parse(r.body.toString())).toEqual({ length: uploads[i]!.length, sha: sha(uploads[i]!) }),
      );
      down.forEach((r, i) => expect(sha(r.body)).toBe(expectedSha(sizes[i]!)));
    } finally {
      session.close();
    }
  }, 60_000);

  it('answers an unknown host over HTTP/2 with the 404 page and its code, and goes on serving', async () => {
    const session = h2connect(`https://nobody.burrow.test:${httpsPort}`, {
      createConnection: () =>
        tlsConnect({
          host: '127.0.0.1',
          port: httpsPort,
          servername: 'nobody.burrow.test',
          ca: certs.caPem,
          ALPNProtocols: ['h2'],
        }),
    });
    session.on('error', () => {});
    try {
      const res = await h2request(session, '/');
      expect(res.status).toBe(404);
      expect(res.headers['x-burrow-error']).toBe('TUN_ERR_TUNNEL_NOT_FOUND');
      expect(res.body.toString()).toContain('nobody.burrow.test');
      const again = await h2request(session, '/still');
      expect(again.status).toBe(404);
    } finally {
      session.close();
    }
  });

  it('aborts only the stream a viewer resets mid-body; the connection and its other streams go on', async () => {
    const session = h2session();
    try {
      const big = session.request({ ':path': '/download?bytes=104857600' });
      big.on('error', () => {});
      await new Promise<void>((resolve) => big.once('data', () => resolve()));
      const other = h2request(session, '/download?bytes=2000000');
      big.close(h2.NGHTTP2_CANCEL);
      const res = await other;
      expect(sha(res.body)).toBe(expectedSha(2_000_000));
      const after = await h2request(session, '/echo?after=reset');
      expect(after.status).toBe(200);
    } finally {
      session.close();
    }
  }, 30_000);

  it('carries a WebSocket over wss (HTTP/1.1 Upgrade)', async () => {
    // TLS options go through to tls.connect (ws's types only list some of them).
    const options = { ca: certs.caPem, servername: host, headers: { host: `${host}:${httpsPort}` } };
    const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/ws`, options);
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const reply = new Promise<string>((resolve) =>
        ws.once('message', (d: Buffer) => resolve(d.toString())),
      );
      ws.send('over tls');
      expect(await reply).toBe('over tls');
    } finally {
      ws.close();
    }
  });
});

describe('HTTP/2 failures stay on their stream', () => {
  let slow: HttpsTunnel;
  beforeAll(async () => {
    slow = await startHttpsTunnel(originHandler, {}, { BURROW_TIMEOUTS_BODY_IDLE_MS: '500' });
  }, 30_000);
  afterAll(() => slow?.stop());

  it('answers a stalled upload with 408 on its stream; the connection goes on', async () => {
    const session = h2connect(`https://${slow.host}:${slow.httpsPort}`, {
      createConnection: () =>
        tlsConnect({
          host: '127.0.0.1',
          port: slow.httpsPort,
          servername: slow.host,
          ca: slow.certs.caPem,
          ALPNProtocols: ['h2'],
        }),
    });
    session.on('error', () => {});
    try {
      const stalled = session.request({ ':path': '/upload', ':method': 'POST' });
      stalled.write(Buffer.alloc(1000, 1));
      const status = await new Promise<number>((resolve) =>
        stalled.once('response', (h) => resolve(Number(h[':status']))),
      );
      expect(status).toBe(408);
      const after = await h2request(session, '/echo?after=stall');
      expect(after.status).toBe(200);
      expect(session.closed || session.destroyed).toBe(false);
    } finally {
      session.close();
    }
  }, 20_000);

  it('wrote nothing Node warns about (a reason phrase on HTTP/2)', () => {
    expect(warnings.filter((w) => /HTTP\/2|Status message/i.test(w))).toEqual([]);
  });
});

describe('plain listener next to HTTPS', () => {
  it('redirects tunnel hosts to https with 308, same host and path, without HSTS', async () => {
    const res = await request(`http://127.0.0.1:${edge.port}/echo?x=1`, {
      headers: { host: `${host}:${edge.port}` },
    });
    expect(res.statusCode).toBe(308);
    expect(res.headers.location).toBe(`https://${host}:${httpsPort}/echo?x=1`);
    expect(res.headers['strict-transport-security']).toBeUndefined();
    await res.body.dump();
  });

  it('answers a host that is not ours with its 404, not a redirect reflecting that host', async () => {
    const res = await request(`http://127.0.0.1:${edge.port}/x`, { headers: { host: 'evil.example' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-burrow-error']).toBe('TUN_ERR_TUNNEL_NOT_FOUND');
    expect(res.headers.location).toBeUndefined();
    await res.body.dump();
  });

  it('never redirects ACME challenges, nor the edge itself by default', async () => {
    const acme = await request(`http://127.0.0.1:${edge.port}/.well-known/acme-challenge/abc`, {
      headers: { host: `${host}:${edge.port}` },
    });
    expect(acme.statusCode).not.toBe(308);
    await acme.body.dump();
    const health = await request(`http://127.0.0.1:${edge.port}/health`, {
      headers: { host: `burrow.test:${edge.port}` },
    });
    expect(health.statusCode).toBe(200);
    await health.body.dump();
  });

  it('refuses a client offering only TLS 1.1 (openssl s_client)', async () => {
    const result = await run(
      'openssl',
      ['s_client', '-tls1_1', '-connect', `127.0.0.1:${httpsPort}`, '-servername', host],
      {
        timeout: 10_000,
      },
    ).then(
      (r) => r.stdout + r.stderr,
      (err: { stdout: string; stderr: string }) => err.stdout + err.stderr,
    );
    expect(result).toMatch(/alert protocol version|no protocols available|unsupported protocol/i);
    expect(result).toMatch(/no peer certificate available/);
  });
});
