/**
 * The one wording of "this tunnel name is not yours", shared by `reserveName` and the
 * gateway's BIND, so every caller says who can free the name and nothing secret (never a
 * key id, prefix or token).
 */
import { TunnelError } from '@burrow/protocol';
import type { TunnelRecord } from './store.js';

/** TUN_ERR_NAME_TAKEN for a caller who does not own `tunnel`. */
export function nameTakenError(tunnel: Pick<TunnelRecord, 'name' | 'kind' | 'ownerUserName'>): TunnelError {
  const { name, kind, ownerUserName } = tunnel;
  if (kind === 'temporary') {
    return new TunnelError(
      'TUN_ERR_NAME_TAKEN',
      `"${name}" is a temporary name handed to another agent; it is freed once idle, or run without --name for a new one`,
    );
  }
  if (ownerUserName === null) {
    return new TunnelError(
      'TUN_ERR_NAME_TAKEN',
      `the name "${name}" is reserved and belongs to no user; an edge admin can release it, or choose another name`,
    );
  }
  return new TunnelError(
    'TUN_ERR_NAME_TAKEN',
    `the name "${name}" is reserved by user "${ownerUserName}"; only their keys can bind it. Ask ${ownerUserName} or an edge admin to release it, or choose another name`,
  );
}
