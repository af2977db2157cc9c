/** The test origin: a plain node:http app with the routes the e2e suites exercise. */

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './harness.js';

/** A deterministic, incompressible 64 KiB block; downloads repeat it. */
export const BLOCK = (() => {
  const block = Buffer.alloc(64 * 1024);
  let x = 0x12345678;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = x & 0xff;
  }
  return block;
})();

export function expectedSha(bytes: number): string {
  const hash = createHash('sha256');
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, BLOCK.length);
    hash.update(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n));
    left -= n;
  }
  return hash.digest('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Streams `bytes` of BLOCK data, respecting backpressure. */
async function stream(res: ServerResponse, bytes: number): Promise<void> {
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, BLOCK.length);
    left -= n;
    if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) {
      await new Promise<void>((r) => res.once('drain', r));
    }
    if (res.destroyed) return;
  }
  res.end();
}

export function originHandler(req: IncomingMessage, res: ServerResponse): void {
  void handle(req, res).catch(() => res.destroy());
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://origin');
  const path = url.pathname;
  if (path.startsWith('/echo')) {
    const body = await readBody(req);
    const reply = JSON.stringify({
      method: req.method,
      url: req.url,
      rawHeaders: req.rawHeaders,
      bodyLength: body.length,
      bodySha: createHash('sha256').update(body).digest('hex'),
    });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(reply) });
    res.end(req.method === 'HEAD' ? undefined : reply);
    return;
  }
  if (path === '/cookies') {
    res.writeHead(200, [
      'Set-Cookie',
      'a=1; Path=/',
      'X-Mixed-Case',
      'Value',
      'Set-Cookie',
      'b=2; HttpOnly',
      'set-cookie',
      'c=3',
      'Content-Length',
      '2',
    ]);
    res.end('ok');
    return;
  }
  if (path === '/bytes256') {
    const body = Buffer.alloc(256 * 4);
    for (let i = 0; i < body.length; i++) body[i] = i % 256;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
    return;
  }
  if (path === '/download') {
    const n = Number(url.searchParams.get('bytes') ?? '0');
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
    await stream(res, n);
    return;
  }
  if (path === '/upload') {
    const hash = createHash('sha256');
    let length = 0;
    for await (const chunk of req) {
      hash.update(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    const reply = JSON.stringify({ length, sha: hash.digest('hex') });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(reply);
    return;
  }
  if (path === '/chunked') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('first;');
    await sleep(Number(url.searchParams.get('gap') ?? '800'));
    res.end('second');
    return;
  }
  if (path === '/sse') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    for (let i = 0; i < 5; i++) {
      res.write(`id: ${i}\ndata: event ${i}\n\n`);
      await sleep(150);
    }
    res.end();
    return;
  }
  if (path === '/slow') {
    await sleep(Number(url.searchParams.get('ms') ?? '5000'));
    res.end('slow');
    return;
  }
  if (path === '/silent') return; // never answers
  if (path === '/status') {
    const code = Number(url.searchParams.get('code') ?? '200');
    res.writeHead(code);
    res.end();
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end(`origin has no ${path}\n`);
}
