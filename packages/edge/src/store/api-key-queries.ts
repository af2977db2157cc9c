/**
 * The API-keys half of KyselyStore: creating keys for users with scopes, listing, revoking
 * and verifying presented secrets. Portable SQL only, as in kysely-store.ts.
 */
import type { Kysely } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import { DEFAULT_API_KEY_SCOPES, encodeApiKeyScopes, normalizeApiKeyScopes } from './api-key-scopes.js';
import { generateApiKeySecret, parseApiKeyPrefix } from './api-key-secret.js';
import { validateKeyLabel } from './printable-text.js';
import { randomBase62 } from './random-base62.js';
import { toApiKeyRecord, toUserRecord } from './row-mapping.js';
import type { Database } from './schema.js';
import { hashSecret, hashesEqual } from './secret-hash.js';
import type {
  ApiKeyRecord,
  CreateApiKeyInput,
  ListApiKeysOptions,
  RandomBytes,
  VerifiedApiKey,
} from './store.js';
import { DEFAULT_USER_ID } from './user-name.js';
import { requireUser } from './user-queries.js';

// A prefix collision needs two 8-character base62 draws to match (1 in 2e14); a few
// retries cover bad luck, and repeated collisions mean the random source is not random.
const CREATE_KEY_ATTEMPTS = 4;

export async function createApiKey(
  db: Kysely<Database>,
  input: CreateApiKeyInput,
  random: RandomBytes,
  now: number,
): Promise<{ record: ApiKeyRecord; secret: string }> {
  const label = validateKeyLabel(input.label);
  const scopes = normalizeApiKeyScopes(input.scopes ?? DEFAULT_API_KEY_SCOPES);
  const user = await requireUser(db, input.userId ?? DEFAULT_USER_ID);
  if (scopes.includes('admin') && !user.admin) {
    throw new TunnelError(
      'TUN_ERR_UNAUTHORIZED',
      `user "${user.name}" is not an admin, so its keys cannot have the admin scope; leave admin out of the scopes`,
    );
  }
  for (let attempt = 0; attempt < CREATE_KEY_ATTEMPTS; attempt++) {
    const { prefix, secret } = generateApiKeySecret(random);
    const row = await db
      .insertInto('api_keys')
      .values({
        id: `key_${randomBase62(random, 16)}`,
        prefix,
        hash: hashSecret(secret),
        label,
        created_at: now,
        last_used_at: null,
        revoked_at: null,
        user_id: user.id,
        scopes: encodeApiKeyScopes(scopes),
      })
      // Targetless: an id collision is as retryable as a prefix collision.
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return { record: toApiKeyRecord(row), secret };
  }
  throw new TunnelError(
    'TUN_ERR_INTERNAL',
    'could not find an unused API key prefix; is the random source random?',
  );
}

export async function listApiKeys(
  db: Kysely<Database>,
  opts: ListApiKeysOptions = {},
): Promise<ApiKeyRecord[]> {
  let query = db.selectFrom('api_keys').selectAll();
  if (opts.userId !== undefined) query = query.where('user_id', '=', opts.userId);
  const rows = await query.orderBy('created_at').orderBy('id').execute();
  return rows.map(toApiKeyRecord);
}

export async function revokeApiKey(
  db: Kysely<Database>,
  idOrPrefix: string,
  now: number,
): Promise<ApiKeyRecord | null> {
  await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where((eb) => eb.or([eb('id', '=', idOrPrefix), eb('prefix', '=', idOrPrefix)]))
    .where('revoked_at', 'is', null)
    .execute();
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', idOrPrefix), eb('prefix', '=', idOrPrefix)]))
    .executeTakeFirst();
  return row === undefined ? null : toApiKeyRecord(row);
}

export async function verifyApiKey(
  db: Kysely<Database>,
  secret: string,
  now: number,
): Promise<VerifiedApiKey | null> {
  const prefix = parseApiKeyPrefix(secret);
  if (prefix === null) return null;
  const found = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .selectAll('users')
    .select(['api_keys.id as key_id', 'api_keys.hash', 'api_keys.revoked_at'])
    .where('api_keys.prefix', '=', prefix)
    .executeTakeFirst();
  if (found === undefined || found.revoked_at !== null || found.disabled_at !== null) return null;
  if (!hashesEqual(hashSecret(secret), found.hash)) return null;
  // Re-checking revoked_at and the user's disabled_at here makes a revoke or disable that
  // lands between the read and this write win: the key is refused, not marked used.
  const row = await db
    .updateTable('api_keys')
    .set({ last_used_at: now })
    .where('id', '=', found.key_id)
    .where('revoked_at', 'is', null)
    .where('user_id', 'in', (eb) => eb.selectFrom('users').select('id').where('disabled_at', 'is', null))
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) return null;
  return { ...toApiKeyRecord(row), user: toUserRecord(found) };
}
