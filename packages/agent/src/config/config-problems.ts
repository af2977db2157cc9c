/**
 * Where each raw agent setting came from, and how validation issues become one
 * TUN_ERR_CONFIG_INVALID error naming every bad setting with its source:
 *   invalid configuration: server (from env BURROW_SERVER) must be an http:// or https:// URL ..., got "ftp://x"
 */
import { TunnelError } from '@burrow/protocol';
import type * as z from 'zod';

export type Source =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'flag'; readonly name: string }
  | { readonly kind: 'argument' };

export function describeSource(source: Source): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `from file ${source.path}`;
    case 'env':
      return `from env ${source.name}`;
    case 'flag':
      // Flags arrive under commander's camelCase keys: metricsListen is --metrics-listen.
      return `from flag --${source.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    case 'argument':
      return 'from the command line';
  }
}

const MAX_SHOWN_CHARS = 80;

/** How a raw value is quoted in a problem; secrets are never shown. */
export function formatValue(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing';
  if (secret) return 'a value that is not shown (it is a secret)';
  // JSON quotes strings and shows structure; it returns undefined only for functions and symbols.
  const text = JSON.stringify(value) ?? `a ${typeof value}`;
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
}

/** What describing an issue needs to know about the raw input. */
export interface RawInput {
  sourceOf(path: readonly PropertyKey[]): Source;
  valueAt(path: readonly PropertyKey[]): unknown;
  /** True when the value at `path` is, or may hold, a credential. */
  isSecret(path: readonly PropertyKey[]): boolean;
}

/** The value at `path` in parsed YAML or flags: string keys into mappings, numbers into lists. */
export function valueIn(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (Array.isArray(current) && typeof key === 'number') current = current[key];
    else if (
      typeof current === 'object' &&
      current !== null &&
      !Array.isArray(current) &&
      typeof key === 'string'
    )
      current = (current as Record<string, unknown>)[key];
    else return undefined;
  }
  return current;
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** One sentence per bad setting, at most one per key path, in issue order. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], raw: RawInput): string[] {
  const problems = new Map<string, string>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const where = describeSource(raw.sourceOf(path));
        problems.set(joinPath(path), `${joinPath(path)} (${where}) is not a known setting`);
      }
      continue;
    }
    const key = joinPath(issue.path);
    if (problems.has(key)) continue;
    const where = describeSource(raw.sourceOf(issue.path));
    if (issue.code === 'invalid_key') {
      // The key itself is bad (a tunnel id), so show the key rather than its value.
      const requirement = issue.issues[0]?.message ?? issue.message;
      const parent = joinPath(issue.path.slice(0, -1));
      problems.set(
        key,
        `${parent} key ${formatValue(issue.path.at(-1), false)} (${where}) must be ${requirement}`,
      );
      continue;
    }
    const got = formatValue(raw.valueAt(issue.path), raw.isSecret(issue.path));
    problems.set(key, `${key} (${where}) must be ${issue.message}, got ${got}`);
  }
  return [...problems.values()];
}

export function configInvalid(problems: readonly string[]): TunnelError {
  return new TunnelError('TUN_ERR_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
}
