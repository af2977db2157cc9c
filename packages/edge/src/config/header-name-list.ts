/**
 * Parses `history.redactHeaders`: header names, given as a list or one comma-separated
 * string, lower-cased (matching is case-insensitive).
 */

/** The requirement every problem states, so messages read "history.redactHeaders ... must be <this>". */
export const HEADER_NAME_LIST_REQUIREMENT =
  'a list (or comma-separated string) of header names, e.g. Authorization,Cookie (empty for none)';

/** RFC 9110 token: what a header name consists of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export type HeaderNameListParse = { ok: true; names: string[] } | { ok: false; requirement: string };

/** Each name trimmed, checked as a token and lower-cased; repeats dropped; never throws. */
export function parseHeaderNameList(value: string | readonly string[]): HeaderNameListParse {
  const names = (typeof value === 'string' ? value.split(',') : value.flatMap((v) => v.split(',')))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const bad = names.find((name) => !TOKEN.test(name));
  if (bad !== undefined)
    return { ok: false, requirement: `${HEADER_NAME_LIST_REQUIREMENT} ("${bad}" is not a header name)` };
  return { ok: true, names: [...new Set(names.map((name) => name.toLowerCase()))] };
}
