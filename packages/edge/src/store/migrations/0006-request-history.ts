/**
 * Migration 0006: `request_records`, the edge's request history (one row per request or
 * upgrade through a tunnel; see request-records.ts). Additive only (one new table).
 *
 * Portable DDL like 0001, with two column types chosen for both dialects:
 * - timings are `double precision` (PostgreSQL float8; SQLite REAL affinity), fractional ms;
 * - bodies are `bytea`: PostgreSQL's binary type, and on SQLite a NUMERIC-affinity column,
 *   where a blob value is stored and read back untouched (affinity never converts blobs).
 *
 * No foreign keys: history is a log that outlives tunnels and keys, and one bad reference
 * must not fail a whole batch. Frozen once released.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('request_records')
    .addColumn('id', 'text', (col) => col.primaryKey().notNull())
    .addColumn('tunnel', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text')
    .addColumn('started_at', 'bigint', (col) => col.notNull())
    .addColumn('method', 'text', (col) => col.notNull())
    .addColumn('path', 'text', (col) => col.notNull())
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('status', 'integer', (col) => col.notNull())
    .addColumn('upgrade', 'integer', (col) => col.notNull().check(sql`upgrade in (0, 1)`))
    .addColumn('bytes_in', 'bigint', (col) => col.notNull())
    .addColumn('bytes_out', 'bigint', (col) => col.notNull())
    .addColumn('client_address', 'text', (col) => col.notNull())
    .addColumn('trace_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('edge_ms', 'double precision')
    .addColumn('tunnel_ms', 'double precision')
    .addColumn('origin_ms', 'double precision')
    .addColumn('total_ms', 'double precision', (col) => col.notNull())
    .addColumn('replay_of', 'text')
    // Capture: JSON text of the flat [name, value, …] lists; null request_headers = no capture.
    .addColumn('request_headers', 'text')
    .addColumn('request_body', 'bytea')
    .addColumn('request_body_truncated', 'integer', (col) =>
      col
        .notNull()
        .defaultTo(0)
        .check(sql`request_body_truncated in (0, 1)`),
    )
    .addColumn('response_headers', 'text')
    .addColumn('response_body', 'bytea')
    .addColumn('response_body_truncated', 'integer', (col) =>
      col
        .notNull()
        .defaultTo(0)
        .check(sql`response_body_truncated in (0, 1)`),
    )
    .execute();
  // The API's pages: one tunnel, newest first, id breaking ties (keyset pagination), and the
  // per-tunnel count sweep (the newest N of a tunnel).
  await db.schema
    .createIndex('request_records_tunnel_started_idx')
    .on('request_records')
    .columns(['tunnel', 'started_at desc', 'id desc'])
    .execute();
  // The age sweep (started_at < t).
  await db.schema
    .createIndex('request_records_started_at_idx')
    .on('request_records')
    .column('started_at')
    .execute();
}
