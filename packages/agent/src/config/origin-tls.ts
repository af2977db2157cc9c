/**
 * How the agent checks an `https://` origin's certificate, per tunnel: `originCa`,
 * `originServerName`, `originTlsVerify` (flags `--origin-ca`, `--origin-server-name`,
 * `--origin-tls-verify` / `--no-origin-tls-verify`).
 *
 * Verification is on by default, except for a loopback origin (127.0.0.0/8, ::1, localhost)
 * given neither a CA nor a server name: dev servers there serve self-signed certificates and
 * the hop never leaves the machine. Naming a CA or a server name asks for verification.
 */
import { isIP } from 'node:net';
import * as z from 'zod';
import type { OriginTls } from './agent-config.js';
import { CA_FILE_REQUIREMENT, caPath, readCaFile } from './ca-file.js';
import { describeSource, type Source } from './config-problems.js';

const SERVER_NAME_REQUIREMENT = 'a DNS name such as app.test (letters, digits, hyphens and dots)';
const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Spread into a tunnel's schema (and the flags of `burrow http`); every field is optional. */
export const originTlsFields = {
  originCa: z
    .string({ error: 'a path to a PEM file' })
    .trim()
    .min(1, { error: 'a path to a PEM file' })
    .optional(),
  originServerName: z
    .string({ error: SERVER_NAME_REQUIREMENT })
    .trim()
    .toLowerCase()
    .regex(DNS_NAME, { error: SERVER_NAME_REQUIREMENT })
    .optional(),
  originTlsVerify: z.boolean({ error: 'true or false' }).optional(),
};

export interface OriginTlsSettings {
  readonly originCa?: string | undefined;
  readonly originServerName?: string | undefined;
  readonly originTlsVerify?: boolean | undefined;
}

/** 127.0.0.0/8, ::1 and `localhost`: where an unverified TLS hop never leaves the machine. */
export function isLoopbackOrigin(origin: URL): boolean {
  const host = origin.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** What an http:// origin carries: nothing to verify, so nothing set. */
const PLAIN: OriginTls = Object.freeze({ verify: true, ca: null, serverName: null });

export type OriginTlsResult = { ok: true; tls: OriginTls } | { ok: false; problems: string[] };

/**
 * The tunnel's resolved origin TLS, or its problems. `sourceOf` names where each key came
 * from (`path` is the key's name in problems, e.g. `tunnels.api.originCa` or `originCa`).
 */
export function resolveOriginTls(
  settings: OriginTlsSettings,
  origin: URL,
  where: {
    readonly path: (key: keyof OriginTlsSettings) => string;
    readonly sourceOf: (key: keyof OriginTlsSettings) => Source;
    readonly cwd: string;
  },
): OriginTlsResult {
  const problems: string[] = [];
  const name = (key: keyof OriginTlsSettings): string =>
    `${where.path(key)} (${describeSource(where.sourceOf(key))})`;
  const given = (Object.keys(originTlsFields) as (keyof OriginTlsSettings)[]).filter(
    (k) => settings[k] !== undefined,
  );
  if (origin.protocol !== 'https:') {
    if (given.length === 0) return { ok: true, tls: PLAIN };
    return {
      ok: false,
      problems: given.map(
        (key) => `${name(key)} applies only to https:// origins; this one is ${origin.origin}`,
      ),
    };
  }
  let ca: string | null = null;
  if (settings.originCa !== undefined) {
    const file = readCaFile(caPath(settings.originCa, where.sourceOf('originCa'), where.cwd));
    if (file.ok) ca = file.pem;
    else problems.push(`${name('originCa')} must be ${CA_FILE_REQUIREMENT}: ${file.reason}`);
    if (settings.originTlsVerify === false) {
      problems.push(`${name('originCa')} has no effect with originTlsVerify false; leave one of them out`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const serverName = settings.originServerName ?? null;
  const asked = ca !== null || serverName !== null;
  const verify = settings.originTlsVerify ?? (asked || !isLoopbackOrigin(origin));
  return { ok: true, tls: Object.freeze({ verify, ca, serverName }) };
}
