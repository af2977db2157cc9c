/**
 * Walks a settings schema into a flat list of leaf settings with the names each layer uses
 * for them. Env names are derived, not hand-listed: `BURROW_` + the key path in
 * SCREAMING_SNAKE (timeouts.reconnectGraceMs -> BURROW_TIMEOUTS_RECONNECT_GRACE_MS), with
 * `envSegment` and `envAliases` from `settingMeta` for the few exceptions.
 */
import * as z from 'zod';
import { edgeConfigSchema } from './edge-schema.js';
import { settingMeta } from './setting-schema.js';

/** How a raw env or flag string is decoded before validation. */
export type SettingKind = 'number' | 'boolean' | 'string';

export interface SettingInfo {
  /** Key path in the config object and file, e.g. ['timeouts', 'heartbeatMs']. */
  readonly path: readonly string[];
  /** Dotted path, the name used in error messages: 'timeouts.heartbeatMs'. */
  readonly key: string;
  /** Env names in priority order: when several are set, the first wins. */
  readonly env: readonly string[];
  /** Key in the CLI flags object, or null when the setting has no flag. */
  readonly flag: string | null;
  readonly kind: SettingKind;
  readonly secret: boolean;
}

export const ENV_PREFIX = 'BURROW';

/** camelCase -> SCREAMING_SNAKE: reconnectGraceMs -> RECONNECT_GRACE_MS. */
export function screamingSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** camelCase flag key -> the flag people type: publicPort -> --public-port. */
export function flagName(flag: string): string {
  return `--${flag.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

/** Peels defaults, nullability and transforms off a schema to reach the type it validates. */
function innermost(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodOptional
    ) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in;
    } else {
      return current;
    }
  }
}

function kindOf(schema: z.core.$ZodType): SettingKind {
  if (schema instanceof z.ZodNumber) return 'number';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  return 'string';
}

function walk(
  shape: z.core.$ZodShape,
  path: readonly string[],
  envParts: readonly string[],
  out: SettingInfo[],
) {
  for (const [key, schema] of Object.entries(shape)) {
    const meta = settingMeta.get(schema) ?? {};
    const childPath = [...path, key];
    const childEnv = [...envParts, meta.envSegment ?? screamingSnake(key)];
    const inner = innermost(schema);
    if (inner instanceof z.ZodObject) {
      walk(inner.shape, childPath, childEnv, out);
      continue;
    }
    out.push({
      path: childPath,
      key: childPath.join('.'),
      env: [childEnv.join('_'), ...(meta.envAliases ?? [])],
      flag: meta.flag ?? null,
      kind: kindOf(inner),
      secret: meta.secret ?? false,
    });
  }
}

/** Every leaf setting of a schema, in declaration order. */
export function listSettings(schema: z.ZodObject): SettingInfo[] {
  const out: SettingInfo[] = [];
  walk(schema.shape, [], [ENV_PREFIX], out);
  return out;
}

/** The edge's settings, computed once. */
export const EDGE_SETTINGS: readonly SettingInfo[] = listSettings(edgeConfigSchema);
