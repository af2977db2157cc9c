/**
 * A tunnel's access settings: the policy the edge enforces (sent in BIND), the Host header
 * the agent sends to the origin, and how it checks an https:// origin (origin-tls.ts, which
 * resolves those three on their own since they need the origin and files). One schema serves burrow.yml tunnels and the flags of
 * `burrow http`. The policy checks are light, for an early clear error; the edge is the
 * authority (it parses CIDR blocks, applies limits) and refuses a BIND naming the bad field.
 */
import * as z from 'zod';
import type { HostHeader, TunnelPolicy } from './agent-config.js';
import { originTlsFields } from './origin-tls.js';

/** burrow.yml key (camelCase) → flag of `burrow http` (kebab-case, without `--`). */
export const TUNNEL_ACCESS_FLAGS = {
  basicAuth: 'basic-auth',
  authToken: 'auth-token',
  allowIp: 'allow-ip',
  denyIp: 'deny-ip',
  rateLimit: 'rate-limit',
  hostHeader: 'host-header',
  requestHeaderAdd: 'request-header-add',
  requestHeaderRemove: 'request-header-remove',
  responseHeaderAdd: 'response-header-add',
  responseHeaderRemove: 'response-header-remove',
  capture: 'capture',
  captureMaxBytes: 'capture-max-bytes',
  serverTiming: 'server-timing',
  originCa: 'origin-ca',
  originServerName: 'origin-server-name',
  originTlsVerify: 'origin-tls-verify',
} as const;

export type TunnelAccessKey = keyof typeof TUNNEL_ACCESS_FLAGS;

// Object.keys widens to string[]; these are exactly the keys of the table above.
export const TUNNEL_ACCESS_KEYS = Object.keys(TUNNEL_ACCESS_FLAGS) as readonly TunnelAccessKey[];

export function isTunnelAccessKey(key: unknown): key is TunnelAccessKey {
  return typeof key === 'string' && Object.hasOwn(TUNNEL_ACCESS_FLAGS, key);
}

/** Settings whose values are, or may hold, credentials: a problem never quotes them. */
export const SECRET_ACCESS_KEYS: ReadonlySet<string> = new Set<TunnelAccessKey>([
  'basicAuth',
  'authToken',
  'requestHeaderAdd',
  'responseHeaderAdd',
]);

/** The edge's bound on captured body bytes per direction (its policy refuses more). */
export const MAX_CAPTURE_BYTES = 1_048_576;

const REQUIRE = {
  basicAuth: '"user:password" with a user and a password',
  authToken: 'a token of visible characters, no spaces',
  ip: 'an IP address or CIDR block, e.g. 203.0.113.0/24',
  rateLimit: '"N/s" or "N/m" (requests per second or minute per client IP), e.g. "10/s"',
  hostHeader:
    '"preserve", "rewrite" (the origin\'s host:port) or a host[:port] to send, e.g. "localhost:5173"',
  headerLine: '"Name: value" with a header name of letters, digits and !#$%&\'*+-.^_`|~',
  headerName: "a header name of letters, digits and !#$%&'*+-.^_`|~",
  capture: '"headers" (request and response headers) or "bodies" (headers and bodies)',
  captureMaxBytes: `a whole number of bytes from 1 to ${MAX_CAPTURE_BYTES}`,
  flag: 'true or false',
} as const;

/** RFC 9110 token: what a header name consists of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// No CR, LF or NUL in a value: they would split the head. The edge checks the rest.
const HEADER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n\0]*$/;
const RATE = /^[1-9][0-9]*\/[sm]$/;
const TOKEN = /^[\x21-\x7e]+$/;
/**
 * The agent applies hostHeader itself, so it is checked fully here: a bracketed IPv6 address
 * or a DNS name, then an optional port. Anything else could not go out as a Host header.
 */
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?)(?::[0-9]{1,5})?$/;

function list(item: z.ZodType<string>, what: string) {
  return z.array(item, { error: `a list of ${what}` }).optional();
}

function isBasicEntry(entry: string): boolean {
  const colon = entry.indexOf(':');
  return colon > 0 && colon < entry.length - 1;
}

const ipEntry = z.string({ error: REQUIRE.ip }).trim().regex(/^\S+$/, { error: REQUIRE.ip });
const headerLine = z.string({ error: REQUIRE.headerLine }).regex(HEADER_LINE, { error: REQUIRE.headerLine });
const headerName = z
  .string({ error: REQUIRE.headerName })
  .trim()
  .regex(HEADER_NAME, { error: REQUIRE.headerName });

function toHostHeader(text: string, ctx: z.core.$RefinementCtx<string>): HostHeader {
  const keyword = text.toLowerCase();
  if (keyword === 'preserve' || keyword === 'rewrite') return keyword;
  if (HOST_VALUE.test(text)) return text;
  ctx.addIssue({ code: 'custom', message: REQUIRE.hostHeader });
  return z.NEVER;
}

/** Spread into a tunnel's schema; every field is optional. */
export const tunnelAccessFields = {
  basicAuth: list(
    z.string({ error: REQUIRE.basicAuth }).refine(isBasicEntry, { error: REQUIRE.basicAuth }),
    'entries',
  ),
  authToken: z
    .string({ error: REQUIRE.authToken })
    .trim()
    .regex(TOKEN, { error: REQUIRE.authToken })
    .optional(),
  allowIp: list(ipEntry, 'IP addresses or CIDR blocks'),
  denyIp: list(ipEntry, 'IP addresses or CIDR blocks'),
  rateLimit: z
    .string({ error: REQUIRE.rateLimit })
    .trim()
    .regex(RATE, { error: REQUIRE.rateLimit })
    .optional(),
  hostHeader: z.string({ error: REQUIRE.hostHeader }).trim().transform(toHostHeader).optional(),
  requestHeaderAdd: list(headerLine, '"Name: value" lines'),
  requestHeaderRemove: list(headerName, 'header names'),
  responseHeaderAdd: list(headerLine, '"Name: value" lines'),
  responseHeaderRemove: list(headerName, 'header names'),
  capture: z.enum(['headers', 'bodies'], { error: REQUIRE.capture }).optional(),
  // Flags arrive as text, burrow.yml as a number.
  captureMaxBytes: z.coerce
    .number({ error: REQUIRE.captureMaxBytes })
    .int({ error: REQUIRE.captureMaxBytes })
    .min(1, { error: REQUIRE.captureMaxBytes })
    .max(MAX_CAPTURE_BYTES, { error: REQUIRE.captureMaxBytes })
    .optional(),
  serverTiming: z.boolean({ error: REQUIRE.flag }).optional(),
  ...originTlsFields,
};

/** The access settings of `burrow http`, given as flags. */
export const tunnelAccessSchema = z.strictObject(tunnelAccessFields);

export type TunnelAccessSettings = z.output<typeof tunnelAccessSchema>;

export interface TunnelAccess {
  readonly policy: TunnelPolicy | null;
  readonly hostHeader: HostHeader;
}

function nonEmpty(values: readonly string[] | undefined): readonly string[] | undefined {
  return values === undefined || values.length === 0 ? undefined : Object.freeze([...values]);
}

/** `capture` as the edge's policy has it; a max size alone means bodies up to it. */
function captureOf(settings: TunnelAccessSettings): TunnelPolicy['capture'] {
  const { capture, captureMaxBytes } = settings;
  if (capture === undefined && captureMaxBytes === undefined) return undefined;
  const bodies = capture === undefined ? true : capture === 'bodies';
  return Object.freeze(captureMaxBytes === undefined ? { bodies } : { bodies, maxBytes: captureMaxBytes });
}

/** The policy JSON (set fields only, empty lists left out; null if none) and the Host choice, frozen. */
export function toTunnelAccess(settings: TunnelAccessSettings): TunnelAccess {
  // Typed field by field, so a key the edge does not know cannot slip into BIND.
  const candidate: TunnelPolicy = {
    basicAuth: nonEmpty(settings.basicAuth),
    authToken: settings.authToken,
    allowIp: nonEmpty(settings.allowIp),
    denyIp: nonEmpty(settings.denyIp),
    rateLimit: settings.rateLimit,
    requestHeaderAdd: nonEmpty(settings.requestHeaderAdd),
    requestHeaderRemove: nonEmpty(settings.requestHeaderRemove),
    responseHeaderAdd: nonEmpty(settings.responseHeaderAdd),
    responseHeaderRemove: nonEmpty(settings.responseHeaderRemove),
    capture: captureOf(settings),
    serverTiming: settings.serverTiming,
  };
  const set = Object.entries(candidate).filter(([, value]) => value !== undefined);
  // Only undefined values were dropped, so this is still a TunnelPolicy.
  const policy = set.length === 0 ? null : (Object.freeze(Object.fromEntries(set)) as TunnelPolicy);
  return { policy, hostHeader: settings.hostHeader ?? 'preserve' };
}
