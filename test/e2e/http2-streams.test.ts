/**
 * HTTP/2 streams the edge must not hold: an answer given before the upload ended closes its
 * stream (RST_STREAM NO_ERROR, RFC 9113 §8.1), and a graceful shutdown ends even a stream
 * nobody answers. Cookie crumbs (RFC 9113 §8.2.3) reach the HTTP/1.1 origin as one field.
 * In-process edge with an HTTPS listener, a real agent and origin, node:http2 as the viewer.
 */

import { constants as h2, type ClientHttp2Session } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { h2session, startHttpsTunnel, within, type HttpsTunnel } from './https-fixture.js';
import { originHandler } from './origin.js';

/** How a stream whose request body never ends went: its status and how it closed. */
function unendedUpload(
  session: ClientHttp2Session,
  headers: Record<string, string>,
): { status: Promise<number>; closed: Promise<number> } {
  const stream = session.request({ ':method': 'POST', ':path': '/x', ...headers }, { endStream: false });
  stream.on('error', () => {});
  stream.on('data', () => {});
  stream.write('partial');
  return {
    status: new Promise((resolve) => stream.once('response', (h) => resolve(Number(h[':status'])))),
    closed: new Promise((resolve) => stream.once('close', () => resolve(stream.rstCode ?? -1))),
  };
}

describe('HTTP/2 streams answered before their upload ended', () => {
  let tunnel: HttpsTunnel;
  beforeAll(async () => {
    tunnel = await startHttpsTunnel(originHandler);
  }, 30_000);
  afterAll(() => tunnel?.stop());

  it('closes the stream with NO_ERROR after a 404 for an unknown tunnel; the connection goes on', async () => {
    const session = h2session(tunnel, 'nosuch.burrow.test');
    try {
      const upload = unendedUpload(session, { ':authority': 'nosuch.burrow.test' });
      expect(await upload.status).toBe(404);
      expect(await within(3_000, 'the stream closing', upload.closed)).toBe(h2.NGHTTP2_NO_ERROR);
      expect(session.closed || session.destroyed).toBe(false);
    } finally {
      session.close();
    }
  });

  it('joins cookie crumbs into one Cookie field for the HTTP/1.1 origin (RFC 9113 §8.2.3)', async () => {
    const session = h2session(tunnel, tunnel.host);
    try {
      const stream = session.request({
        ':path': '/echo',
        ':authority': tunnel.host,
        cookie: ['a=1', 'b=2', 'c=3'],
      });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      await new Promise((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      const echo = JSON.parse(Buffer.concat(chunks).toString()) as { rawHeaders: string[] };
      const cookies = echo.rawHeaders.filter(
        (_, i) => i % 2 === 1 && /^cookie$/i.test(echo.rawHeaders[i - 1]!),
      );
      expect(cookies).toEqual(['a=1; b=2; c=3']);
    } finally {
      session.close();
    }
  });
});

describe('graceful shutdown with HTTP/2 streams open', () => {
  it('resolves close() while a viewer holds an upload in flight and an answered one', async () => {
    const tunnel = await startHttpsTunnel(originHandler, {}, { BURROW_TIMEOUTS_SHUTDOWN_MS: '200' });
    const session = h2session(tunnel, tunnel.host);
    try {
      // The origin reads on, waiting for the rest: nobody answers this one until shutdown.
      const held = unendedUpload(session, { ':authority': tunnel.host, ':path': '/upload' });
      const answered = unendedUpload(session, { ':authority': 'nosuch.burrow.test' });
      await answered.status;
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      await within(5_000, 'edge.close()', tunnel.edge.close());
      expect(Date.now() - started).toBeLessThan(5_000);
      await within(1_000, 'the held stream closing', held.closed);
    } finally {
      session.destroy();
      tunnel.stop();
    }
  }, 30_000);
});
