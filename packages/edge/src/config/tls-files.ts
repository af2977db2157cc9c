/**
 * Checks the certificate file pair at load time, so a typo or a permission problem stops
 * the edge with a sentence naming the setting and the file, instead of surfacing at the
 * first handshake. Whether the files hold a usable pair is the certificate book's check.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EdgeConfig } from './edge-config.js';
import { describeSource, type Layered } from './layers.js';

type Tls = EdgeConfig['tls'];

const SIDES = [
  { key: 'certFile', flag: '--tls-cert' },
  { key: 'keyFile', flag: '--tls-key' },
] as const;

/** Relative paths are relative to the working directory, like dataDir. */
export function resolveTlsFiles(tls: Tls, cwd: string): Tls {
  return {
    ...tls,
    certFile: tls.certFile === null ? null : resolve(cwd, tls.certFile),
    keyFile: tls.keyFile === null ? null : resolve(cwd, tls.keyFile),
  };
}

function unreadable(file: string): string | null {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    return fstatSync(fd).isFile() ? null : 'is not a file';
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** One sentence per problem with tls.certFile / tls.keyFile; empty when they are fine. */
export function tlsFileProblems(config: EdgeConfig, layered: Layered): string[] {
  const problems: string[] = [];
  const source = (key: string) => describeSource(layered.sourceOf(['tls', key]));
  for (const [given, missing] of [SIDES, [SIDES[1], SIDES[0]]] as const) {
    if (config.tls[given.key] !== null && config.tls[missing.key] === null) {
      problems.push(
        `tls.${given.key} (${source(given.key)}) needs tls.${missing.key} (${missing.flag}) too: give the certificate and its key as a pair`,
      );
    }
  }
  for (const side of SIDES) {
    const file = config.tls[side.key];
    const problem = file === null ? null : unreadable(file);
    if (problem !== null) problems.push(`tls.${side.key} ${file} (${source(side.key)}) ${problem}`);
  }
  return problems;
}
