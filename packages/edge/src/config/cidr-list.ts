/**
 * Parses the edge's address-list settings (`proxy.trust`, `proxy.protocolFrom`): IP
 * addresses and CIDR blocks, given as a list or one comma-separated string.
 */
import { parseCidr } from '../policy/cidr.js';

/** The requirement every problem states, so messages read "proxy.trust ... must be <this>". */
export const CIDR_LIST_REQUIREMENT =
  'a list (or comma-separated string) of IP addresses or CIDR blocks, e.g. 10.0.0.0/8,192.0.2.1 (empty for none)';

export type CidrListParse = { ok: true; entries: string[] } | { ok: false; requirement: string };

/** Each entry trimmed and checked with the same parser the edge matches with; never throws. */
export function parseCidrList(value: string | readonly string[]): CidrListParse {
  const entries = (typeof value === 'string' ? value.split(',') : value.flatMap((v) => v.split(',')))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const bad = entries.find((entry) => parseCidr(entry) === null);
  if (bad !== undefined) return { ok: false, requirement: `${CIDR_LIST_REQUIREMENT} ("${bad}" is neither)` };
  return { ok: true, entries };
}
