/**
 * Who a tunnel name belongs to: the tunnels query that carries its owner's user name, and
 * reserving and releasing names for users. Portable SQL only, as in kysely-store.ts.
 */
import type { Kysely } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import { constraintViolationOf } from './constraint-violation.js';
import { nameTakenError } from './name-taken.js';
import { toTunnelRecord } from './row-mapping.js';
import type { Database } from './schema.js';
import type { ReserveNameInput, TunnelRecord } from './store.js';
import { unknownUser } from './user-queries.js';

// Each attempt ends in a row inserted or found; only a delete landing between the insert
// and the read sends us round again, and a few rounds of that means something is wrong.
const RESERVE_ATTEMPTS = 3;

/**
 * Tunnels with their owner's name (`owner_user_name`). Columns are ambiguous across the
 * join (`users.name`, `tunnels.name`), so callers qualify them: `tunnels.name`.
 */
export function selectTunnels(db: Kysely<Database>) {
  return db
    .selectFrom('tunnels')
    .leftJoin('users', 'users.id', 'tunnels.owner_user_id')
    .selectAll('tunnels')
    .select('users.name as owner_user_name');
}

export async function findTunnel(db: Kysely<Database>, name: string): Promise<TunnelRecord | undefined> {
  const row = await selectTunnels(db).where('tunnels.name', '=', name).executeTakeFirst();
  return row === undefined ? undefined : toTunnelRecord(row);
}

export async function reserveName(
  db: Kysely<Database>,
  input: ReserveNameInput,
  now: number,
): Promise<TunnelRecord> {
  const { name, userId } = input;
  for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
    try {
      await db
        .insertInto('tunnels')
        .values({
          name,
          kind: 'named',
          owner_key_id: null,
          owner_user_id: userId,
          resume_token_hash: null,
          created_at: now,
          last_active_at: now,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    } catch (err) {
      if (constraintViolationOf(err) === 'foreign-key') throw unknownUser(userId, err);
      throw err;
    }
    const existing = await findTunnel(db, name);
    if (existing === undefined) continue;
    if (existing.ownerUserId !== userId) throw nameTakenError(existing);
    if (existing.kind === 'named') return existing;
    // The user's own temporary tunnel: keep it, but the janitor must no longer reap it.
    await db
      .updateTable('tunnels')
      .set({ kind: 'named' })
      .where('name', '=', name)
      .where('owner_user_id', '=', userId)
      .execute();
  }
  throw new TunnelError(
    'TUN_ERR_INTERNAL',
    `the name "${name}" kept changing while it was reserved; try again`,
  );
}

export async function releaseName(db: Kysely<Database>, input: ReserveNameInput): Promise<boolean> {
  const result = await db
    .deleteFrom('tunnels')
    .where('name', '=', input.name)
    .where('owner_user_id', '=', input.userId)
    .executeTakeFirst();
  return result.numDeletedRows === 1n;
}
