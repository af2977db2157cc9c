/** Converts stored rows to the records the Store returns (snake_case ms -> camelCase Dates). */
import type { Selectable } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import { decodeApiKeyScopes } from './api-key-scopes.js';
import type { ApiKeysTable, DomainsTable, SessionsTable, TunnelsTable, UsersTable } from './schema.js';
import type { ApiKeyRecord, DomainRecord, SessionRecord, TunnelRecord, UserRecord } from './store.js';

/** A stored millisecond timestamp as a Date; accepts the string form node-postgres returns. */
export function millisToDate(value: number | string | bigint): Date {
  const ms = Number(value);
  // A non-finite value means the row was written by something other than this store.
  if (!Number.isFinite(ms)) throw new TunnelError('TUN_ERR_INTERNAL', `corrupt timestamp in store: ${value}`);
  return new Date(ms);
}

function optionalDate(value: number | string | bigint | null): Date | null {
  return value === null ? null : millisToDate(value);
}

export function toUserRecord(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    name: row.name,
    admin: Number(row.is_admin) === 1,
    createdAt: millisToDate(row.created_at),
    disabledAt: optionalDate(row.disabled_at),
  };
}

export function toApiKeyRecord(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  // Migration 0002 filled user_id for every key and the store always writes it.
  if (row.user_id === null)
    throw new TunnelError('TUN_ERR_INTERNAL', `API key ${row.id} has no user in store`);
  return {
    id: row.id,
    prefix: row.prefix,
    label: row.label,
    userId: row.user_id,
    scopes: decodeApiKeyScopes(row.scopes),
    createdAt: millisToDate(row.created_at),
    lastUsedAt: optionalDate(row.last_used_at),
    revokedAt: optionalDate(row.revoked_at),
  };
}

/** A tunnels row with its owner's name from a left join on users (see `selectTunnels`). */
export type TunnelRow = Selectable<TunnelsTable> & { owner_user_name: string | null };

export function toTunnelRecord(row: TunnelRow): TunnelRecord {
  return {
    name: row.name,
    kind: row.kind,
    ownerKeyId: row.owner_key_id,
    ownerUserId: row.owner_user_id,
    ownerUserName: row.owner_user_name,
    resumeTokenHash: row.resume_token_hash,
    createdAt: millisToDate(row.created_at),
    lastActiveAt: millisToDate(row.last_active_at),
    policy: row.policy === null ? null : parseStoredPolicy(row.name, row.policy),
  };
}

export function toSessionRecord(row: Selectable<SessionsTable>): SessionRecord {
  return {
    id: row.id,
    keyId: row.key_id,
    agent: row.agent,
    remoteAddress: row.remote_address,
    connectedAt: millisToDate(row.connected_at),
    disconnectedAt: optionalDate(row.disconnected_at),
    reason: row.reason,
  };
}

export function toDomainRecord(row: Selectable<DomainsTable>): DomainRecord {
  return {
    hostname: row.hostname,
    userId: row.user_id,
    verificationToken: row.verification_token,
    tunnelName: row.tunnel_name,
    createdAt: millisToDate(row.created_at),
    verifiedAt: optionalDate(row.verified_at),
  };
}

/** The policy column holds JSON the store wrote; anything else means the row was edited by hand. */
function parseStoredPolicy(name: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new TunnelError('TUN_ERR_INTERNAL', `the stored policy of tunnel ${name} is not JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TunnelError('TUN_ERR_INTERNAL', `the stored policy of tunnel ${name} is not an object`);
  return value as Record<string, unknown>;
}
