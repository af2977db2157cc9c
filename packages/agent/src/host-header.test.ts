import { describe, expect, it } from 'vitest';
import { hostHeaderValue, withHostHeader } from './host-header.js';

describe('hostHeaderValue', () => {
  it('keeps the viewer Host for preserve', () => {
    expect(hostHeaderValue('preserve', new URL('http://127.0.0.1:3000'))).toBeNull();
  });

  it('rewrites to the origin host:port as a browser at the origin would send it', () => {
    expect(hostHeaderValue('rewrite', new URL('http://127.0.0.1:5173'))).toBe('127.0.0.1:5173');
    expect(hostHeaderValue('rewrite', new URL('http://[::1]:3000'))).toBe('[::1]:3000');
    expect(hostHeaderValue('rewrite', new URL('https://app.local'))).toBe('app.local');
  });

  it('sends any other value exactly', () => {
    expect(hostHeaderValue('myapp.test:8080', new URL('http://127.0.0.1:3000'))).toBe('myapp.test:8080');
  });
});

describe('withHostHeader', () => {
  it('replaces the value in place, keeping the name case and every other header', () => {
    const raw = ['X-First', '1', 'host', 'abc.tunnel.example', 'Cookie', 'a=1', 'cookie', 'b=2'];
    expect(withHostHeader(raw, '127.0.0.1:3000')).toEqual([
      'X-First',
      '1',
      'host',
      '127.0.0.1:3000',
      'Cookie',
      'a=1',
      'cookie',
      'b=2',
    ]);
    // The input is the frame's header list: not modified.
    expect(raw[3]).toBe('abc.tunnel.example');
  });

  it('drops a second Host and adds one when there was none', () => {
    expect(withHostHeader(['Host', 'a', 'X', 'y', 'HOST', 'b'], 'c')).toEqual(['Host', 'c', 'X', 'y']);
    expect(withHostHeader(['X', 'y'], 'c')).toEqual(['X', 'y', 'Host', 'c']);
  });
});
