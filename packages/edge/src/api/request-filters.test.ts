import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import { parseRequestFilters } from './request-filters.js';

const parse = (query: string) => parseRequestFilters(new URLSearchParams(query));

function refusal(query: string): TunnelError {
  try {
    parse(query);
  } catch (err) {
    if (err instanceof TunnelError) return err;
    throw err;
  }
  throw new Error(`"${query}" was accepted`);
}

describe('request filters', () => {
  it('default to a page of 50 with no filter', () => {
    expect(parse('')).toEqual({ limit: 50 });
  });

  it('read every filter into the store query', () => {
    expect(
      parse(
        'status=4xx&method=post&path_prefix=/hooks/&since=2024-05-01T12:00:00Z&until=2024-05-01T15:00:00.5%2B02:00&error_code=TUN_ERR_ORIGIN_REFUSED&limit=200&cursor=abc',
      ),
    ).toEqual({
      statusClass: 4,
      method: 'POST',
      pathPrefix: '/hooks/',
      since: new Date('2024-05-01T12:00:00Z'),
      until: new Date('2024-05-01T13:00:00.500Z'),
      errorCode: 'TUN_ERR_ORIGIN_REFUSED',
      limit: 200,
      cursor: 'abc',
    });
  });

  it.each([
    ['status=6xx', 'status'],
    ['status=404', 'status'],
    ['method=GET%20/', 'method'],
    ['path_prefix=hooks', 'path_prefix'],
    [`path_prefix=/${'a'.repeat(2048)}`, 'path_prefix'],
    ['since=yesterday', 'since'],
    ['since=2024-02-30T00:00:00Z', 'since'],
    ['until=2024-05-01', 'until'],
    ['since=2024-05-01T12:00:00Z&until=2024-05-01T12:00:00Z', 'until'],
    ['error_code=TUN_ERR_NOPE', 'error_code'],
    ['error_code=toString', 'error_code'],
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=', 'limit'],
    ['cursor=', 'cursor'],
    ['statuss=2xx', 'statuss'],
    ['status=2xx&status=4xx', 'status'],
  ])('refuse %s with 400 naming %s', (query, field) => {
    const err = refusal(query);
    expect(err.code).toBe('TUN_ERR_INVALID_INPUT');
    expect(err.status).toBe(400);
    expect(err.message.startsWith(`${field} must be`)).toBe(true);
  });
});
