/**
 * `/keys`, `/me` and `/sessions`: the caller's own API keys (a key can mint keys for its
 * user with no more scopes than it has itself), who the caller is, and its agent session
 * history. Secrets are shown once, in the answer that creates them.
 */

import { TunnelError } from '@burrow/protocol';
import {
  DEFAULT_API_KEY_SCOPES,
  normalizeApiKeyScopes,
  scopeAllows,
  type ApiKeyRecord,
  type ApiKeyScope,
  type SessionRecord,
} from '../store/index.js';
import { mayAccess, notYours, type ApiDeps } from './api-deps.js';
import type { ApiRequest, ApiRoute } from './api-router.js';

const MAX_LABEL_LENGTH = 200;

export function keyView(key: ApiKeyRecord): Record<string, unknown> {
  return {
    id: key.id,
    prefix: key.prefix,
    label: key.label,
    userId: key.userId,
    scopes: key.scopes,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

function sessionView(session: SessionRecord): Record<string, unknown> {
  return {
    id: session.id,
    keyId: session.keyId,
    agent: session.agent,
    remoteAddress: session.remoteAddress,
    connectedAt: session.connectedAt.toISOString(),
    disconnectedAt: session.disconnectedAt?.toISOString() ?? null,
    reason: session.reason,
  };
}

/**
 * The scopes of a key being created: as asked, or by default the usual `agent,api` narrowed
 * to what the calling key has. Never more than the calling key has.
 */
function scopesField(value: unknown, own: readonly ApiKeyScope[]): ApiKeyScope[] {
  if (value === undefined) return DEFAULT_API_KEY_SCOPES.filter((scope) => scopeAllows(own, scope));
  if (!Array.isArray(value)) {
    throw new TunnelError('TUN_ERR_INVALID_INPUT', '"scopes" must be a list such as ["agent"]');
  }
  let scopes: ApiKeyScope[];
  try {
    scopes = normalizeApiKeyScopes(value);
  } catch (err) {
    throw new TunnelError('TUN_ERR_INVALID_INPUT', (err as Error).message);
  }
  const beyond = scopes.filter((scope) => !scopeAllows(own, scope));
  if (beyond.length > 0) {
    throw new TunnelError(
      'TUN_ERR_FORBIDDEN',
      `a key cannot give another key scopes it does not have itself: ${beyond.join(', ')}`,
    );
  }
  return scopes;
}

function limitField(value: string | null): number {
  if (value === null) return 100;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new TunnelError('TUN_ERR_INVALID_INPUT', '"limit" must be a whole number from 1 to 1000');
  }
  return n;
}

export function accountRoutes(deps: ApiDeps): ApiRoute[] {
  const { store } = deps;
  return [
    {
      method: 'GET',
      path: '/me',
      handle({ caller }: ApiRequest) {
        const { key } = caller;
        return Promise.resolve({
          status: 200,
          body: {
            user: { id: key.user.id, name: key.user.name, admin: key.user.admin },
            key: keyView(key),
          },
        });
      },
    },
    {
      method: 'GET',
      path: '/keys',
      async handle({ caller }: ApiRequest) {
        const keys = await store.listApiKeys(caller.admin ? {} : { userId: caller.userId });
        return { status: 200, body: { keys: keys.map(keyView) } };
      },
    },
    {
      method: 'POST',
      path: '/keys',
      async handle({ caller, readBody }: ApiRequest) {
        const body = await readBody();
        const label = body.label ?? '';
        if (typeof label !== 'string' || label.length > MAX_LABEL_LENGTH) {
          throw new TunnelError(
            'TUN_ERR_INVALID_INPUT',
            `"label" must be text of at most ${MAX_LABEL_LENGTH} characters`,
          );
        }
        const scopes = scopesField(body.scopes, caller.key.scopes);
        const { record, secret } = await store.createApiKey({ label, userId: caller.userId, scopes });
        return { status: 201, body: { ...keyView(record), secret } };
      },
    },
    {
      method: 'DELETE',
      path: '/keys/{id}',
      async handle({ caller, params }: ApiRequest) {
        const id = params.id!;
        const key = (await store.listApiKeys(caller.admin ? {} : { userId: caller.userId })).find(
          (k) => k.id === id || k.prefix === id,
        );
        if (key === undefined || !mayAccess(caller, key.userId)) throw notYours('API key', id);
        await store.revokeApiKey(key.id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/sessions',
      async handle({ caller, query }: ApiRequest) {
        const limit = limitField(query.get('limit'));
        const sessions = await store.listSessions(
          caller.admin ? { limit } : { limit, userId: caller.userId },
        );
        return { status: 200, body: { sessions: sessions.map(sessionView) } };
      },
    },
  ];
}
