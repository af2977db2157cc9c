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

/**
 * Runs `claim` in a transaction that first locks the user's row, then refuses with
 * TUN_ERR_NAME_LIMIT when the user already has `limit` named tunnels. The lock (an UPDATE
 * that changes nothing) serializes claims of one user on PostgreSQL, and BEGIN IMMEDIATE
 * does so on SQLite, so the count read is the count the insert lands on.
 */
export async function withinNameLimit<T>(
  db: Kysely<Database>,
  userId: string,
  limit: number,
  claim: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const locked = await trx
      .updateTable('users')
      .set((eb) => ({ name: eb.ref('name') }))
      .where('id', '=', userId)
      .executeTakeFirst();
    if (locked.numUpdatedRows === 0n) throw unknownUser(userId);
    const row = await trx
      .selectFrom('tunnels')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('owner_user_id', '=', userId)
      .where('kind', '=', 'named')
      .executeTakeFirstOrThrow();
    const count = Number(row.n);
    if (count >= limit) throw nameLimitError(count, limit);
    return claim(trx);
  });
}

export function nameLimitError(count: number, limit: number): TunnelError {
  return new TunnelError(
    'TUN_ERR_NAME_LIMIT',
    `this user already has ${count} reserved names (the limit is ${limit}); release one you no longer use (DELETE /api/v1/tunnels/{name}, or burrow-edge names release <name>) or ask the operator to raise limits.reservedNamesPerUser`,
  );
}

export async function reserveName(
  db: Kysely<Database>,
  input: ReserveNameInput,
  now: number,
): Promise<TunnelRecord> {
  const limit = input.maxNamedPerUser;
  if (limit === undefined) return reserveUnlimited(db, input, now);
  // A name already the user's is answered without counting: reserving is idempotent.
  const existing = await findTunnel(db, input.name);
  if (existing?.ownerUserId === input.userId && existing.kind === 'named') return existing;
  if (existing !== undefined && existing.ownerUserId !== input.userId) throw nameTakenError(existing);
  return withinNameLimit(db, input.userId, limit, (trx) => reserveUnlimited(trx, input, now));
}

async function reserveUnlimited(
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
