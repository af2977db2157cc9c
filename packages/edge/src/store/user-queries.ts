/**
 * The users half of KyselyStore: accounts that own keys, tunnel names and domains. Users
 * are disabled, never deleted. Portable SQL only, as in kysely-store.ts.
 */
import type { Kysely } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import { randomBase62 } from './random-base62.js';
import { toUserRecord } from './row-mapping.js';
import type { Database } from './schema.js';
import type { CreateUserInput, RandomBytes, UserRecord } from './store.js';
import { normalizeUserName, tryNormalizeUserName } from './user-name.js';

// An id collision needs two 16-character base62 draws to match; retrying covers bad luck.
const CREATE_USER_ATTEMPTS = 4;

export async function createUser(
  db: Kysely<Database>,
  input: CreateUserInput,
  random: RandomBytes,
  now: number,
): Promise<UserRecord> {
  const name = normalizeUserName(input.name);
  for (let attempt = 0; attempt < CREATE_USER_ATTEMPTS; attempt++) {
    const row = await db
      .insertInto('users')
      .values({
        id: `usr_${randomBase62(random, 16)}`,
        name,
        is_admin: input.admin === true ? 1 : 0,
        created_at: now,
        disabled_at: null,
      })
      // Targetless: a taken name and an id collision both land here; the read below tells them apart.
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return toUserRecord(row);
    if ((await getUserByName(db, name)) !== undefined) {
      throw new TunnelError(
        'TUN_ERR_NAME_TAKEN',
        `a user named "${name}" already exists; choose another name`,
      );
    }
  }
  throw new TunnelError('TUN_ERR_INTERNAL', 'could not find an unused user id; is the random source random?');
}

export async function getUser(db: Kysely<Database>, id: string): Promise<UserRecord | undefined> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toUserRecord(row);
}

export async function getUserByName(db: Kysely<Database>, raw: string): Promise<UserRecord | undefined> {
  const name = tryNormalizeUserName(raw);
  if (name === null) return undefined;
  const row = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  return row === undefined ? undefined : toUserRecord(row);
}

export async function listUsers(db: Kysely<Database>): Promise<UserRecord[]> {
  const rows = await db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toUserRecord);
}

/** Sets `disabled_at` to `now` (first disable wins) or clears it; null for an unknown id. */
export async function setUserDisabled(
  db: Kysely<Database>,
  id: string,
  disabled: boolean,
  now: number,
): Promise<UserRecord | null> {
  let update = db
    .updateTable('users')
    .set({ disabled_at: disabled ? now : null })
    .where('id', '=', id);
  if (disabled) update = update.where('disabled_at', 'is', null);
  await update.execute();
  return (await getUser(db, id)) ?? null;
}

export async function isUserActive(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('id', '=', id)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

/** The user row or TUN_ERR_NOT_FOUND, for methods that act on a user's behalf. */
export async function requireUser(db: Kysely<Database>, id: string): Promise<UserRecord> {
  const user = await getUser(db, id);
  if (user === undefined) throw unknownUser(id);
  return user;
}

export function unknownUser(id: string | null | undefined, cause?: unknown): TunnelError {
  return new TunnelError('TUN_ERR_NOT_FOUND', `no user has id ${String(id)}`, { cause });
}
