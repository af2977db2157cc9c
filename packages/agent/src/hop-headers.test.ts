import { describe, expect, it } from 'vitest';
import {
  rawHeaderStrings,
  requestHeadersForOrigin,
  responseHeadersForViewer,
  viewerHeadersFromRaw,
} from './hop-headers.js';

describe('requestHeadersForOrigin', () => {
  it('drops hop-by-hop headers and those undici refuses, keeping order, case and repeats of the rest', () => {
    const raw = [
      'Host',
      'a.example',
      'Connection',
      'keep-alive, X-Trace',
      'X-Trace',
      '1',
      'Keep-Alive',
      'timeout=5',
      'Transfer-Encoding',
      'chunked',
      'Upgrade',
      'h2c',
      'Expect',
      '100-continue',
      'Accept',
      'text/html',
      'accept',
      '*/*',
      'Cookie',
      'a=1',
      'TE',
      'trailers',
    ];
    expect(requestHeadersForOrigin(raw)).toEqual([
      'Host',
      'a.example',
      'Accept',
      'text/html',
      'accept',
      '*/*',
      'Cookie',
      'a=1',
    ]);
  });

  it('keeps only the first Host and Content-Length, which undici would reject twice', () => {
    const raw = ['Host', 'one', 'content-length', '3', 'host', 'two', 'Content-Length', '3'];
    expect(requestHeadersForOrigin(raw)).toEqual(['Host', 'one', 'content-length', '3']);
  });
});

describe('responseHeadersForViewer', () => {
  it('removes connection-level headers the edge re-frames, and keeps several Set-Cookie', () => {
    const raw = [
      'Set-Cookie',
      'a=1',
      'Connection',
      'close',
      'Transfer-Encoding',
      'chunked',
      'set-cookie',
      'b=2',
    ];
    expect(responseHeadersForViewer(raw)).toEqual(['Set-Cookie', 'a=1', 'set-cookie', 'b=2']);
  });
});

describe('rawHeaderStrings', () => {
  it('reads header bytes as latin1, so no byte is lost or re-encoded', () => {
    expect(rawHeaderStrings([Buffer.from('X-Name'), Buffer.from([0x63, 0xe9])])).toEqual([
      'X-Name',
      'c\u00e9',
    ]);
  });
});

describe('viewerHeadersFromRaw', () => {
  it('is rawHeaderStrings then responseHeadersForViewer, in one array', () => {
    const raw = [
      Buffer.from('Connection'),
      Buffer.from('keep-alive, X-Hop'),
      Buffer.from('X-Hop'),
      Buffer.from('1'),
      Buffer.from('Set-Cookie'),
      Buffer.from([0x61, 0x3d, 0xe9]),
      Buffer.from('Keep-Alive'),
      Buffer.from('timeout=5'),
      Buffer.from('set-cookie'),
      Buffer.from('b=2'),
    ];
    const expected = responseHeadersForViewer(rawHeaderStrings(raw));
    expect(viewerHeadersFromRaw(raw)).toEqual(expected);
    expect(expected).toEqual(['Set-Cookie', 'a=\u00e9', 'set-cookie', 'b=2']);
  });
});
