/** Reads the edge config file: `.json` as JSON, anything else as YAML. The top level must be a mapping. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { TunnelError } from '@burrow/protocol';
import { parse as parseYaml } from 'yaml';

export interface ConfigFile {
  /** Absolute path, as shown in error messages. */
  readonly path: string;
  readonly doc: Readonly<Record<string, unknown>>;
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** Throws TUN_ERR_CONFIG_INVALID when the file cannot be read or parsed; the cause keeps the original error. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TunnelError('TUN_ERR_CONFIG_INVALID', `cannot read config file ${path}: ${reason}`, {
      cause: err,
    });
  }
  let doc: unknown;
  try {
    doc = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TunnelError('TUN_ERR_CONFIG_INVALID', `cannot parse config file ${path}: ${reason}`, {
      cause: err,
    });
  }
  // An empty YAML file parses to null: treat it as "no settings", the same as `{}`.
  if (doc === null || doc === undefined) return { path, doc: {} };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new TunnelError(
      'TUN_ERR_CONFIG_INVALID',
      `config file ${path} must hold a mapping of settings, got ${describeKind(doc)}`,
    );
  }
  return { path, doc: Object.fromEntries(Object.entries(doc)) };
}
