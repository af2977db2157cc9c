/**
 * Migration 0003: a stored access policy per tunnel name. The owner sets it through the
 * control API, and the edge enforces it whenever an agent binds the name, whatever flags
 * the agent passed (agent flags override it field by field). Additive only: a new nullable
 * column, so every existing tunnel keeps having no stored policy.
 *
 * Frozen once released: later changes go in a new numbered file, never here.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // JSON text of a validated policy spec (see policy/policy-spec.ts), or null for none.
  await db.schema.alterTable('tunnels').addColumn('policy', 'text').execute();
}
