/**
 * The store's one observability hook: each query's duration, from Kysely's `log` option
 * (which times every query, failed ones included). The edge's metrics feed
 * `burrow_store_query_duration_seconds` from it; CLI commands pass nothing.
 */

import type { LogEvent } from 'kysely';

/** Called after every query; `failed` when it threw. Must be cheap and never throw. */
export type QueryTimer = (durationMs: number, failed: boolean) => void;

/** Kysely's `log` option for a timer, or undefined (no timing at all) without one. */
export function queryLog(onQuery: QueryTimer | undefined): ((event: LogEvent) => void) | undefined {
  if (onQuery === undefined) return undefined;
  return (event) => onQuery(event.queryDurationMillis, event.level === 'error');
}
