/**
 * The custom-domains half of KyselyStore: a user's hostnames, their verification tokens,
 * and the named tunnel each routes to. Portable SQL only, as in kysely-store.ts.
 */
import type { Kysely } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import { constraintViolationOf } from './constraint-violation.js';
import { lookupDomainHostname, normalizeDomainHostname } from './custom-domain.js';
import { randomBase62 } from './random-base62.js';
import { toDomainRecord } from './row-mapping.js';
import type { Database } from './schema.js';
import type { AddDomainInput, DomainRecord, ListDomainsOptions, RandomBytes } from './store.js';
import { findTunnel } from './tunnel-ownership.js';
import { getUser, requireUser } from './user-queries.js';

/** 32 base62 characters: about 190 bits, far beyond guessing, short enough to paste into DNS. */
export const DOMAIN_TOKEN_LENGTH = 32;

export async function addDomain(
  db: Kysely<Database>,
  input: AddDomainInput,
  random: RandomBytes,
  now: number,
): Promise<DomainRecord> {
  const hostname = normalizeDomainHostname(input.hostname);
  const user = await requireUser(db, input.userId);
  const tunnelName = input.tunnelName ?? null;
  if (tunnelName !== null) await requireRoutableTunnel(db, user.id, tunnelName);
  let row;
  try {
    row = await db
      .insertInto('domains')
      .values({
        hostname,
        user_id: user.id,
        verification_token: randomBase62(random, DOMAIN_TOKEN_LENGTH),
        tunnel_name: tunnelName,
        created_at: now,
        verified_at: null,
      })
      .onConflict((oc) => oc.column('hostname').doNothing())
      .returningAll()
      .executeTakeFirst();
  } catch (err) {
    // The tunnel (or user) went away between the checks above and the insert.
    if (constraintViolationOf(err) === 'foreign-key') {
      throw new TunnelError('TUN_ERR_NOT_FOUND', `the tunnel "${String(tunnelName)}" no longer exists`, {
        cause: err,
      });
    }
    throw err;
  }
  if (row !== undefined) return toDomainRecord(row);
  const holder = await findDomainRow(db, hostname);
  const owner = holder === undefined ? undefined : await getUser(db, holder.userId);
  const by = owner === undefined ? '' : ` by user "${owner.name}"`;
  throw new TunnelError(
    'TUN_ERR_NAME_TAKEN',
    `the domain "${hostname}" was already added${by}; it must be removed (by its user or an edge admin) before it can be added again`,
  );
}

export async function getDomain(db: Kysely<Database>, raw: string): Promise<DomainRecord | undefined> {
  const hostname = lookupDomainHostname(raw);
  if (hostname === '') return undefined;
  return findDomainRow(db, hostname);
}

export async function listDomains(
  db: Kysely<Database>,
  opts: ListDomainsOptions = {},
): Promise<DomainRecord[]> {
  let query = db.selectFrom('domains').selectAll();
  if (opts.userId !== undefined) query = query.where('user_id', '=', opts.userId);
  if (opts.verified === true) query = query.where('verified_at', 'is not', null);
  if (opts.verified === false) query = query.where('verified_at', 'is', null);
  const rows = await query.orderBy('hostname').execute();
  return rows.map(toDomainRecord);
}

export async function markDomainVerified(
  db: Kysely<Database>,
  raw: string,
  now: number,
): Promise<DomainRecord | null> {
  const hostname = lookupDomainHostname(raw);
  await db
    .updateTable('domains')
    .set({ verified_at: now })
    .where('hostname', '=', hostname)
    .where('verified_at', 'is', null)
    .execute();
  return (await findDomainRow(db, hostname)) ?? null;
}

export async function setDomainTunnel(
  db: Kysely<Database>,
  raw: string,
  tunnelName: string | null,
): Promise<DomainRecord | null> {
  const domain = await getDomain(db, raw);
  if (domain === undefined) return null;
  if (tunnelName !== null) await requireRoutableTunnel(db, domain.userId, tunnelName);
  try {
    await db
      .updateTable('domains')
      .set({ tunnel_name: tunnelName })
      .where('hostname', '=', domain.hostname)
      .execute();
  } catch (err) {
    if (constraintViolationOf(err) === 'foreign-key') {
      throw new TunnelError('TUN_ERR_NOT_FOUND', `the tunnel "${String(tunnelName)}" no longer exists`, {
        cause: err,
      });
    }
    throw err;
  }
  return (await findDomainRow(db, domain.hostname)) ?? null;
}

export async function removeDomain(
  db: Kysely<Database>,
  raw: string,
  opts: { userId?: string } = {},
): Promise<boolean> {
  let query = db.deleteFrom('domains').where('hostname', '=', lookupDomainHostname(raw));
  if (opts.userId !== undefined) query = query.where('user_id', '=', opts.userId);
  const result = await query.executeTakeFirst();
  return result.numDeletedRows === 1n;
}

async function findDomainRow(db: Kysely<Database>, hostname: string): Promise<DomainRecord | undefined> {
  const row = await db.selectFrom('domains').selectAll().where('hostname', '=', hostname).executeTakeFirst();
  return row === undefined ? undefined : toDomainRecord(row);
}

/**
 * A domain may route only to a named tunnel of its own user: a temporary one would be
 * reaped by the janitor, and another user's would hand them the domain's traffic.
 */
async function requireRoutableTunnel(
  db: Kysely<Database>,
  userId: string,
  tunnelName: string,
): Promise<void> {
  const tunnel = await findTunnel(db, tunnelName);
  if (tunnel === undefined) {
    throw new TunnelError(
      'TUN_ERR_NOT_FOUND',
      `no tunnel is named "${tunnelName}"; reserve the name for the domain's user first`,
    );
  }
  if (tunnel.kind !== 'named' || tunnel.ownerUserId !== userId) {
    throw new TunnelError(
      'TUN_ERR_UNAUTHORIZED',
      `the tunnel "${tunnelName}" is not a named tunnel of the domain's user; a domain routes only to its user's reserved names`,
    );
  }
}
