/**
 * Reads a CA bundle named by a setting (`ca`, a tunnel's `originCa`): a PEM file of one or
 * more certificates. Checked when the config loads, so a wrong path or a key file given by
 * mistake is a config error naming the setting, not a TLS failure much later.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Source } from './config-problems.js';

export const CA_FILE_REQUIREMENT = 'a PEM file of CA certificates';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export type CaFile = { ok: true; pem: string } | { ok: false; reason: string };

/**
 * A relative path in burrow.yml is relative to that file, as in other YAML configs; from a
 * flag or env variable, to the working directory.
 */
export function caPath(path: string, source: Source, cwd: string): string {
  if (isAbsolute(path)) return path;
  return resolve(source.kind === 'file' ? dirname(source.path) : cwd, path);
}

/** The file's certificates as PEM text, or why it is not a CA bundle. Never throws. */
export function readCaFile(path: string): CaFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ok: false, reason: `${path} cannot be read (${typeof code === 'string' ? code : String(err)})` };
  }
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) return { ok: false, reason: `${path} holds no certificate` };
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return { ok: false, reason: `certificate ${index + 1} in ${path} does not parse` };
    }
  }
  return { ok: true, pem: `${blocks.join('\n')}\n` };
}
