/**
 * Migration 0004: which session holds each tunnel name. Set when a session binds the name;
 * sessions left open by a crash (never given a `disconnected_at`) then say, at the next
 * start, exactly which names were live and will be reconnected, however long ago they were
 * bound. Additive only: a nullable column without a foreign key (session rows are history,
 * never deleted, and a name's holder may be a session an older edge recorded).
 *
 * Frozen once released: later changes go in a new numbered file, never here.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tunnels').addColumn('session_id', 'text').execute();
}
