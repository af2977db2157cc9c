import { connect, constants, createServer, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { viewerGone } from './http2-request.js';

describe('viewerGone', () => {
  it('sees an HTTP/2 viewer that reset its stream, though the response has no destroyed of its own', async () => {
    let seen: Http2ServerResponse | undefined;
    const reset = new Promise<void>((resolve) => {
      const server = createServer((_req, res) => {
        seen = res;
        expect(viewerGone(res as unknown as ServerResponse)).toBe(false);
        res.stream.once('close', () => {
          resolve();
          server.close();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
        const request = client.request({ ':path': '/' });
        request.on('response', () => {});
        setTimeout(() => {
          request.close(constants.NGHTTP2_CANCEL);
          client.close();
        }, 50);
      });
    });
    await reset;
    expect(seen?.destroyed).toBeUndefined();
    expect(viewerGone(seen as unknown as ServerResponse)).toBe(true);
  });
});
