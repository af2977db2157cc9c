/**
 * Builds the agent's one config object, later wins: defaults < burrow.yml < env
 * (BURROW_SERVER, BURROW_TOKEN) < CLI flags. An ad-hoc tunnel from `burrow http <target>`
 * replaces the file's tunnels. Reads no globals: the CLI passes env and flags in.
 */
import { isAbsolute, resolve } from 'node:path';
import type { AgentConfig, AgentFlags, Env, LoadAgentConfigOptions, TunnelSpec } from './agent-config.js';
import { readConfigFile, type ConfigFile } from './config-file.js';
import { agentConfigSchema, tunnelName } from './agent-schema.js';
import {
  configInvalid,
  describeIssues,
  describeSource,
  formatValue,
  type Source,
} from './config-problems.js';
import { tryParseTarget } from './target.js';

interface Override {
  readonly key: 'server' | 'token' | 'log';
  readonly env: string | null;
  readonly flag: keyof AgentFlags;
  readonly secret: boolean;
}

/** The top-level settings env and flags can set; every other setting lives in the file only. */
export const AGENT_OVERRIDES: readonly Override[] = [
  { key: 'server', env: 'BURROW_SERVER', flag: 'server', secret: false },
  { key: 'token', env: 'BURROW_TOKEN', flag: 'token', secret: true },
  { key: 'log', env: null, flag: 'log', secret: false },
];

/** Id of the tunnel given as `burrow http <target>`. */
export const AD_HOC_TUNNEL_ID = 'default';

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function getIn(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (!isRecord(current) || typeof key !== 'string') return undefined;
    current = current[key];
  }
  return current;
}

/** The file overlaid with env and flag values, plus where each value came from. */
function layer(file: ConfigFile | null, env: Env, flags: AgentFlags) {
  const input: Record<string, unknown> = { ...file?.doc };
  const sources = new Map<string, Source>();
  for (const override of AGENT_OVERRIDES) {
    const envValue = override.env === null ? undefined : env[override.env];
    // Shells and compose files often export empty variables to mean "not set".
    if (override.env !== null && envValue !== undefined && envValue.trim() !== '') {
      input[override.key] = envValue;
      sources.set(override.key, { kind: 'env', name: override.env });
    }
    const flagValue = flags[override.flag];
    if (flagValue !== undefined) {
      input[override.key] = flagValue;
      sources.set(override.key, { kind: 'flag', name: override.flag });
    }
  }
  const sourceOf = (path: readonly PropertyKey[]): Source => {
    const top = path[0];
    const override = typeof top === 'string' ? sources.get(top) : undefined;
    if (override !== undefined) return override;
    // A required key missing from an entry the file does have (a tunnel without addr) is the file's problem.
    const inFile =
      getIn(file?.doc, path) !== undefined ||
      (path.length > 1 && isRecord(getIn(file?.doc, path.slice(0, -1))));
    if (file !== null && inFile) return { kind: 'file', path: file.path };
    return { kind: 'default' };
  };
  const secrets = new Set<string>(AGENT_OVERRIDES.filter((o) => o.secret).map((o) => o.key));
  return {
    input,
    sourceOf,
    valueAt: (path: readonly PropertyKey[]) => getIn(input, path),
    isSecret: (key: string) => secrets.has(key),
  };
}

/** The tunnel of `burrow http <target> [--name x]`, or the problems with it. */
function adHocTunnel(
  options: LoadAgentConfigOptions,
  flags: AgentFlags,
): { ok: true; tunnel: TunnelSpec } | { ok: false; problems: string[] } {
  const target = options.tunnel?.target ?? '';
  const wanted = options.tunnel?.name ?? flags.name ?? null;
  const nameSource = describeSource(
    options.tunnel?.name != null ? { kind: 'argument' } : { kind: 'flag', name: 'name' },
  );
  const problems: string[] = [];
  const origin = tryParseTarget(target);
  if (!origin.ok) {
    problems.push(
      `target (from the command line) must be ${origin.requirement}, got ${formatValue(target, false)}`,
    );
  }
  const name = wanted === null ? null : tunnelName.safeParse(wanted);
  if (name !== null && !name.success) {
    const requirement = name.error.issues[0]?.message ?? 'a DNS label';
    problems.push(`name (${nameSource}) must be ${requirement}, got ${formatValue(wanted, false)}`);
  }
  if (problems.length > 0 || !origin.ok) return { ok: false, problems };
  return {
    ok: true,
    tunnel: { id: AD_HOC_TUNNEL_ID, proto: 'http', origin: origin.origin, name: name?.data ?? null },
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
  if (options.tunnel === undefined && flags.name !== undefined) {
    problems.push(
      'name (from flag --name) applies only to `burrow http <target>`; give file tunnels a name in the file',
    );
  }
  // The adHoc test adds nothing at run time (its problems are already listed); it narrows the type.
  if (!result.success || problems.length > 0 || (adHoc !== null && !adHoc.ok)) throw configInvalid(problems);
  const data = result.data;

  const fileWhere = describeSource(file === null ? { kind: 'default' } : { kind: 'file', path: file.path });
  const fromFile: TunnelSpec[] = Object.entries(data.tunnels).map(([id, spec]) => ({
    id,
    proto: spec.proto,
    origin: spec.addr,
    name: spec.name,
  }));
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
    log: data.log,
    tunnels: Object.freeze(tunnels.map((tunnel) => Object.freeze(tunnel))),
    reconnect: Object.freeze(data.reconnect),
    shutdownMs: data.shutdownMs,
    originTimeoutMs: data.originTimeoutMs,
    maxOriginConnections: data.maxOriginConnections,
  });
}

function noTunnelsProblem(path: string | null, file: ConfigFile | null): string {
  const hint = 'add a tunnels: section or run `burrow http <port>`';
  if (path === null) return `no tunnels to start: no config file was given; ${hint}`;
  if (file === null) return `no tunnels to start: ${path} does not exist; create it and ${hint}`;
  return `no tunnels to start: ${path} defines none; ${hint}`;
}
