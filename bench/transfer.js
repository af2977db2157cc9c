/**
 * Bulk transfer: one download of N bytes from /bytes/N and one upload of N bytes to /sink,
 * each over a fresh connection, timed from the request to the last byte, with the
 * payload's sha256 checked (by the harness for downloads, by the origin for uploads).
 */

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import { payloadChunks, payloadSha256 } from './payload.js';

/**
 * @typedef {{ bytes: number, seconds: number, mbPerS: number, sha256: string, ok: boolean }} TransferResult
 */

/**
 * @param {{ url: string, host?: string, bytes: number, timeoutMs: number }} o
 * @returns {Promise<TransferResult>}
 */
export function download(o) {
  const url = new URL(`/bytes/${o.bytes}`, o.url);
  return new Promise((resolveDownload, reject) => {
    const t0 = performance.now();
    const hash = createHash('sha256');
    let received = 0;
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, headers: hostHeader(o.host), agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`download: status ${res.statusCode} from ${url.href}`));
          return;
        }
        res.on('data', (chunk) => {
          hash.update(/** @type {Buffer} */ (chunk));
          received += /** @type {Buffer} */ (chunk).length;
        });
        res.on('end', () => {
          const seconds = (performance.now() - t0) / 1000;
          const sha256 = hash.digest('hex');
          resolveDownload({
            bytes: received,
            seconds,
            mbPerS: received / 1e6 / seconds,
            sha256,
            ok: received === o.bytes && sha256 === payloadSha256(o.bytes),
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(o.timeoutMs, () => req.destroy(new Error(`download timed out after ${o.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * @param {{ url: string, host?: string, bytes: number, timeoutMs: number }} o
 * @returns {Promise<TransferResult>}
 */
export function upload(o) {
  const url = new URL('/sink', o.url);
  return new Promise((resolveUpload, reject) => {
    const t0 = performance.now();
    const req = request(
      {
        method: 'POST',
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        agent: false,
        headers: {
          ...hostHeader(o.host),
          'content-type': 'application/octet-stream',
          'content-length': o.bytes,
        },
      },
      (res) => {
        /** @type {Buffer[]} */
        const parts = [];
        res.on('data', (chunk) => parts.push(/** @type {Buffer} */ (chunk)));
        res.on('end', () => {
          const seconds = (performance.now() - t0) / 1000;
          if (res.statusCode !== 200) {
            reject(new Error(`upload: status ${res.statusCode} from ${url.href}`));
            return;
          }
          const reply = /** @type {{ length: number, sha256: string }} */ (
            JSON.parse(Buffer.concat(parts).toString())
          );
          resolveUpload({
            bytes: reply.length,
            seconds,
            mbPerS: reply.length / 1e6 / seconds,
            sha256: reply.sha256,
            ok: reply.length === o.bytes && reply.sha256 === payloadSha256(o.bytes),
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(o.timeoutMs, () => req.destroy(new Error(`upload timed out after ${o.timeoutMs} ms`)));
    req.on('error', reject);
    const chunks = payloadChunks(o.bytes);
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

/** @param {string | undefined} host */
function hostHeader(host) {
  return host ? { host } : {};
}
