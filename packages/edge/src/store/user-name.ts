/**
 * User names: the handle an operator types (`burrow-edge users create alice`) and other
 * users see in "reserved by" errors. Lower-case so uniqueness is case-insensitive on every
 * dialect without collations.
 */
import { TunnelError } from '@burrow/protocol';
import { printable } from './printable-text.js';

/** Id of the user migration 0002 creates for keys made before users existed; an admin. */
export const DEFAULT_USER_ID = 'usr_default';
export const DEFAULT_USER_NAME = 'default';

// 1-64 characters; letters, digits, '.', '_' and '-', starting and ending with a letter or digit.
const USER_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

/** The name trimmed and lower-cased, or null when it is not a valid user name. */
export function tryNormalizeUserName(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const name = raw.trim().toLowerCase();
  return USER_NAME.test(name) ? name : null;
}

/** The name trimmed and lower-cased; throws TUN_ERR_NAME_INVALID saying what a name may be. */
export function normalizeUserName(raw: unknown): string {
  const name = tryNormalizeUserName(raw);
  if (name === null) {
    throw new TunnelError(
      'TUN_ERR_NAME_INVALID',
      `"${printable(String(raw))}" is not a valid user name: use 1-64 letters, digits, ".", "_" or "-", starting and ending with a letter or digit`,
    );
  }
  return name;
}
