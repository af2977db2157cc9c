/** Reads burrow.yml. The top level must be a mapping; a missing file is reported as such. */
import { readFileSync } from 'node:fs';
import { TunnelError } from '@burrow/protocol';
import { parse as parseYaml } from 'yaml';

export interface ConfigFile {
  /** Absolute path, as shown in error messages. */
  readonly path: string;
  readonly doc: Readonly<Record<string, unknown>>;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isMissing(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'ENOENT';
}

/**
 * Returns null when the file does not exist and `optional` is set; otherwise a missing,
 * unreadable or unparseable file throws TUN_ERR_CONFIG_INVALID with the original as cause.
 */
export function readConfigFile(path: string, optional: boolean): ConfigFile | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (optional && isMissing(err)) return null;
    throw new TunnelError('TUN_ERR_CONFIG_INVALID', `cannot read config file ${path}: ${reasonOf(err)}`, {
      cause: err,
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new TunnelError('TUN_ERR_CONFIG_INVALID', `cannot parse config file ${path}: ${reasonOf(err)}`, {
      cause: err,
    });
  }
  // An empty file parses to null: treat it as "no settings".
  if (doc === null || doc === undefined) return { path, doc: {} };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    const kind = Array.isArray(doc) ? 'a list' : `a ${typeof doc}`;
    throw new TunnelError(
      'TUN_ERR_CONFIG_INVALID',
      `config file ${path} must hold a mapping of settings, got ${kind}`,
    );
  }
  return { path, doc: Object.fromEntries(Object.entries(doc)) };
}
