/**
 * Bulk transfers, each over a fresh connection, in two separate passes:
 *
 * - **timed**: the client only moves and counts bytes, so that it is never what limits the
 *   speed. With curl on PATH it is `curl -o /dev/null -w '%{size_download} %{time_total}'`
 *   (its own process, C, reads into a buffer it throws away); without curl a node:http
 *   client in the harness that counts bytes and hashes nothing. Uploads go to the origin's
 *   `/discard`, which counts the body and hashes nothing.
 * - **verify** (untimed): a node:http client that hashes every byte; downloads and echoes
 *   are hashed by the harness, uploads go to `/sink`, where the origin hashes them. A wrong
 *   length or sha256 fails the scenario.
 *
 * Kinds: `download` (GET /bytes/N), `upload` (POST N bytes), `echo` (POST N bytes to
 * /echo, which streams them back while they arrive: both directions at once). The figure
 * is payload bytes (one direction) per second, from the request to the last byte.
 *
 * @typedef {'download' | 'upload' | 'echo'} Kind
 * @typedef {{ kind: Kind, client: 'curl' | 'node', bytes: number, seconds: number, mbPerS: number }} TimedResult
 * @typedef {{ kind: Kind, ok: boolean, bytes: number, sha256: string, expected: string }} VerifyResult
 */

import { Buffer } from 'node:buffer';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import { payloadChunks, payloadSha256 } from './payload.js';
import { tempDir } from './processes.js';
import { which } from './references.js';

/** curl's path, or null: the timed pass then uses the node counting client. */
export const CURL = which('curl');

/** @type {Map<number, string>} */
const payloadFiles = new Map();

/**
 * A temp file holding the payload of `bytes` length, for curl --data-binary @file.
 * @param {number} bytes
 */
function payloadFile(bytes) {
  let file = payloadFiles.get(bytes);
  if (file === undefined || !existsSync(file)) {
    file = join(tempDir('burrow-bench-payload-'), `payload-${bytes}`);
    writeFileSync(file, Buffer.concat([...payloadChunks(bytes)]));
    payloadFiles.set(bytes, file);
  }
  return file;
}

/** @param {Kind} kind @param {number} bytes @param {'timed' | 'verify'} pass */
function target(kind, bytes, pass) {
  if (kind === 'download') return { method: 'GET', path: `/bytes/${bytes}`, send: 0 };
  if (kind === 'echo') return { method: 'POST', path: '/echo', send: bytes };
  return { method: 'POST', path: pass === 'timed' ? '/discard' : '/sink', send: bytes };
}

/**
 * The timed pass: curl when present (or `client: 'node'`), else the counting node client.
 * @param {{ kind: Kind, url: string, host?: string, bytes: number, timeoutMs: number, client?: 'curl' | 'node' }} o
 * @returns {Promise<TimedResult>}
 */
export async function timedTransfer(o) {
  const client = o.client ?? (CURL ? 'curl' : 'node');
  const t = target(o.kind, o.bytes, 'timed');
  const what = `${o.kind} of ${o.bytes} bytes via ${o.url}${o.host ? ` (Host ${o.host})` : ''}`;
  let seconds;
  if (client === 'curl') {
    if (!CURL) throw new Error('curl is not on PATH');
    const r = await curl(o, t);
    if (r.status !== 200) throw new Error(`${what}: status ${r.status}`);
    const moved = o.kind === 'upload' ? r.uploaded : r.downloaded;
    if (moved !== o.bytes || (o.kind === 'echo' && r.uploaded !== o.bytes)) {
      throw new Error(`${what}: curl moved ${r.uploaded} up and ${r.downloaded} down`);
    }
    seconds = r.seconds;
  } else {
    const r = await nodeTransfer({ ...o, ...t, hash: false }).catch((/** @type {unknown} */ err) => {
      throw new Error(`${what}: ${String(err)}`);
    });
    if (r.status !== 200) throw new Error(`${what}: status ${r.status}`);
    const moved = o.kind === 'upload' ? discardedLength(r.head) : r.received;
    if (moved !== o.bytes) throw new Error(`${what}: ${moved} bytes arrived`);
    seconds = r.seconds;
  }
  return { kind: o.kind, client, bytes: o.bytes, seconds, mbPerS: o.bytes / 1e6 / seconds };
}

/**
 * The untimed integrity pass: every byte hashed (by the harness, or by the origin's /sink).
 * @param {{ kind: Kind, url: string, host?: string, bytes: number, timeoutMs: number }} o
 * @returns {Promise<VerifyResult>}
 */
export async function verifyTransfer(o) {
  const t = target(o.kind, o.bytes, 'verify');
  const r = await nodeTransfer({ ...o, ...t, hash: o.kind !== 'upload' }).catch(
    (/** @type {unknown} */ err) => {
      throw new Error(
        `verify ${o.kind} of ${o.bytes} bytes via ${o.url}${o.host ? ` (Host ${o.host})` : ''}: ${String(err)}`,
      );
    },
  );
  const expected = payloadSha256(o.bytes);
  if (r.status !== 200) return { kind: o.kind, ok: false, bytes: 0, sha256: `status ${r.status}`, expected };
  let bytes = r.received;
  let sha256 = /** @type {string} */ (r.sha256);
  if (o.kind === 'upload') {
    const reply = /** @type {{ length?: unknown, sha256?: unknown }} */ (JSON.parse(r.head.toString()));
    bytes = Number(reply.length);
    sha256 = String(reply.sha256);
  }
  return { kind: o.kind, ok: bytes === o.bytes && sha256 === expected, bytes, sha256, expected };
}

/** @param {Buffer} head the reply of /discard, {"length":N} */
function discardedLength(head) {
  try {
    return Number(/** @type {{ length?: unknown }} */ (JSON.parse(head.toString())).length);
  } catch {
    return NaN;
  }
}

/**
 * @param {{ url: string, host?: string, bytes: number, timeoutMs: number }} o
 * @param {{ method: string, path: string, send: number }} t
 * @returns {Promise<{ status: number, uploaded: number, downloaded: number, seconds: number }>}
 */
function curl(o, t) {
  const args = [
    '--silent',
    '--show-error',
    '--http1.1',
    '--output',
    '/dev/null',
    '--max-time',
    String(Math.ceil(o.timeoutMs / 1000)),
    '--write-out',
    '%{http_code} %{size_upload} %{size_download} %{time_total}',
    // curl asks large uploads to wait for "100 Continue"; the node client never did.
    '--header',
    'Expect:',
    ...(o.host ? ['--header', `Host: ${o.host}`] : []),
    ...(t.send > 0
      ? ['--data-binary', `@${payloadFile(t.send)}`, '--header', 'Content-Type: application/octet-stream']
      : []),
    new URL(t.path, o.url).href,
  ];
  return new Promise((resolveCurl, reject) => {
    execFile(/** @type {string} */ (CURL), args, { timeout: o.timeoutMs + 5000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`curl ${t.method} ${t.path} failed: ${err.message} ${stderr}`));
        return;
      }
      const [status, uploaded, downloaded, seconds] = stdout.trim().split(' ').map(Number);
      resolveCurl({
        status: status ?? 0,
        uploaded: uploaded ?? NaN,
        downloaded: downloaded ?? NaN,
        seconds: seconds ?? NaN,
      });
    });
  });
}

/**
 * One request over a fresh connection: sends `send` payload bytes with backpressure while
 * reading the response, counting (and with `hash`, hashing) what comes back; keeps the
 * first 64 KiB of the response in `head` (for the small JSON replies of /sink and /discard).
 * @param {{ url: string, host?: string, method: string, path: string, send: number, hash: boolean, timeoutMs: number }} o
 * @returns {Promise<{ status: number, received: number, seconds: number, sha256: string | null, head: Buffer }>}
 */
function nodeTransfer(o) {
  const url = new URL(o.path, o.url);
  return new Promise((resolveTransfer, reject) => {
    const t0 = performance.now();
    const hash = o.hash ? createHash('sha256') : null;
    let received = 0;
    /** @type {Buffer[]} */
    const head = [];
    const req = request(
      {
        method: o.method,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        agent: false,
        headers: {
          ...(o.host ? { host: o.host } : {}),
          ...(o.send > 0 ? { 'content-type': 'application/octet-stream', 'content-length': o.send } : {}),
        },
      },
      (res) => {
        res.on('data', (chunk) => {
          const b = /** @type {Buffer} */ (chunk);
          hash?.update(b);
          if (received < 65_536) head.push(b);
          received += b.length;
        });
        res.on('end', () => {
          resolveTransfer({
            status: res.statusCode ?? 0,
            received,
            seconds: (performance.now() - t0) / 1000,
            sha256: hash ? hash.digest('hex') : null,
            head: Buffer.concat(head),
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(o.timeoutMs, () =>
      req.destroy(new Error(`${o.method} ${url.href} timed out after ${o.timeoutMs} ms`)),
    );
    req.on('error', reject);
    if (o.send === 0) {
      req.end();
      return;
    }
    const chunks = payloadChunks(o.send);
    const pump = () => {
      for (;;) {
        const next = chunks.next();
        if (next.done) {
          req.end();
          return;
        }
        if (!req.write(next.value)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}
