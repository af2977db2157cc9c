import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import { describeNetworkError, describeOriginError, networkErrorCode } from './network-error.js';

function errno(code: string, message = `connect ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

describe('describeOriginError', () => {
  it('maps refused, timeouts and other failures to the ORIGIN_* codes', () => {
    expect(describeOriginError(errno('ECONNREFUSED'), '127.0.0.1:3000')).toMatchObject({
      code: 'TUN_ERR_ORIGIN_REFUSED',
      message: 'connection refused by 127.0.0.1:3000',
    });
    expect(describeOriginError(errno('UND_ERR_CONNECT_TIMEOUT'), '127.0.0.1:3000').code).toBe(
      'TUN_ERR_ORIGIN_TIMEOUT',
    );
    expect(describeOriginError(errno('ECONNRESET'), '127.0.0.1:3000')).toMatchObject({
      code: 'TUN_ERR_ORIGIN_ERROR',
      message: 'connection reset by 127.0.0.1:3000',
    });
    expect(describeOriginError(new Error('weird'), 'h:1')).toMatchObject({
      code: 'TUN_ERR_ORIGIN_ERROR',
      message: 'h:1: weird',
    });
  });

  it('looks inside an AggregateError from happy eyeballs', () => {
    const err = new AggregateError([errno('ECONNREFUSED'), errno('ECONNREFUSED')], 'all failed');
    expect(networkErrorCode(err)).toBe('ECONNREFUSED');
    expect(describeOriginError(err, 'localhost:3000').code).toBe('TUN_ERR_ORIGIN_REFUSED');
  });

  it('passes TunnelErrors through unchanged', () => {
    const err = new TunnelError('TUN_ERR_ORIGIN_TIMEOUT', 'slow');
    expect(describeOriginError(err, 'x:1')).toBe(err);
  });
});

describe('describeNetworkError', () => {
  it('is always a retryable connect failure', () => {
    const err = describeNetworkError(errno('ENOTFOUND'), 'the edge at nowhere.test');
    expect(err).toMatchObject({ code: 'TUN_ERR_CONNECT_FAILED', retryable: true });
    expect(err.message).toBe('cannot resolve the host of the edge at nowhere.test');
  });
});

describe('TLS failures', () => {
  it('names the edge and the verification code for an untrusted edge certificate', () => {
    const err = describeNetworkError(
      errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      'the edge at edge.test:443',
    );
    expect(err).toMatchObject({ code: 'TUN_ERR_EDGE_TLS', retryable: true });
    expect(err.message).toBe(
      'the certificate of the edge at edge.test:443 failed verification: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    );
  });

  it('treats expiry, a wrong name and self-signed chains as verification failures too', () => {
    for (const code of [
      'CERT_HAS_EXPIRED',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'CERT_NOT_YET_VALID',
    ]) {
      expect([code, describeNetworkError(errno(code), 'the edge at e:443').code]).toEqual([
        code,
        'TUN_ERR_EDGE_TLS',
      ]);
      expect([code, describeOriginError(errno(code), '127.0.0.1:8443').code]).toEqual([
        code,
        'TUN_ERR_ORIGIN_TLS',
      ]);
    }
  });

  it('maps a failed handshake with the origin (no TLS there, no common protocol) to ORIGIN_TLS', () => {
    const err = describeOriginError(
      errno('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'),
      '127.0.0.1:3000',
    );
    expect(err).toMatchObject({ code: 'TUN_ERR_ORIGIN_TLS' });
    expect(err.message).toContain('TLS handshake with 127.0.0.1:3000 failed');
  });

  it('leaves a plain refused edge a connect failure', () => {
    expect(describeNetworkError(errno('ECONNREFUSED'), 'the edge at e:443').code).toBe(
      'TUN_ERR_CONNECT_FAILED',
    );
  });
});
