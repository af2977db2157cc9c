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
