/**
 * Turns a validated `TunnelPolicySpec` into the runtime `TunnelPolicy` the edge evaluates
 * on every request: parsed CIDR blocks, keyed credential digests, per-client token
 * buckets and failure counters. Compile once per BIND; the result holds mutable limiter
 * state, so one tunnel's policy must not be shared with another tunnel.
 */

import { inspect } from 'node:util';
import type { Clock } from '@burrow/protocol';
import { AuthFailures, type AuthFailureLimits } from './auth-failures.js';
import type { CompiledAuth } from './authenticate.js';
import { IpRules, parseCidr, type Cidr } from './cidr.js';
import { HeaderEdit } from './header-edit.js';
import {
  DEFAULT_CAPTURE_BYTES,
  parsePolicySpec,
  tryParseRate,
  type TunnelPolicySpec,
} from './policy-spec.js';
import { SecretDigester } from './secret-digest.js';
import { DEFAULT_MAX_TRACKED_CLIENTS, TokenBuckets } from './token-bucket.js';

export interface CompilePolicyOptions {
  clock: Clock;
  /**
   * Key (at least 16 bytes) for the credential digests and the `burrow_token` cookie.
   * The edge passes its persistent secret (edge-secret.ts). Default: 32 random bytes per
   * process, so cookies end with the process; edges in a
   * cluster must share one key for a cookie from one edge to work on another.
   */
  secret?: Uint8Array;
  /** Most client IPs each limiter of this tunnel tracks; default 10,000. */
  maxTrackedClients?: number;
  /** Brute-force thresholds; defaults in `DEFAULT_AUTH_FAILURE_LIMITS`. */
  authFailureLimits?: Partial<Omit<AuthFailureLimits, 'maxKeys'>>;
}

/** What a tunnel's request records keep beyond the fixed fields. */
export interface CapturePolicy {
  /** Bodies too, not only headers. */
  readonly bodies: boolean;
  /** Body bytes kept per direction; the rest is not stored (the record says truncated). */
  readonly maxBytes: number;
}

export class TunnelPolicy {
  readonly ipRules: IpRules;
  /** Null when the spec sets no rate limit. */
  readonly rateLimiter: TokenBuckets | null;
  /** Null when the spec sets neither basic auth nor a token. */
  readonly auth: CompiledAuth | null;
  /** Null exactly when `auth` is. */
  readonly authFailures: AuthFailures | null;
  readonly requestHeaders: HeaderEdit;
  readonly responseHeaders: HeaderEdit;
  /** Null when the tunnel's records keep no headers or bodies. */
  readonly capture: CapturePolicy | null;
  /** Responses carry `Server-Timing` with the edge, tunnel and origin times. */
  readonly serverTiming: boolean;
  /** Which protections are on, by name only: what `toJSON` and `inspect` show. */
  readonly #summary: Record<string, unknown>;

  constructor(parts: {
    ipRules: IpRules;
    rateLimiter: TokenBuckets | null;
    auth: CompiledAuth | null;
    authFailures: AuthFailures | null;
    requestHeaders: HeaderEdit;
    responseHeaders: HeaderEdit;
    capture?: CapturePolicy | null;
    serverTiming?: boolean;
    summary: Record<string, unknown>;
  }) {
    this.ipRules = parts.ipRules;
    this.rateLimiter = parts.rateLimiter;
    this.auth = parts.auth;
    this.authFailures = parts.authFailures;
    this.requestHeaders = parts.requestHeaders;
    this.responseHeaders = parts.responseHeaders;
    this.capture = parts.capture ?? null;
    this.serverTiming = parts.serverTiming ?? false;
    this.#summary = parts.summary;
  }

  /** True when the policy lets every request through unchanged and records nothing extra, so the caller may skip it. */
  get isOpen(): boolean {
    return (
      this.capture === null &&
      !this.serverTiming &&
      this.ipRules.isEmpty &&
      this.rateLimiter === null &&
      this.auth === null &&
      this.requestHeaders.isEmpty &&
      this.responseHeaders.isEmpty
    );
  }

  /** What logging or JSON.stringify shows: which protections are on, no digests or secrets. */
  toJSON(): Record<string, unknown> {
    return this.#summary;
  }

  [inspect.custom](): string {
    return `TunnelPolicy ${JSON.stringify(this.#summary)}`;
  }
}

function cidrs(entries: readonly string[] = []): Cidr[] {
  // parsePolicySpec has checked every entry, so null cannot happen here.
  return entries.map((entry) => parseCidr(entry)).filter((c): c is Cidr => c !== null);
}

/**
 * Validates `spec` (it may come straight from the wire) and builds its runtime policy.
 * @throws TunnelError TUN_ERR_BAD_MESSAGE if the spec is invalid.
 */
export function compilePolicy(spec: TunnelPolicySpec, options: CompilePolicyOptions): TunnelPolicy {
  const valid = parsePolicySpec(spec);
  const maxKeys = options.maxTrackedClients ?? DEFAULT_MAX_TRACKED_CLIENTS;
  const rate = valid.rateLimit === undefined ? null : tryParseRate(valid.rateLimit);
  const basicEntries = valid.basicAuth ?? [];
  const hasAuth = basicEntries.length > 0 || valid.authToken !== undefined;

  let auth: CompiledAuth | null = null;
  if (hasAuth) {
    const digester = new SecretDigester(options.secret);
    const token = valid.authToken;
    auth = {
      digester,
      basic: basicEntries.map((entry) => digester.digest('basic', entry)),
      token:
        token === undefined
          ? null
          : {
              digest: digester.digest('token', token),
              cookieDigest: digester.digest('cookie', digester.cookieValue(token)),
            },
    };
  }

  const capture: CapturePolicy | null =
    valid.capture === undefined
      ? null
      : { bodies: valid.capture.bodies, maxBytes: valid.capture.maxBytes ?? DEFAULT_CAPTURE_BYTES };

  const summary = {
    basicAuthUsers: basicEntries.map((entry) => entry.slice(0, entry.indexOf(':'))),
    authToken: valid.authToken !== undefined,
    allowIp: valid.allowIp ?? [],
    denyIp: valid.denyIp ?? [],
    rateLimit: valid.rateLimit ?? null,
    requestHeaderRemove: valid.requestHeaderRemove ?? [],
    requestHeaderAdd: (valid.requestHeaderAdd ?? []).map((line) => line.slice(0, line.indexOf(':'))),
    responseHeaderRemove: valid.responseHeaderRemove ?? [],
    responseHeaderAdd: (valid.responseHeaderAdd ?? []).map((line) => line.slice(0, line.indexOf(':'))),
    capture,
    serverTiming: valid.serverTiming === true,
  };

  return new TunnelPolicy({
    ipRules: new IpRules(cidrs(valid.allowIp), cidrs(valid.denyIp)),
    rateLimiter: rate === null ? null : new TokenBuckets({ rate, clock: options.clock, maxKeys }),
    auth,
    authFailures: hasAuth
      ? new AuthFailures({ clock: options.clock, limits: { ...options.authFailureLimits, maxKeys } })
      : null,
    requestHeaders: HeaderEdit.fromSpec(valid.requestHeaderRemove, valid.requestHeaderAdd),
    responseHeaders: HeaderEdit.fromSpec(valid.responseHeaderRemove, valid.responseHeaderAdd),
    capture,
    serverTiming: valid.serverTiming === true,
    summary,
  });
}
