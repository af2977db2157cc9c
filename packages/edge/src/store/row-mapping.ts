/** Converts stored rows to the records the Store returns (snake_case ms -> camelCase Dates). */
import type { Selectable } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import type { ApiKeysTable, SessionsTable, TunnelsTable } from './schema.js';
import type { ApiKeyRecord, SessionRecord, TunnelRecord } from './store.js';

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

export function toApiKeyRecord(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    prefix: row.prefix,
    label: row.label,
    createdAt: millisToDate(row.created_at),
    lastUsedAt: optionalDate(row.last_used_at),
    revokedAt: optionalDate(row.revoked_at),
  };
}

export function toTunnelRecord(row: Selectable<TunnelsTable>): TunnelRecord {
  return {
    name: row.name,
    kind: row.kind,
    ownerKeyId: row.owner_key_id,
    resumeTokenHash: row.resume_token_hash,
    createdAt: millisToDate(row.created_at),
    lastActiveAt: millisToDate(row.last_active_at),
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
