/**
 * The per-tunnel access policy as plain JSON: what the agent sends in BIND and the store
 * keeps. `parsePolicySpec` is the one gate every spec passes before it is compiled; its
 * errors name each bad field and what it allows, and never quote a password or token.
 */

import { TunnelError } from '@burrow/protocol';
import * as z from 'zod';
import { parseCidr } from './cidr.js';
import { isHeaderName, parseHeaderLine, UNEDITABLE_HEADERS } from './header-edit.js';
import type { Rate } from './token-bucket.js';

/** Every field is optional; an empty object is a policy that lets everything through. */
export interface TunnelPolicySpec {
  /** `"user:pass"` entries; any one of them admits (HTTP basic auth). */
  basicAuth?: string[];
  /** Shared secret sent as `Authorization: Bearer <token>`, `?burrow_token=` or the cookie that sets. */
  authToken?: string;
  /** CIDR blocks or bare addresses, IPv4 or IPv6; when non-empty, only these may connect. */
  allowIp?: string[];
  /** CIDR blocks or bare addresses refused even if an allow entry matches. */
  denyIp?: string[];
  /** Requests per client IP: `"N/s"` or `"N/m"`, N from 1 to 100000. */
  rateLimit?: string;
  /** `"Name: value"` lines appended to each request after the removals. */
  requestHeaderAdd?: string[];
  /** Header names removed from each request. */
  requestHeaderRemove?: string[];
  /** `"Name: value"` lines appended to each response after the removals. */
  responseHeaderAdd?: string[];
  /** Header names removed from each response. */
  responseHeaderRemove?: string[];
  /**
   * Keep each request's headers in its record (values named in `history.redactHeaders` as
   * `***`) and, with `bodies`, both bodies up to `maxBytes` each (default 65,536, at most 1 MiB).
   */
  capture?: { bodies: boolean; maxBytes?: number };
  /** Answer with `Server-Timing: edge;dur=…, tunnel;dur=…, origin;dur=…` (browser devtools show it). */
  serverTiming?: boolean;
}

export const MAX_POLICY_LIST_ENTRIES = 32;
export const MAX_CREDENTIAL_LENGTH = 256;
export const MAX_RATE = 100_000;
/** Body bytes a captured request keeps per direction, unless its policy says otherwise. */
export const DEFAULT_CAPTURE_BYTES = 65_536;
export const MAX_CAPTURE_BYTES = 1_048_576;

/** C0 controls and DEL: they have no place in a password and break logs and prompts. */
function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function isBasicEntry(entry: string): boolean {
  const colon = entry.indexOf(':');
  const user = entry.slice(0, colon);
  const password = entry.slice(colon + 1);
  return (
    colon > 0 &&
    user.length <= MAX_CREDENTIAL_LENGTH &&
    password.length >= 1 &&
    password.length <= MAX_CREDENTIAL_LENGTH &&
    !hasControlChar(entry)
  );
}

const TOKEN = new RegExp(`^[\\x21-\\x7e]{1,${MAX_CREDENTIAL_LENGTH}}$`);
const RATE = /^([1-9][0-9]{0,5})\/([sm])$/;

const REQUIRE = {
  basicAuth: `"user:pass" with a user of 1-${MAX_CREDENTIAL_LENGTH} characters without ":" and a password of 1-${MAX_CREDENTIAL_LENGTH} characters, no control characters`,
  authToken: `1-${MAX_CREDENTIAL_LENGTH} visible ASCII characters, no spaces`,
  ip: 'an IPv4 or IPv6 address or CIDR block, e.g. 203.0.113.0/24 or 2001:db8::/32',
  rateLimit: `"N/s" or "N/m" with N from 1 to ${MAX_RATE}`,
  headerLine:
    '"Name: value" with a header name made of token characters (letters, digits, !#$%&\'*+-.^_`|~) and a value without CR, LF, NUL or other control characters (at most 4096 characters)',
  headerName: "a header name made of token characters (letters, digits, !#$%&'*+-.^_`|~)",
  capture: `an object {"bodies": true or false, "maxBytes": 1 to ${MAX_CAPTURE_BYTES} (default ${DEFAULT_CAPTURE_BYTES})}`,
  maxBytes: `a whole number of bytes from 1 to ${MAX_CAPTURE_BYTES}`,
  flag: 'true or false',
  editable: `a header other than ${[...UNEDITABLE_HEADERS].join(', ')} (they frame the message or belong to one hop; the agent's --host-header sets Host)`,
} as const;

function list(item: z.ZodType<string>, what: string) {
  return z
    .array(item, { error: `a list of ${what}` })
    .max(MAX_POLICY_LIST_ENTRIES, { error: `a list of at most ${MAX_POLICY_LIST_ENTRIES} entries` })
    .optional();
}

const ipEntry = z.string({ error: REQUIRE.ip }).refine((s) => parseCidr(s) !== null, { error: REQUIRE.ip });

const editableName = (name: string): boolean => !UNEDITABLE_HEADERS.has(name.toLowerCase());

const headerLine = z
  .string({ error: REQUIRE.headerLine })
  .refine((s) => parseHeaderLine(s) !== null, { error: REQUIRE.headerLine, abort: true })
  .refine((s) => editableName(parseHeaderLine(s)?.name ?? ''), { error: REQUIRE.editable });

const headerName = z
  .string({ error: REQUIRE.headerName })
  .refine(isHeaderName, { error: REQUIRE.headerName, abort: true })
  .refine(editableName, { error: REQUIRE.editable });

const policySpecSchema = z.strictObject(
  {
    basicAuth: list(
      z.string({ error: REQUIRE.basicAuth }).refine(isBasicEntry, { error: REQUIRE.basicAuth }),
      'entries',
    ),
    authToken: z.string({ error: REQUIRE.authToken }).regex(TOKEN, { error: REQUIRE.authToken }).optional(),
    allowIp: list(ipEntry, 'addresses or CIDR blocks'),
    denyIp: list(ipEntry, 'addresses or CIDR blocks'),
    rateLimit: z
      .string({ error: REQUIRE.rateLimit })
      .refine((s) => tryParseRate(s) !== null, { error: REQUIRE.rateLimit })
      .optional(),
    requestHeaderAdd: list(headerLine, '"Name: value" lines'),
    requestHeaderRemove: list(headerName, 'header names'),
    responseHeaderAdd: list(headerLine, '"Name: value" lines'),
    responseHeaderRemove: list(headerName, 'header names'),
    capture: z
      .strictObject(
        {
          bodies: z.boolean({ error: REQUIRE.flag }),
          maxBytes: z
            .number({ error: REQUIRE.maxBytes })
            .int({ error: REQUIRE.maxBytes })
            .min(1, { error: REQUIRE.maxBytes })
            .max(MAX_CAPTURE_BYTES, { error: REQUIRE.maxBytes })
            .optional(),
        },
        { error: REQUIRE.capture },
      )
      .optional(),
    serverTiming: z.boolean({ error: REQUIRE.flag }).optional(),
  },
  { error: 'a JSON object' },
) satisfies z.ZodType<TunnelPolicySpec>;

/** Fields whose values are secrets (or may hold them) and are never quoted back. */
const SECRET_FIELDS = new Set(['basicAuth', 'authToken', 'requestHeaderAdd', 'responseHeaderAdd']);

/** `"N/s"` or `"N/m"` as a rate; null if malformed or out of range. */
export function tryParseRate(text: string): Rate | null {
  const match = RATE.exec(text);
  if (match === null) return null;
  const count = Number(match[1]);
  if (count > MAX_RATE) return null;
  return { count, perMs: match[2] === 's' ? 1_000 : 60_000 };
}

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path)
    out += typeof part === 'number' ? `[${part}]` : `${out === '' ? '' : '.'}${String(part)}`;
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/**
 * Fields edges once accepted in a policy although no edge could apply them. `hostHeader`: the
 * agent rewrites Host before calling its origin (only it knows the origin's host:port), and
 * OPEN has no field that could carry an edge-side setting to it.
 */
const AGENT_ONLY_FIELDS: Readonly<Record<string, string>> = {
  hostHeader:
    '"hostHeader" is not an edge policy field: the agent sets Host itself ' +
    '(burrow http --host-header, or hostHeader under the tunnel in burrow.yml)',
};

function describeIssue(issue: z.core.$ZodIssue, json: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    const agentOnly = issue.keys.filter((key) => Object.hasOwn(AGENT_ONLY_FIELDS, key));
    const unknown = issue.keys.filter((key) => !Object.hasOwn(AGENT_ONLY_FIELDS, key));
    const allowed = Object.keys(policySpecSchema.shape).join(', ');
    const keys = unknown.map((key) => JSON.stringify(key)).join(', ');
    return [
      ...agentOnly.map((key) => AGENT_ONLY_FIELDS[key]!),
      ...(unknown.length === 0
        ? []
        : [`unknown field${unknown.length === 1 ? '' : 's'} ${keys} (allowed: ${allowed})`]),
    ].join('; ');
  }
  const field = pathText(issue.path);
  const where = field === '' ? 'the policy' : field;
  const value = valueAt(json, issue.path);
  const top = typeof issue.path[0] === 'string' ? issue.path[0] : '';
  // Only short strings are quoted, and never from a field that may hold a secret.
  const shown =
    typeof value === 'string' && value.length <= 80 && !SECRET_FIELDS.has(top)
      ? `, got ${JSON.stringify(value)}`
      : '';
  return `${where} must be ${issue.message}${shown}`;
}

/**
 * Validates untrusted JSON (a BIND payload, a stored row) as a policy spec. Unknown fields
 * are refused rather than ignored: an edge that silently dropped a protection a newer
 * agent asked for would leave the tunnel more open than its owner believes.
 * @throws TunnelError TUN_ERR_BAD_MESSAGE naming every bad field.
 */
export function parsePolicySpec(json: unknown): TunnelPolicySpec {
  const result = policySpecSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => describeIssue(issue, json));
  return fail(`invalid tunnel policy: ${problems.join('; ')}`);
}

function fail(message: string): never {
  throw new TunnelError('TUN_ERR_BAD_MESSAGE', message);
}

/**
 * A copy safe to log or show: passwords and the token replaced by `"***"` (user names
 * stay), header additions reduced to their names.
 */
export function redactPolicySpec(spec: TunnelPolicySpec): TunnelPolicySpec {
  const out: TunnelPolicySpec = { ...spec };
  if (spec.basicAuth) out.basicAuth = spec.basicAuth.map((entry) => `${entry.split(':')[0] ?? ''}:***`);
  if (spec.authToken !== undefined) out.authToken = '***';
  const names = (lines: string[]) => lines.map((line) => `${line.split(':')[0] ?? ''}: ***`);
  if (spec.requestHeaderAdd) out.requestHeaderAdd = names(spec.requestHeaderAdd);
  if (spec.responseHeaderAdd) out.responseHeaderAdd = names(spec.responseHeaderAdd);
  return out;
}

/**
 * A stored row without the agent-only fields an older edge let the control API store: they
 * never had an effect, and refusing the row would make its name unbindable and unreadable.
 */
export function withoutAgentOnlyFields(stored: Record<string, unknown>): Record<string, unknown> {
  if (!Object.keys(stored).some((key) => Object.hasOwn(AGENT_ONLY_FIELDS, key))) return stored;
  return Object.fromEntries(Object.entries(stored).filter(([key]) => !Object.hasOwn(AGENT_ONLY_FIELDS, key)));
}

/** `parsePolicySpec` for a row read back from the store (see `withoutAgentOnlyFields`). */
export function parseStoredPolicySpec(stored: Record<string, unknown>): TunnelPolicySpec {
  return parsePolicySpec(withoutAgentOnlyFields(stored));
}

/**
 * The policy a bound name runs under: the owner's stored policy with the agent's own
 * fields laid over it, field by field (an agent's `--basic-auth` replaces the stored
 * `basicAuth`, and stored fields the agent did not set still apply). Null when neither has one.
 */
export function overlayPolicies(
  stored: Record<string, unknown> | null,
  asked: Record<string, unknown> | null,
): Record<string, unknown> | null {
  if (stored === null) return asked;
  if (asked === null) return withoutAgentOnlyFields(stored);
  return { ...withoutAgentOnlyFields(stored), ...asked };
}
