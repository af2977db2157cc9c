import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import { parseTarget } from './target.js';

function failure(target: string): TunnelError {
  try {
    parseTarget(target);
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    return err as TunnelError;
  }
  throw new Error(`expected parseTarget(${JSON.stringify(target)}) to throw`);
}

describe('parseTarget', () => {
  it('turns a bare port into 127.0.0.1:PORT', () => {
    expect(parseTarget('3000').href).toBe('http://127.0.0.1:3000/');
    expect(parseTarget(' 8080 ').href).toBe('http://127.0.0.1:8080/');
  });

  it('treats ":PORT" like a bare port', () => {
    expect(parseTarget(':3000').href).toBe('http://127.0.0.1:3000/');
  });

  it('keeps the host of host:port, including bracketed IPv6', () => {
    expect(parseTarget('localhost:3000').href).toBe('http://localhost:3000/');
    expect(parseTarget('Api.Internal:9000').host).toBe('api.internal:9000');
    expect(parseTarget('[::1]:3000').href).toBe('http://[::1]:3000/');
  });

  it('accepts http and https URLs and keeps only the origin', () => {
    expect(parseTarget('http://x:3000').href).toBe('http://x:3000/');
    expect(parseTarget('http://x:3000/').href).toBe('http://x:3000/');
    const https = parseTarget('https://x');
    expect(https.protocol).toBe('https:');
    expect(https.host).toBe('x');
  });

  it('rejects a word that is not a port, host:port or URL', () => {
    const err = failure('abc');
    expect(err.code).toBe('TUN_ERR_CONFIG_INVALID');
    expect(err.message).toBe(
      'invalid target "abc": must be a port (3000), host:port (localhost:3000) or URL (http://localhost:3000)',
    );
  });

  it('rejects ports out of range in every form', () => {
    expect(failure('70000').message).toBe('invalid target "70000": must be a port from 1 to 65535');
    expect(failure('0').message).toContain('must be a port from 1 to 65535');
    expect(failure('localhost:65536').message).toContain('must be a port from 1 to 65535');
    expect(failure('http://x:70000').message).toContain('must be a port from 1 to 65535');
  });

  it('rejects schemes other than http and https', () => {
    expect(failure('ftp://x').message).toBe('invalid target "ftp://x": must be an http:// or https:// URL');
    expect(failure('ws://x:3000').message).toContain('must be an http:// or https:// URL');
  });

  it('rejects URLs with a path, query or credentials', () => {
    expect(failure('http://x:3000/api').message).toContain('without a path, query or fragment');
    expect(failure('http://x:3000?a=1').message).toContain('without a path, query or fragment');
    expect(failure('http://user:pw@x:3000').message).toContain('without user:password');
  });

  it('rejects an invalid host and an empty target', () => {
    expect(failure('[zz]:3000').message).toContain('with a valid host');
    expect(failure('').message).toContain('must be a port (3000)');
  });
});
