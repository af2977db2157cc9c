/**
 * The tunnel of `burrow http <target> [--name x] [access flags]`: target, name and access
 * settings checked together, every problem naming the flag or argument it came from.
 */
import type { AgentFlags, LoadAgentConfigOptions, TunnelSpec } from './agent-config.js';
import { tunnelName } from './agent-schema.js';
import { describeIssues, describeSource, formatValue, valueIn, type RawInput } from './config-problems.js';
import { resolveOriginTls } from './origin-tls.js';
import { tryParseTarget } from './target.js';
import {
  SECRET_ACCESS_KEYS,
  TUNNEL_ACCESS_FLAGS,
  TUNNEL_ACCESS_KEYS,
  isTunnelAccessKey,
  toTunnelAccess,
  tunnelAccessSchema,
  type TunnelAccessKey,
} from './tunnel-access.js';

/** Id of the tunnel given as `burrow http <target>`. */
export const AD_HOC_TUNNEL_ID = 'default';

/** The access settings given as flags, by setting key; empty when none was. */
export function accessFlagsGiven(flags: AgentFlags): Partial<Record<TunnelAccessKey, unknown>> {
  const given: Partial<Record<TunnelAccessKey, unknown>> = {};
  for (const key of TUNNEL_ACCESS_KEYS) if (flags[key] !== undefined) given[key] = flags[key];
  return given;
}

function flagOf(path: readonly PropertyKey[]): string {
  const key = path[0];
  return isTunnelAccessKey(key) ? TUNNEL_ACCESS_FLAGS[key] : String(key);
}

/** The tunnel of `burrow http <target>`, or the problems with it. */
export function adHocTunnel(
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
  const given = accessFlagsGiven(flags);
  const access = tunnelAccessSchema.safeParse(given);
  if (!access.success) {
    const raw: RawInput = {
      sourceOf: (path) => ({ kind: 'flag', name: flagOf(path) }),
      valueAt: (path) => valueIn(given, path),
      isSecret: (path) => SECRET_ACCESS_KEYS.has(String(path[0])),
    };
    problems.push(...describeIssues(access.error.issues, raw));
  }
  if (problems.length > 0 || !origin.ok || !access.success) return { ok: false, problems };
  const originTls = resolveOriginTls(access.data, origin.origin, {
    path: (key) => key,
    sourceOf: (key) => ({ kind: 'flag', name: TUNNEL_ACCESS_FLAGS[key] }),
    cwd: options.cwd,
  });
  if (!originTls.ok) return { ok: false, problems: originTls.problems };
  return {
    ok: true,
    tunnel: {
      id: AD_HOC_TUNNEL_ID,
      proto: 'http',
      origin: origin.origin,
      name: name?.data ?? null,
      ...toTunnelAccess(access.data),
      originTls: originTls.tls,
    },
  };
}
