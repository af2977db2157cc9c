/**
 * The query string of `GET /tunnels/{name}/requests`, checked field by field into the store's
 * `RequestQuery`: a bad value, a repeated field or an unknown one is a 400
 * (TUN_ERR_INVALID_INPUT) that names it, never a silently wider answer.
 */

import { ERROR_CATALOG, TunnelError } from '@burrow/protocol';
import type { RequestQuery, StatusClass } from '../store/request-records.js';

/** Page size when `limit` is absent, and its bounds. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** Longest `path_prefix` (records keep at most 2,048 characters of a path) and `cursor`. */
const MAX_PATH_PREFIX = 2048;
const MAX_CURSOR = 512;

export type RequestFilters = Omit<RequestQuery, 'tunnel' | 'userId'>;

const FIELDS = ['status', 'method', 'path_prefix', 'since', 'until', 'error_code', 'limit', 'cursor'];
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
/** An HTTP method is a token (RFC 9110 §5.6.2). */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

function invalid(field: string, requirement: string): TunnelError {
  return new TunnelError('TUN_ERR_INVALID_INPUT', `${field} must be ${requirement}`);
}

/** True when every field is in range: Date.parse would roll 2024-02-30 over to March. */
function realDateTime(match: RegExpExecArray): boolean {
  const part = (i: number): number => Number(match[i] ?? 0);
  const [year, month, day] = [part(1), part(2), part(3)];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    part(4) <= 23 &&
    part(5) <= 59 &&
    part(6) <= 59 &&
    part(8) <= 23 &&
    part(9) <= 59
  );
}

function timestamp(field: string, value: string): Date {
  const match = RFC3339.exec(value);
  const ms = match !== null && realDateTime(match) ? Date.parse(value.replace(' ', 'T')) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(field, 'an RFC 3339 date-time such as 2024-05-01T12:00:00Z');
  return new Date(ms);
}

export function parseRequestFilters(query: URLSearchParams): RequestFilters {
  for (const key of new Set(query.keys())) {
    if (!FIELDS.includes(key)) throw invalid(key, `one of ${FIELDS.join(', ')} (unknown query field)`);
    if (query.getAll(key).length > 1) throw invalid(key, 'given once');
  }
  const filters: RequestFilters = { limit: DEFAULT_PAGE_SIZE };
  const status = query.get('status');
  if (status !== null) {
    if (!/^[1-5]xx$/i.test(status)) throw invalid('status', 'a status class: 1xx, 2xx, 3xx, 4xx or 5xx');
    filters.statusClass = Number(status[0]) as StatusClass;
  }
  const method = query.get('method');
  if (method !== null) {
    if (!METHOD.test(method)) throw invalid('method', 'an HTTP method such as GET');
    filters.method = method.toUpperCase();
  }
  const pathPrefix = query.get('path_prefix');
  if (pathPrefix !== null) {
    if (!pathPrefix.startsWith('/') || pathPrefix.length > MAX_PATH_PREFIX)
      throw invalid('path_prefix', `a path starting with "/", at most ${MAX_PATH_PREFIX} characters`);
    filters.pathPrefix = pathPrefix;
  }
  const since = query.get('since');
  if (since !== null) filters.since = timestamp('since', since);
  const until = query.get('until');
  if (until !== null) filters.until = timestamp('until', until);
  if (filters.since !== undefined && filters.until !== undefined && filters.until <= filters.since)
    throw invalid('until', 'later than since');
  const errorCode = query.get('error_code');
  if (errorCode !== null) {
    if (!Object.hasOwn(ERROR_CATALOG, errorCode))
      throw invalid(
        'error_code',
        'a code from the error catalog (docs/errors.md), such as TUN_ERR_ORIGIN_REFUSED',
      );
    filters.errorCode = errorCode;
  }
  const limit = query.get('limit');
  if (limit !== null) {
    const n = /^\d{1,4}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!(n >= 1 && n <= MAX_PAGE_SIZE)) throw invalid('limit', `an integer from 1 to ${MAX_PAGE_SIZE}`);
    filters.limit = n;
  }
  const cursor = query.get('cursor');
  if (cursor !== null) {
    if (cursor === '' || cursor.length > MAX_CURSOR)
      throw invalid('cursor', 'the nextCursor of a previous page, unchanged');
    filters.cursor = cursor;
  }
  return filters;
}
