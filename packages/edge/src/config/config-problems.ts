/**
 * Turns validation issues into one TUN_ERR_CONFIG_INVALID error whose message names every
 * bad setting with where its value came from:
 *   invalid configuration: limits.streamWindow (from env BURROW_LIMITS_STREAM_WINDOW) must be
 *   an integer from 1024 to 2147483647, got "abc"
 */
import { TunnelError } from '@burrow/protocol';
import type * as z from 'zod';
import { describeSource, type Layered } from './layers.js';
import type { SettingInfo } from './setting-list.js';

const MAX_SHOWN_CHARS = 80;

/** How a raw value is quoted in a problem; secrets are never shown. */
export function formatValue(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing';
  if (secret) return 'a value that is not shown (it may hold a password)';
  // JSON quotes strings and shows structure; it returns undefined only for functions and symbols.
  const text = JSON.stringify(value) ?? `a ${typeof value}`;
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
}

/** Keys a group accepts, for "not a known setting" hints. */
function knownKeys(settings: readonly SettingInfo[], groupPath: readonly string[]): string[] {
  const depth = groupPath.length;
  const keys = settings
    .filter(
      (setting) => groupPath.every((part, i) => setting.path[i] === part) && setting.path.length > depth,
    )
    .map((setting) => setting.path[depth] ?? '');
  return [...new Set(keys)];
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** One sentence per bad setting, at most one per key path, in issue order. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  layered: Layered,
  settings: readonly SettingInfo[],
): string[] {
  const secrets = new Set(settings.filter((setting) => setting.secret).map((setting) => setting.key));
  const problems = new Map<string, string>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const groupPath = issue.path.map(String);
      const known = knownKeys(settings, groupPath).join(', ');
      for (const key of issue.keys) {
        const path = [...groupPath, key];
        const where = describeSource(layered.sourceOf(path));
        problems.set(joinPath(path), `${joinPath(path)} (${where}) is not a known setting (known: ${known})`);
      }
      continue;
    }
    const key = joinPath(issue.path);
    if (problems.has(key)) continue;
    const where = describeSource(layered.sourceOf(issue.path));
    const got = formatValue(layered.valueAt(issue.path), secrets.has(key));
    problems.set(key, `${key} (${where}) must be ${issue.message}, got ${got}`);
  }
  return [...problems.values()];
}

export function configInvalid(problems: readonly string[]): TunnelError {
  return new TunnelError('TUN_ERR_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
}
