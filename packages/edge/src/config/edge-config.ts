/**
 * The edge's settings as the rest of the program sees them: one frozen object, every field
 * filled (defaults included), units in the names. Built only by `loadEdgeConfig`.
 */

import type { DnsPublishingSettings } from '../certs/dns/publisher-from-settings.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const PUBLIC_SCHEMES = ['http', 'https'] as const;
export type PublicScheme = (typeof PUBLIC_SCHEMES)[number];

/** `httpsRedirect`: which hosts the plain listener redirects to HTTPS (308). */
export const HTTPS_REDIRECTS = ['tunnels', 'all', 'off'] as const;
export type HttpsRedirect = (typeof HTTPS_REDIRECTS)[number];

/** `accessLog`: one line per tunnel request as a pino JSON line, an Apache/nginx combined line, or none. */
export const ACCESS_LOG_FORMATS = ['json', 'combined', 'off'] as const;
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];
/** Header values captured requests store as `***` unless `history.redactHeaders` says otherwise. */
export const DEFAULT_REDACT_HEADERS = [
  'Authorization',
  'Cookie',
  'Set-Cookie',
  'Proxy-Authorization',
] as const;
/** Certificates the edge makes itself: none, or a local development CA and leaf. */
export const TLS_GENERATE = ['off', 'self-signed'] as const;
export type TlsGenerate = (typeof TLS_GENERATE)[number];

/** Where the public listener binds. `host` is bare (IPv6 without brackets), ready for `server.listen`. */
export interface ListenAddress {
  readonly host: string;
  /** 0 asks the OS for a free port; the real one is known only after listening. */
  readonly port: number;
}

export interface EdgeConfig {
  readonly listen: ListenAddress;
  /** The HTTPS listener (TLS, ALPN h2 and http/1.1); null when the edge serves plain HTTP only. */
  readonly httpsListen: ListenAddress | null;
  /** With `httpsListen`: `tunnels` redirects tunnel hosts on the plain listener, `all` every host. */
  readonly httpsRedirect: HttpsRedirect;
  /** `Strict-Transport-Security: max-age` on tunnel responses over TLS; 0 sends none. */
  readonly hstsMaxAgeS: number;
  /** Base domain, lower-case: tunnels are served at `<name>.<domain>`. */
  readonly domain: string;
  /**
   * How tunnel URLs are printed; `port: null` means the port the listener actually got (the
   * HTTPS listener's when the scheme is https and there is one). The scheme defaults to https
   * when `httpsListen` is set.
   */
  readonly publicUrl: { readonly scheme: PublicScheme; readonly port: number | null };
  /** Absolute; the SQLite file is `${dataDir}/burrow.db`. */
  readonly dataDir: string;
  /** null means SQLite in `dataDir`. May hold a password: never log it. */
  readonly databaseUrl: string | null;
  readonly log: { readonly level: LogLevel };
  /** One line per tunnel request at info (observe/access-log.ts). */
  readonly accessLog: AccessLogFormat;
  /** Request records written to the store (observe/history-writer.ts). */
  readonly history: {
    /** Off: no records are written (the access log and other observers still get them). */
    readonly enabled: boolean;
    /** Records waiting for the store; more are dropped and counted. */
    readonly queueMax: number;
    /** Captured body bytes waiting for the store; beyond it records are kept without bodies. */
    readonly queueBytes: number;
    /** How often queued records are written, ms (sooner once 1,000 are waiting). */
    readonly flushMs: number;
    /** Recorded paths keep their query string. */
    readonly keepQuery: boolean;
    /** Lower-case header names whose captured values are stored as `***`. */
    readonly redactHeaders: readonly string[];
    /** Retention (the janitor prunes the store on each sweep): records older than this many days are deleted. */
    readonly maxAgeDays: number;
    /** Each tunnel keeps at most its newest this many records. */
    readonly maxPerTunnel: number;
  };
  readonly limits: {
    /** Bytes of a viewer's request head (request line + headers). */
    readonly maxHeaderBytes: number;
    /** Header fields in a viewer's request head; more get 431 (never silently dropped). */
    readonly maxHeaderCount: number;
    /** Bytes of a request target (path and query); longer ones get 414. */
    readonly maxUrlBytes: number;
    readonly maxStreamsPerSession: number;
    /** Bytes of payload in one frame. */
    readonly maxFramePayload: number;
    /** Bytes of initial per-stream flow-control credit. */
    readonly streamWindow: number;
    readonly maxTunnelsPerSession: number;
    /** Live agent sessions one API key may hold at once. */
    readonly sessionsPerKey: number;
    /** Tunnels one API key may have bound at once, across its sessions. */
    readonly tunnelsPerKey: number;
    readonly reservedNamesPerUser: number;
    /** Requests held edge-wide while waiting for a reconnecting agent. */
    readonly maxPendingRequests: number;
    /** Open TCP connections to the public listener from one client address (IPv4, or IPv6 /64). */
    readonly connectionsPerIp: number;
    /** Requests and upgrades per second from one client address, across all tunnels; 0 is off. */
    readonly requestsPerSecondPerIp: number;
    /** TLS handshakes in progress from one client address; more are closed at once. */
    readonly tlsHandshakesPerIp: number;
    /** Concurrent streams per HTTP/2 viewer connection. */
    readonly http2MaxStreams: number;
    /** Live request streams (`GET /tunnels/{name}/requests/stream`) one user may hold open. */
    readonly sseStreamsPerUser: number;
  };
  readonly timeouts: {
    /** An agent must finish HELLO within this. */
    readonly handshakeMs: number;
    /** The origin's response head must arrive within this, else 504. */
    readonly requestMs: number;
    /** Requests wait this long for a reconnecting agent. */
    readonly reconnectGraceMs: number;
    /** PING interval. */
    readonly heartbeatMs: number;
    /** No frame for this long closes the session; always greater than `heartbeatMs`. */
    readonly deadPeerMs: number;
    /** Graceful shutdown drains in-flight requests for at most this long. */
    readonly shutdownMs: number;
    /** A viewer must send its whole request head within this. */
    readonly headersMs: number;
    /** A request body that sends nothing for this long is cut off with 408. */
    readonly bodyIdleMs: number;
    /** A response body that sends nothing for this long (after its head) is cut off. */
    readonly responseIdleMs: number;
    /** A TLS handshake that has not finished within this is cut. */
    readonly tlsHandshakeMs: number;
  };
  readonly tunnels: {
    /** A temporary name is not handed out again for this long after its last activity. */
    readonly temporaryRetentionMs: number;
    /** Whether agents without an API key may open temporary tunnels. */
    readonly allowAnonymous: boolean;
    /** Anonymous tunnels one client address (IPv4, or IPv6 /64) may have bound at once. */
    readonly anonymousTunnelsPerIp: number;
    /** Requests per second per client address to an anonymous tunnel without its own rate limit; 0 = off. */
    readonly anonymousRequestsPerSecond: number;
    /** How long an anonymous tunnel lives after its name was first claimed, ms; 0 = no limit. */
    readonly anonymousLifetimeMs: number;
    /** Whether browser navigations to anonymous tunnels first get a phishing warning page. */
    readonly anonymousWarning: boolean;
    readonly janitorIntervalMs: number;
  };
  readonly domains: {
    /**
     * DNS servers custom domains are verified against, in `dns.Resolver#setServers` form
     * (`ip`, `ip:port`, `[IPv6]:port`); empty means the system resolver.
     */
    readonly resolver: readonly string[];
    /** Milliseconds between passes that look up TXT records of unverified custom domains. */
    readonly verifyIntervalMs: number;
  };
  /** A listener of its own serving only Prometheus `/metrics`, unauthenticated; null: none. */
  readonly metricsListen: ListenAddress | null;
  readonly metrics: {
    /** False: no metrics at all (no observer, no `/metrics` on any listener). */
    readonly enabled: boolean;
    /** Most named tunnels with a `tunnel` label of their own; beyond it (and temporary tunnels) `_other`. */
    readonly maxTunnelSeries: number;
  };
  /** The real client address behind load balancers (listeners/). */
  readonly proxy: {
    /** Read a PROXY protocol v1/v2 header at the start of every public connection. */
    readonly protocol: boolean;
    /** Peers that must send it (addresses, CIDR blocks); empty means every peer. */
    readonly protocolFrom: readonly string[];
    /** The whole PROXY header must arrive within this, else the connection is closed. */
    readonly headerTimeoutMs: number;
    /** Peers whose X-Forwarded-For / Forwarded name the client (addresses, CIDR blocks). */
    readonly trust: readonly string[];
  };
  readonly tls: {
    /** Absolute path of a PEM certificate (leaf first, then its chain); null with keyFile null. */
    readonly certFile: string | null;
    /** Absolute path of its unencrypted PEM private key; set exactly when certFile is. */
    readonly keyFile: string | null;
    /** `self-signed`: a development CA kept in `dataDir/tls` signs a leaf for the domain. */
    readonly generate: TlsGenerate;
  };
  /** ACME certificates: HTTP-01 on demand (certs/acme/) and DNS-01 publishing (certs/dns/). */
  readonly acme: {
    /** The account's contact; null turns ordering off. */
    readonly email: string | null;
    /** RFC 8555 directory URL. */
    readonly directory: string;
    /** PEM file of a CA trusted (beside the system roots) for the directory's TLS. */
    readonly caFile: string | null;
    /** New orders per hour, edge-wide (sliding window). */
    readonly ordersPerHour: number;
    /** New orders per registered domain per week (sliding window). */
    readonly ordersPerDomainPerWeek: number;
    /** HTTP-01 orders of their own for temporary tunnels (else only the wildcard or the default). */
    readonly onDemandTemporary: boolean;
    /** Longest a handshake waits on an order in flight. */
    readonly waitMs: number;
    /** Milliseconds between renewal passes. */
    readonly renewIntervalMs: number;
    /** Where DNS-01 challenge records go: RFC 2136 (`server`), an exec hook (`hook`), or nowhere. */
    readonly dns: DnsPublishingSettings;
  };
  /** Span export over OTLP/HTTP (JSON). */
  readonly otlp: {
    /** Receiver base URL (`/v1/traces` added when it has no path) or traces URL; null exports nothing. */
    readonly endpoint: string | null;
    /** `service.name` of the exported spans. */
    readonly serviceName: string;
    /** Spans queued for export at most; more are dropped. */
    readonly maxQueue: number;
  };
}

/**
 * CLI flags as commander hands them over (camelCase of `--kebab-case`). Values are raw
 * strings; numbers are accepted too in case a flag gets a commander parser later.
 */
export interface EdgeFlags {
  readonly listen?: string;
  readonly httpsListen?: string;
  readonly httpsRedirect?: string;
  /** `--hsts <seconds>`. */
  readonly hsts?: string | number;
  readonly domain?: string;
  /** `--data`: the data directory. */
  readonly data?: string;
  /** `--config`: path of a YAML or JSON config file. */
  readonly config?: string;
  readonly publicScheme?: string;
  readonly publicPort?: string | number;
  readonly logLevel?: string;
  /** `--access-log json|combined|off`. */
  readonly accessLog?: string;
  /** `--history` / `--no-history`. */
  readonly history?: boolean | string;
  readonly databaseUrl?: string;
  /** `--allow-anonymous` / `--no-allow-anonymous`. */
  readonly allowAnonymous?: boolean | string;
  readonly acmeEmail?: string;
  readonly acmeDirectory?: string;
  readonly acmeCaFile?: string;
  readonly acmeOnDemandTemporary?: boolean | string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** `--tls self-signed`. */
  readonly tls?: string;
  readonly acmeDnsServer?: string;
  readonly acmeDnsZone?: string;
  readonly acmeDnsTsigKeyName?: string;
  readonly acmeDnsTsigAlgorithm?: string;
  readonly acmeDnsHook?: string;
  /** `--proxy-protocol`. */
  readonly proxyProtocol?: boolean | string;
  readonly proxyProtocolFrom?: string;
  /** `--trust-proxy`: comma-separated addresses and CIDR blocks. */
  readonly trustProxy?: string;
  /** `--otlp-endpoint <url>`: export spans to this OTLP/HTTP receiver. */
  readonly otlpEndpoint?: string;
  readonly metricsListen?: string;
  /** `--metrics-enabled false`. */
  readonly metricsEnabled?: boolean | string;
}

/** Environment variables; `process.env` fits. Only the CLI passes the real one. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadEdgeConfigOptions {
  readonly flags?: EdgeFlags;
  readonly env: Env;
  /** Directory relative paths (config file, dataDir) are resolved against. */
  readonly cwd: string;
}
