/**
 * The benchmark origin, run as its own process so that it never shares an event loop
 * with the load generator: plain `node:http` plus a `ws` echo server.
 *
 *   GET  /hello      11 bytes, "hello world"
 *   GET  /bytes/N    N bytes of the deterministic payload (bench/payload.js), streamed
 *                    with backpressure and a Content-Length
 *   POST /echo       the request body, streamed back
 *   POST /sink       reads the body, answers {"length":N,"sha256":"..."}
 *   POST /discard    reads and counts the body without hashing it, answers {"length":N}
 *                    (the timed upload: hashing here would cap the speed it measures)
 *   GET  /sse        ?n=5&gapMs=100: n server-sent events
 *   WS   /ws         echoes every message
 *
 * Usage: node bench/origin.js [--port N]. Prints one JSON line {"event":"listening","port":N}
 * on stdout, then nothing; SIGTERM or SIGINT stops it.
 */

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { URL } from 'node:url';
import { WebSocketServer } from 'ws';
import { payloadChunks } from './payload.js';

const HELLO = Buffer.from('hello world');

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} bytes
 */
async function streamPayload(res, bytes) {
  for (const chunk of payloadChunks(bytes)) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
async function sink(req, res) {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of req) {
    hash.update(/** @type {Buffer} */ (chunk));
    length += /** @type {Buffer} */ (chunk).length;
  }
  const body = JSON.stringify({ length, sha256: hash.digest('hex') });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
function discard(req, res) {
  let length = 0;
  req.on('data', (chunk) => (length += /** @type {Buffer} */ (chunk).length));
  req.on('end', () => {
    const body = JSON.stringify({ length });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {URLSearchParams} query
 */
async function sse(res, query) {
  const n = Math.min(Number(query.get('n') ?? '5'), 1000);
  const gapMs = Math.min(Number(query.get('gapMs') ?? '100'), 10_000);
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  for (let i = 0; i < n && !res.destroyed; i++) {
    res.write(`id: ${i}\ndata: event ${i}\n\n`);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  res.end();
}

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
async function handle(req, res) {
  const url = req.url ?? '/';
  if (url === '/hello') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length });
    res.end(HELLO);
    return;
  }
  if (url.startsWith('/bytes/')) {
    const n = Number(url.slice('/bytes/'.length));
    if (!Number.isSafeInteger(n) || n < 0) {
      res.writeHead(400).end('bad size\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
    await streamPayload(res, n);
    return;
  }
  if (url.startsWith('/echo')) {
    /** @type {Record<string, string>} */
    const headers = { 'Content-Type': 'application/octet-stream' };
    if (req.headers['content-length'] !== undefined)
      headers['Content-Length'] = req.headers['content-length'];
    res.writeHead(200, headers);
    req.pipe(res);
    return;
  }
  if (url.startsWith('/sink')) {
    await sink(req, res);
    return;
  }
  if (url.startsWith('/discard')) {
    discard(req, res);
    return;
  }
  if (url.startsWith('/sse')) {
    await sse(res, new URL(url, 'http://origin').searchParams);
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
}

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]);

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  handle(req, res).catch(() => res.destroy());
});
const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
server.on('upgrade', (req, socket, head) => {
  if (req.url !== '/ws') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data, isBinary) => ws.send(/** @type {Buffer} */ (data), { binary: isBinary }));
    ws.on('error', () => ws.terminate());
  });
});

server.listen(port, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: address.port })}\n`);
});

const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
