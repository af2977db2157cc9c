/**
 * The agent's settings as the rest of the program sees them: one frozen object with every
 * field filled. Built only by `loadAgentConfig`.
 */

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface TunnelSpec {
  /** The key under `tunnels:` in burrow.yml, or `default` for `burrow http <target>`. */
  readonly id: string;
  readonly proto: 'http';
  /**
   * Scheme, host and port only (no path). URL drops a scheme's default port, so read the
   * port as `origin.port || (origin.protocol === 'https:' ? 443 : 80)`. Do not mutate.
   */
  readonly origin: URL;
  /** Wanted public name, lower-case DNS label; null lets the edge pick one. */
  readonly name: string | null;
  /** What the edge enforces for this tunnel, sent in BIND as is; null when nothing is set. */
  readonly policy: TunnelPolicy | null;
  /** The Host header the agent sends to the origin (the policy does not carry it). */
  readonly hostHeader: HostHeader;
  /** How an https:// origin's certificate is checked (see origin-tls.ts for the defaults). */
  readonly originTls: OriginTls;
}

/** TLS toward an https:// origin; meaningless for http:// origins. */
export interface OriginTls {
  /** False only for loopback origins without a CA or server name, or when turned off. */
  readonly verify: boolean;
  /** PEM of CA certificates trusted in addition to Node's roots; null for the roots alone. */
  readonly ca: string | null;
  /** SNI and the name the certificate must carry; null for the origin's host (no SNI for an IP). */
  readonly serverName: string | null;
}

/**
 * A tunnel's access policy in the JSON shape BIND carries. Only set fields are present and
 * lists are never empty. Checked lightly here; the edge validates it strictly (CIDR blocks,
 * limits) and refuses the BIND naming the bad field. `basicAuth` passwords, `authToken` and
 * header values added may be secrets: never log them.
 */
export type TunnelPolicy = {
  /** `user:pass` entries; any one of them admits. */
  readonly basicAuth?: readonly string[];
  /** Accepted as `Authorization: Bearer <token>`, `?burrow_token=<token>` or the cookie the edge sets. */
  readonly authToken?: string;
  /** Client addresses or CIDR blocks (v4 or v6); when present, only these may connect. */
  readonly allowIp?: readonly string[];
  /** Client addresses or CIDR blocks refused even when allowed. */
  readonly denyIp?: readonly string[];
  /** Requests per client IP: `N/s` or `N/m`. */
  readonly rateLimit?: string;
  /** `Name: value` lines the edge adds to each request. */
  readonly requestHeaderAdd?: readonly string[];
  /** Header names the edge removes from each request. */
  readonly requestHeaderRemove?: readonly string[];
  /** `Name: value` lines the edge adds to each response. */
  readonly responseHeaderAdd?: readonly string[];
  /** Header names the edge removes from each response. */
  readonly responseHeaderRemove?: readonly string[];
  /** The edge's request history keeps headers, and with `bodies` the first `maxBytes` of each body. */
  readonly capture?: { readonly bodies: boolean; readonly maxBytes?: number };
  /** Responses carry `Server-Timing` (edge, tunnel, origin). */
  readonly serverTiming?: boolean;
};

/**
 * `preserve`: the viewer's Host (the public name) goes to the origin unchanged. `rewrite`:
 * the origin's own `host:port`, which dev servers that check Host (Vite, webpack, Nuxt)
 * accept. Anything else is sent as the Host value exactly.
 */
export type HostHeader = 'preserve' | 'rewrite' | (string & {});

export interface ReconnectPolicy {
  /** First wait after a lost connection. */
  readonly initialDelayMs: number;
  /** Waits never grow beyond this. */
  readonly maxDelayMs: number;
  /** Each failed attempt multiplies the wait by this. */
  readonly multiplier: number;
  /** Fraction (0..1) of each wait that is randomized, so many agents do not reconnect in lockstep. */
  readonly jitter: number;
}

/** Span export over OTLP/HTTP (JSON). */
export interface OtlpSettings {
  /** Receiver base URL (`/v1/traces` added when it has no path) or traces URL; null exports nothing. */
  readonly endpoint: string | null;
  /** `service.name` of the exported spans. */
  readonly serviceName: string;
  /** Spans queued for export at most; more are dropped. */
  readonly maxQueue: number;
}

export interface AgentConfig {
  /** Base URL of the edge (http or https). Do not mutate. */
  readonly server: URL;
  /** API key; null connects anonymously (temporary tunnels only). Never log it. */
  readonly token: string | null;
  /**
   * PEM of CA certificates trusted for an https:// edge in addition to Node's roots (`--ca`);
   * null for the roots alone. Verification is never off for the edge.
   */
  readonly ca: string | null;
  readonly log: LogFormat;
  /** At least one; ids are unique. */
  readonly tunnels: readonly TunnelSpec[];
  readonly reconnect: ReconnectPolicy;
  /** Ctrl-C waits this long for in-flight requests before exiting. */
  readonly shutdownMs: number;
  /** The origin's response head must arrive within this. */
  readonly originTimeoutMs: number;
  /** Open connections to one origin at most. */
  readonly maxOriginConnections: number;
  /** A CLIENT span per origin call, exported when `otlp.endpoint` is set. */
  readonly otlp: OtlpSettings;
  /** Where the Prometheus `/metrics` listener binds (`--metrics-listen`); null: no metrics at all. */
  readonly metricsListen: { readonly host: string; readonly port: number } | null;
  /**
   * `--force`: the first BIND of each tunnel takes its name over from another live session
   * of the same user. Later binds (reconnects) rely on the resume token instead, so two
   * forced agents do not keep stealing the name from each other.
   */
  readonly force: boolean;
}

/** CLI flags as commander hands them over (camelCase of `--kebab-case`). */
export interface AgentFlags {
  readonly server?: string;
  readonly token?: string;
  /** `--ca`: PEM file of CAs to trust for the edge, added to Node's roots. */
  readonly ca?: string;
  readonly log?: string;
  /** `--metrics-listen`: `host:port` (or a port, on 127.0.0.1) of the metrics listener. */
  readonly metricsListen?: string;
  /** `--config`: explicit config file; it must exist. */
  readonly config?: string;
  /** `--name`: wanted name for the ad-hoc tunnel of `burrow http <target>`. */
  readonly name?: string;
  /** `--force`: take names over from a stale session of the same user on the first bind. */
  readonly force?: boolean;
  /** `--otlp-endpoint`: export spans to this OTLP/HTTP receiver. */
  readonly otlpEndpoint?: string;
  // The ad-hoc tunnel's access settings; see TUNNEL_ACCESS_FLAGS for their flags.
  /** `--basic-auth`, repeatable. */
  readonly basicAuth?: readonly string[];
  readonly authToken?: string;
  /** `--allow-ip`, repeatable. */
  readonly allowIp?: readonly string[];
  /** `--deny-ip`, repeatable. */
  readonly denyIp?: readonly string[];
  readonly rateLimit?: string;
  readonly hostHeader?: string;
  /** `--request-header-add`, repeatable. */
  readonly requestHeaderAdd?: readonly string[];
  /** `--request-header-remove`, repeatable. */
  readonly requestHeaderRemove?: readonly string[];
  /** `--response-header-add`, repeatable. */
  readonly responseHeaderAdd?: readonly string[];
  /** `--response-header-remove`, repeatable. */
  readonly responseHeaderRemove?: readonly string[];
  /** `--capture headers|bodies`. */
  readonly capture?: string;
  /** `--capture-max-bytes <n>`, as typed. */
  readonly captureMaxBytes?: string | number;
  /** `--server-timing`. */
  readonly serverTiming?: boolean;
  /** `--origin-ca`: PEM file of CAs to trust for an https:// origin. */
  readonly originCa?: string;
  /** `--origin-server-name`: SNI and verification name for an https:// origin. */
  readonly originServerName?: string;
  /** `--origin-tls-verify` (true) / `--no-origin-tls-verify` (false). */
  readonly originTlsVerify?: boolean;
}

/** `burrow http <target> [--name x]`: one tunnel given on the command line. */
export interface AdHocTunnel {
  readonly target: string;
  readonly name?: string | null;
}

/** Environment variables; `process.env` fits. Only the CLI passes the real one. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadAgentConfigOptions {
  readonly flags?: AgentFlags;
  readonly env: Env;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /**
   * Config file to read when --config is not given, e.g. `burrow.yml` for `burrow start`.
   * Unlike --config it may be missing; then only a `tunnel` can supply tunnels.
   */
  readonly file?: string;
  /** When given, the only tunnel; tunnels in the file are validated but not started. */
  readonly tunnel?: AdHocTunnel;
}
