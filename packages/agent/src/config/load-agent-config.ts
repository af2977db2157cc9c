/**
 * Builds the agent's one config object, later wins: defaults < burrow.yml < env
 * (BURROW_SERVER, BURROW_TOKEN) < CLI flags. An ad-hoc tunnel from `burrow http <target>`
 * (its name and access settings given as flags) replaces the file's tunnels. Reads no
 * globals: the CLI passes env and flags in.
 */
import { isAbsolute, resolve } from 'node:path';
import { adHocTunnel } from './ad-hoc-tunnel.js';
import type { AgentConfig, AgentFlags, Env, LoadAgentConfigOptions, TunnelSpec } from './agent-config.js';
import { readConfigFile, type ConfigFile } from './config-file.js';
import { agentConfigSchema } from './agent-schema.js';
import { CA_FILE_REQUIREMENT, caPath, readCaFile } from './ca-file.js';
import { configInvalid, describeIssues, describeSource, valueIn, type Source } from './config-problems.js';
import { resolveOriginTls } from './origin-tls.js';
import {
  SECRET_ACCESS_KEYS,
  TUNNEL_ACCESS_FLAGS,
  TUNNEL_ACCESS_KEYS,
  toTunnelAccess,
} from './tunnel-access.js';

interface Override {
  /** A top-level setting, or `group.key` for one inside a group. */
  readonly key: 'server' | 'token' | 'ca' | 'log' | 'otlp.endpoint' | 'metricsListen';
  readonly env: string | null;
  readonly flag: keyof AgentFlags;
  readonly secret: boolean;
}

/** The top-level settings env and flags can set; every other setting lives in the file only. */
export const AGENT_OVERRIDES: readonly Override[] = [
  { key: 'server', env: 'BURROW_SERVER', flag: 'server', secret: false },
  { key: 'token', env: 'BURROW_TOKEN', flag: 'token', secret: true },
  { key: 'ca', env: 'BURROW_CA', flag: 'ca', secret: false },
  { key: 'log', env: null, flag: 'log', secret: false },
  { key: 'otlp.endpoint', env: 'BURROW_OTLP_ENDPOINT', flag: 'otlpEndpoint', secret: false },
  { key: 'metricsListen', env: 'BURROW_METRICS_LISTEN', flag: 'metricsListen', secret: false },
];

/** The flag as typed, without dashes: otlpEndpoint -> otlp-endpoint. */
export function flagText(flag: string): string {
  return flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Sets `key` (`top` or `group.key`) in the layered input; a group keeps the file's other keys. */
function setOverride(input: Record<string, unknown>, key: string, value: unknown): void {
  const [top, inner] = key.split('.') as [string, string | undefined];
  if (inner === undefined) {
    input[top] = value;
    return;
  }
  const group = input[top];
  input[top] = { ...(isRecord(group) ? group : {}), [inner]: value };
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The file overlaid with env and flag values, plus where each value came from. */
function layer(file: ConfigFile | null, env: Env, flags: AgentFlags) {
  const input: Record<string, unknown> = { ...file?.doc };
  const sources = new Map<string, Source>();
  for (const override of AGENT_OVERRIDES) {
    const envValue = override.env === null ? undefined : env[override.env];
    // Shells and compose files often export empty variables to mean "not set".
    if (override.env !== null && envValue !== undefined && envValue.trim() !== '') {
      setOverride(input, override.key, envValue);
      sources.set(override.key, { kind: 'env', name: override.env });
    }
    const flagValue = flags[override.flag];
    if (flagValue !== undefined) {
      setOverride(input, override.key, flagValue);
      sources.set(override.key, { kind: 'flag', name: flagText(override.flag) });
    }
  }
  const sourceOf = (path: readonly PropertyKey[]): Source => {
    const top = path[0];
    const override =
      (path.length > 1 ? sources.get(`${String(top)}.${String(path[1])}`) : undefined) ??
      (typeof top === 'string' ? sources.get(top) : undefined);
    if (override !== undefined) return override;
    // A required key missing from an entry the file does have (a tunnel without addr) is the file's problem.
    const inFile =
      valueIn(file?.doc, path) !== undefined ||
      (path.length > 1 && isRecord(valueIn(file?.doc, path.slice(0, -1))));
    if (file !== null && inFile) return { kind: 'file', path: file.path };
    return { kind: 'default' };
  };
  const secrets = new Set<string>(AGENT_OVERRIDES.filter((o) => o.secret).map((o) => o.key));
  // `token`, or a tunnel's credential: tunnels.<id>.basicAuth.0 and the like.
  const isSecret = (path: readonly PropertyKey[]): boolean =>
    secrets.has(String(path[0])) || (path[0] === 'tunnels' && SECRET_ACCESS_KEYS.has(String(path[2])));
  return {
    input,
    sourceOf,
    valueAt: (path: readonly PropertyKey[]) => valueIn(input, path),
    isSecret,
  };
}

/** Stands in for a tunnel whose origin TLS had problems; the load throws before it is used. */
const PLAIN_TLS = Object.freeze({ verify: true, ca: null, serverName: null });

/** The edge's extra CAs (`ca`), read now so a bad path is a config error naming the setting. */
function edgeCa(
  path: string | null,
  source: Source,
  cwd: string,
): { ok: true; pem: string | null } | { ok: false; problem: string } {
  if (path === null) return { ok: true, pem: null };
  const file = readCaFile(caPath(path, source, cwd));
  if (file.ok) return { ok: true, pem: file.pem };
  return {
    ok: false,
    problem: `ca (${describeSource(source)}) must be ${CA_FILE_REQUIREMENT}: ${file.reason}`,
  };
}

function duplicateNames(tunnels: readonly TunnelSpec[], where: string): string[] {
  const owner = new Map<string, string>();
  const problems: string[] = [];
  for (const tunnel of tunnels) {
    if (tunnel.name === null) continue;
    const first = owner.get(tunnel.name);
    if (first === undefined) owner.set(tunnel.name, tunnel.id);
    else
      problems.push(`tunnels.${tunnel.id}.name (${where}) repeats "${tunnel.name}" of tunnels.${first}.name`);
  }
  return problems;
}

/**
 * Throws TunnelError TUN_ERR_CONFIG_INVALID naming every bad setting and its source, when
 * the file cannot be read or parsed, or when no tunnel is left to start. --config must
 * exist; `options.file` may be missing. The result is frozen (URLs excepted: treat them as read-only).
 */
export function loadAgentConfig(options: LoadAgentConfigOptions): AgentConfig {
  const { env, cwd } = options;
  const flags = options.flags ?? {};
  const explicit = flags.config !== undefined && flags.config.trim() !== '';
  const chosen = explicit ? flags.config : options.file;
  const path = chosen === undefined ? null : absolute(chosen, cwd);
  const file = path === null ? null : readConfigFile(path, !explicit);
  const raw = layer(file, env, flags);

  const result = agentConfigSchema.safeParse(raw.input);
  const problems = result.success ? [] : describeIssues(result.error.issues, raw);
  const adHoc = options.tunnel === undefined ? null : adHocTunnel(options, flags);
  if (adHoc !== null && !adHoc.ok) problems.push(...adHoc.problems);
  if (options.tunnel === undefined) problems.push(...adHocOnly(flags));
  // The adHoc test adds nothing at run time (its problems are already listed); it narrows the type.
  if (!result.success || problems.length > 0 || (adHoc !== null && !adHoc.ok)) throw configInvalid(problems);
  const data = result.data;

  const fileWhere = describeSource(file === null ? { kind: 'default' } : { kind: 'file', path: file.path });
  const tlsProblems: string[] = [];
  const fromFile: TunnelSpec[] = Object.entries(data.tunnels).map(([id, spec]) => {
    const { proto, addr, name, ...access } = spec;
    const originTls = resolveOriginTls(access, addr, {
      path: (key) => `tunnels.${id}.${key}`,
      sourceOf: (key) => raw.sourceOf(['tunnels', id, key]),
      cwd,
    });
    if (!originTls.ok) tlsProblems.push(...originTls.problems);
    return {
      id,
      proto,
      origin: addr,
      name,
      ...toTunnelAccess(access),
      originTls: originTls.ok ? originTls.tls : PLAIN_TLS,
    };
  });
  const ca = edgeCa(data.ca, raw.sourceOf(['ca']), cwd);
  if (!ca.ok) tlsProblems.push(ca.problem);
  if (!ca.ok || tlsProblems.length > 0) throw configInvalid(tlsProblems);
  const contradictions = duplicateNames(fromFile, fileWhere);
  if (data.reconnect.maxDelayMs < data.reconnect.initialDelayMs) {
    contradictions.push(
      `reconnect.maxDelayMs (${data.reconnect.maxDelayMs}, ${describeSource(raw.sourceOf(['reconnect', 'maxDelayMs']))}) ` +
        `must not be below reconnect.initialDelayMs (${data.reconnect.initialDelayMs}, ` +
        `${describeSource(raw.sourceOf(['reconnect', 'initialDelayMs']))})`,
    );
  }
  if (contradictions.length > 0) throw configInvalid(contradictions);

  const tunnels = adHoc === null ? fromFile : [adHoc.tunnel];
  if (tunnels.length === 0) throw configInvalid([noTunnelsProblem(path, file)]);

  return Object.freeze({
    server: data.server,
    token: data.token,
    ca: ca.pem,
    log: data.log,
    tunnels: Object.freeze(tunnels.map((tunnel) => Object.freeze(tunnel))),
    reconnect: Object.freeze(data.reconnect),
    shutdownMs: data.shutdownMs,
    originTimeoutMs: data.originTimeoutMs,
    maxOriginConnections: data.maxOriginConnections,
    otlp: Object.freeze(data.otlp),
    metricsListen: data.metricsListen === null ? null : Object.freeze(data.metricsListen),
    force: options.flags?.force === true,
  });
}

/** Flags that describe the tunnel of `burrow http <target>` mean nothing without one. */
function adHocOnly(flags: AgentFlags): string[] {
  const given = TUNNEL_ACCESS_KEYS.filter((key) => flags[key] !== undefined).map(
    (key) => [key, TUNNEL_ACCESS_FLAGS[key]] as const,
  );
  const settings = flags.name === undefined ? given : [['name', 'name'] as const, ...given];
  return settings.map(
    ([key, flag]) =>
      `${key} (from flag --${flag}) applies only to \`burrow http <target>\`; give file tunnels their ${key} in the file`,
  );
}

function noTunnelsProblem(path: string | null, file: ConfigFile | null): string {
  const hint = 'add a tunnels: section or run `burrow http <port>`';
  if (path === null) return `no tunnels to start: no config file was given; ${hint}`;
  if (file === null) return `no tunnels to start: ${path} does not exist; create it and ${hint}`;
  return `no tunnels to start: ${path} defines none; ${hint}`;
}
