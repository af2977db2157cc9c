/**
 * Who is calling the control API: `Authorization: Bearer <API key>` with the `api` scope
 * (or `admin`, which implies it). Wrong keys count against the caller's address in the
 * same AuthFailures the agent endpoint uses, so guessing gets slower and then 429s.
 * Keys are compared by the store as sha256 hashes in constant time, and never logged.
 */

import type { IncomingMessage } from 'node:http';
import { TunnelError, type Timers } from '@burrow/protocol';
import {
  AuthLockedError,
  beginKeyAttempt,
  refuseWrongKey,
  type AuthFailures,
} from '../policy/auth-failures.js';
import { scopeAllows, type Store, type VerifiedApiKey } from '../store/index.js';
import { viewerKey } from '../ingress/viewer-key.js';
import { clientAddressOf } from '../listeners/client-address.js';

export interface ApiCaller {
  key: VerifiedApiKey;
  userId: string;
  /** The key carries the `admin` scope: it sees and changes every user's resources. */
  admin: boolean;
}

/** Thrown for a locked-out address; carries the Retry-After the answer must have. */
export { AuthLockedError as ApiLockedError };

export interface ApiAuthDeps {
  store: Store;
  failures: AuthFailures;
  timers: Timers;
}

function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match === null ? '' : match[1]!;
}

export async function authenticate(req: IncomingMessage, deps: ApiAuthDeps): Promise<ApiCaller> {
  const client = viewerKey(clientAddressOf(req));
  const gate = deps.failures.check(client);
  if (!gate.ok) throw new AuthLockedError(gate.retryAfterSeconds);
  const token = bearerToken(req);
  if (token === null) {
    throw new TunnelError(
      'TUN_ERR_UNAUTHORIZED',
      'the control API needs an API key: send "Authorization: Bearer <key>" (create one with "burrow-edge keys create --user <name> --scope api")',
    );
  }
  // Counted before the store is asked, so parallel guesses cannot all slip past the gate.
  const attempt = await beginKeyAttempt(deps.failures, client);
  let key: VerifiedApiKey | null;
  try {
    key = token === '' ? null : await deps.store.verifyApiKey(token);
  } catch (err) {
    attempt.succeeded();
    throw err;
  }
  if (key === null) throw await refuseWrongKey(attempt, deps.timers);
  attempt.succeeded();
  if (!scopeAllows(key.scopes, 'api')) {
    throw new TunnelError(
      'TUN_ERR_FORBIDDEN',
      `this key has the scopes ${key.scopes.join(', ')}; the control API needs a key with the "api" scope`,
    );
  }
  return { key, userId: key.user.id, admin: scopeAllows(key.scopes, 'admin') };
}
