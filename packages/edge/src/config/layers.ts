/**
 * Merges the raw layers (config file < env < CLI flags; defaults come later from the
 * schema) into one input object, remembering where every value came from so a problem
 * can name its source. Env and flag strings are decoded by the setting's kind here; a
 * string that does not decode is passed through unchanged so validation reports it as given.
 */
import type { Env } from './edge-config.js';
import type { ConfigFile } from './config-file.js';
import { flagName, type SettingInfo, type SettingKind } from './setting-list.js';

export type Source =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'flag'; readonly name: string };

/** The words inside the parentheses of a problem: "from env BURROW_DOMAIN", "default". */
export function describeSource(source: Source): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `from file ${source.path}`;
    case 'env':
      return `from env ${source.name}`;
    case 'flag':
      return `from flag ${flagName(source.name)}`;
  }
}

export interface Layered {
  /** File values overlaid with env and flag values; what the schema parses. */
  readonly input: Record<string, unknown>;
  /** Where the value at a key path came from (defaults when no layer set it). */
  sourceOf(path: readonly PropertyKey[]): Source;
  /** The raw value at a key path, before validation. */
  valueAt(path: readonly PropertyKey[]): unknown;
}

export interface LayerOptions {
  readonly settings: readonly SettingInfo[];
  readonly file: ConfigFile | null;
  readonly env: Env;
  readonly flags: object;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Decodes an env or flag string; anything undecodable is returned as-is for validation to reject. */
export function decodeRaw(raw: unknown, kind: SettingKind): unknown {
  if (typeof raw !== 'string') return raw;
  const text = raw.trim();
  if (kind === 'number' && /^[+-]?\d+(?:\.\d+)?$/.test(text)) return Number(text);
  if (kind === 'boolean') {
    const word = text.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  return kind === 'string' ? text : raw;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function getIn(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (!isRecord(current) || typeof key !== 'string') return undefined;
    current = current[key];
  }
  return current;
}

/**
 * Sets a value, creating missing groups. When the file put a non-mapping where a group
 * belongs, the value is dropped: validation reports that group against the file anyway.
 */
function setIn(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = root;
  for (const key of path.slice(0, -1)) {
    const next = current[key] ?? {};
    if (!isRecord(next)) return;
    current[key] = next;
    current = next;
  }
  const last = path.at(-1);
  if (last !== undefined) current[last] = value;
}

/** A deep copy of the file's mappings, so overlaying never mutates the parsed document. */
function copyRecord(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key, isRecord(value) ? copyRecord(value) : value]),
  );
}

/** The value a setting takes from env, first set name wins; empty counts as unset. */
function fromEnv(setting: SettingInfo, env: Env): { value: string; source: Source } | null {
  for (const name of setting.env) {
    const value = env[name];
    // Shells and compose files often export empty variables to mean "not set".
    if (value !== undefined && value.trim() !== '') return { value, source: { kind: 'env', name } };
  }
  return null;
}

export function layerInputs(options: LayerOptions): Layered {
  const { settings, file, env } = options;
  const flags = new Map<string, unknown>(Object.entries(options.flags));
  const input = file === null ? {} : copyRecord(file.doc);
  const overrides = new Map<string, Source>();

  for (const setting of settings) {
    const envValue = fromEnv(setting, env);
    if (envValue !== null) {
      setIn(input, setting.path, decodeRaw(envValue.value, setting.kind));
      overrides.set(setting.key, envValue.source);
    }
    const flagValue = setting.flag === null ? undefined : flags.get(setting.flag);
    if (setting.flag !== null && flagValue !== undefined) {
      setIn(input, setting.path, decodeRaw(flagValue, setting.kind));
      overrides.set(setting.key, { kind: 'flag', name: setting.flag });
    }
  }

  return {
    input,
    valueAt: (path) => getIn(input, path),
    sourceOf: (path) => {
      const override = overrides.get(path.map(String).join('.'));
      if (override !== undefined) return override;
      if (file !== null && getIn(file.doc, path) !== undefined) return { kind: 'file', path: file.path };
      return { kind: 'default' };
    },
  };
}
