/**
 * API key scopes: what a key may do. Stored as one text column, comma-separated in the
 * canonical order of `API_KEY_SCOPES` (`agent,api,admin`), so both dialects read it alike
 * and equal sets are equal strings.
 */
import { TunnelError } from '@burrow/protocol';
import type { ApiKeyScope } from './store.js';

/** Every scope, in canonical order. */
export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['agent', 'api', 'admin'];

/** What a key gets when nobody says otherwise, and what keys made before scopes existed have. */
export const DEFAULT_API_KEY_SCOPES: readonly ApiKeyScope[] = ['agent', 'api'];

function isScope(value: unknown): value is ApiKeyScope {
  return typeof value === 'string' && (API_KEY_SCOPES as readonly string[]).includes(value);
}

function invalidScope(what: string): TunnelError {
  return new TunnelError(
    'TUN_ERR_NAME_INVALID',
    `${what}: a key's scopes are one or more of ${API_KEY_SCOPES.join(', ')}, e.g. "agent,api"`,
  );
}

/**
 * Checks a scope list from an untrusted caller and returns it without duplicates in
 * canonical order. Throws TUN_ERR_NAME_INVALID for an empty list or an unknown scope.
 */
export function normalizeApiKeyScopes(scopes: readonly unknown[]): ApiKeyScope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) throw invalidScope('no scope given');
  for (const scope of scopes) {
    if (!isScope(scope)) throw invalidScope(`"${String(scope)}" is not a scope`);
  }
  return API_KEY_SCOPES.filter((scope) => scopes.includes(scope));
}

/** Parses `agent,api` (spaces allowed around the commas) as typed on a command line. */
export function parseApiKeyScopes(text: string): ApiKeyScope[] {
  const parts = text.split(',').map((part) => part.trim().toLowerCase());
  return normalizeApiKeyScopes(parts.filter((part) => part !== ''));
}

/** The column value for a normalized scope list. */
export function encodeApiKeyScopes(scopes: readonly ApiKeyScope[]): string {
  return scopes.join(',');
}

/**
 * The scope list stored in a row. Unknown words are dropped rather than trusted: a key
 * must never gain a scope from a value this build cannot read.
 */
export function decodeApiKeyScopes(text: string): ApiKeyScope[] {
  const words = text.split(',');
  return API_KEY_SCOPES.filter((scope) => words.includes(scope));
}

/** True when a key with `scopes` may do what `needed` covers; `admin` allows everything. */
export function scopeAllows(scopes: readonly ApiKeyScope[], needed: ApiKeyScope): boolean {
  return scopes.includes(needed) || scopes.includes('admin');
}
