/**
 * The edge's settings schema: every setting, its default, its bounds and how env and CLI
 * name it. Env names are derived from the keys (see setting-list.ts); only exceptions are
 * spelled out here. Parses the merged raw layers into the shape of `EdgeConfig`.
 */
import * as z from 'zod';
import { VIEWER_HEAD_LIMITS } from '@burrow/protocol';
import { isIP } from 'node:net';
import { acmeDnsSettings } from './acme-dns-schema.js';
import { CIDR_LIST_REQUIREMENT, parseCidrList } from './cidr-list.js';
import { DNS_SERVERS_REQUIREMENT, parseDnsServers } from './dns-servers.js';
import {
  ACCESS_LOG_FORMATS,
  DEFAULT_REDACT_HEADERS,
  HTTPS_REDIRECTS,
  LOG_LEVELS,
  PUBLIC_SCHEMES,
  TLS_GENERATE,
} from './edge-config.js';
import { HEADER_NAME_LIST_REQUIREMENT, parseHeaderNameList } from './header-name-list.js';
import { isHostname } from './hostname.js';
import { parseListenAddress, LISTEN_REQUIREMENT, LOOPBACK_HOST } from './listen-address.js';
import {
  boolSetting,
  enumSetting,
  group,
  intSetting,
  msSetting,
  parsedBy,
  withMeta,
} from './setting-schema.js';

const DOMAIN_REQUIREMENT = 'a host name such as localhost or tunnel.example.com (not an IP address)';
const ACME_EMAIL_REQUIREMENT =
  'an e-mail address such as ops@example.com (leave unset to order no certificates)';
const ACME_DIRECTORY_REQUIREMENT = 'an https:// URL of an ACME (RFC 8555) directory';
/** Let's Encrypt production; its staging is https://acme-staging-v02.api.letsencrypt.org/directory. */
export const DEFAULT_ACME_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
const OTLP_ENDPOINT_REQUIREMENT =
  'an http:// or https:// URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (leave unset to export no spans)';
const DATABASE_URL_REQUIREMENT = 'a postgres:// or postgresql:// URL (leave unset for SQLite in dataDir)';

function listenAddress(bareHost?: string) {
  return z.string({ error: LISTEN_REQUIREMENT }).transform(
    parsedBy(
      (text: string) => parseListenAddress(text, bareHost),
      (parsed) => parsed.address,
    ),
  );
}

const listen = listenAddress().prefault('0.0.0.0:8080');
const httpsListen = listenAddress().nullable().default(null);

const domain = z
  .string({ error: DOMAIN_REQUIREMENT })
  .trim()
  .toLowerCase()
  // Tunnels live at <name>.<domain>, which is meaningless under an IP address.
  .refine((text) => isIP(text) === 0 && isHostname(text), { error: DOMAIN_REQUIREMENT })
  .default('localhost');

/** A file path; readability is checked once the whole config is known (tls-files.ts). New per setting: meta is per schema object. */
function optionalFile() {
  return z.string({ error: 'a file path' }).trim().min(1, { error: 'a file path' }).nullable().default(null);
}

const redactHeaders = z
  .union([z.string(), z.array(z.string())], { error: HEADER_NAME_LIST_REQUIREMENT })
  .transform(parsedBy(parseHeaderNameList, (parsed) => parsed.names))
  .prefault(DEFAULT_REDACT_HEADERS.join(','));

const dnsServers = z
  .union([z.string(), z.array(z.string())], { error: DNS_SERVERS_REQUIREMENT })
  .transform(parsedBy(parseDnsServers, (parsed) => parsed.servers))
  .prefault('');

function cidrList() {
  return z
    .union([z.string(), z.array(z.string())], { error: CIDR_LIST_REQUIREMENT })
    .transform(parsedBy(parseCidrList, (parsed) => parsed.entries))
    .prefault('');
}

function isPostgresUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const { protocol } = new URL(text);
  return protocol === 'postgres:' || protocol === 'postgresql:';
}

export const edgeConfigSchema = z.strictObject(
  {
    listen: withMeta(listen, { flag: 'listen' }),
    // null: no HTTPS listener. Certificates come from the certificate sources (certs/).
    httpsListen: withMeta(httpsListen, { flag: 'httpsListen' }),
    // What the plain listener sends to HTTPS: tunnel hosts, also the edge's own host, or nothing.
    httpsRedirect: withMeta(enumSetting(HTTPS_REDIRECTS, 'tunnels'), { flag: 'httpsRedirect' }),
    // 0 = no Strict-Transport-Security header.
    hstsMaxAgeS: withMeta(intSetting(0, 0, 63_072_000), { flag: 'hsts' }),
    domain: withMeta(domain, { flag: 'domain' }),
    publicUrl: withMeta(
      group({
        // null: https when httpsListen is set, else http (resolved by loadEdgeConfig).
        scheme: withMeta(
          z
            .enum(PUBLIC_SCHEMES, { error: `one of ${PUBLIC_SCHEMES.join(', ')}` })
            .nullable()
            .default(null),
          { flag: 'publicScheme' },
        ),
        port: withMeta(
          z
            .number({ error: 'an integer from 1 to 65535 (leave unset to print the listen port)' })
            .int()
            .min(1)
            .max(65535)
            .nullable()
            .default(null),
          { flag: 'publicPort' },
        ),
      }),
      { envSegment: 'PUBLIC' },
    ),
    dataDir: withMeta(z.string({ error: 'a directory path' }).min(1).default('./data'), { flag: 'data' }),
    databaseUrl: withMeta(
      z
        .string({ error: DATABASE_URL_REQUIREMENT })
        .refine(isPostgresUrl, { error: DATABASE_URL_REQUIREMENT })
        .nullable()
        .default(null),
      // DATABASE_URL is what hosting platforms set; BURROW_DATABASE_URL overrides it.
      { flag: 'databaseUrl', envAliases: ['DATABASE_URL'], secret: true },
    ),
    log: group({
      level: withMeta(enumSetting(LOG_LEVELS, 'info'), { flag: 'logLevel' }),
    }),
    // One line per tunnel request at info: a pino JSON line, the Apache/nginx combined format, or none.
    accessLog: withMeta(enumSetting(ACCESS_LOG_FORMATS, 'json'), { flag: 'accessLog' }),
    // Request records into the store (observe/history-writer.ts), batched off the data path.
    history: group({
      enabled: withMeta(boolSetting(true), { flag: 'history' }),
      // Records waiting for the store; beyond this they are dropped and counted, never buffered.
      queueMax: intSetting(10_000, 1, 1_000_000),
      // Captured bodies waiting for the store, bytes; beyond it a record keeps only its headers.
      queueBytes: intSetting(64 * 1024 * 1024, 0, 4 * 1024 * 1024 * 1024),
      flushMs: msSetting(250, 10),
      keepQuery: boolSetting(true),
      redactHeaders,
      // Retention, applied by the janitor: by age, then by count per tunnel.
      maxAgeDays: intSetting(7, 1, 3650),
      maxPerTunnel: intSetting(10_000, 1, 10_000_000),
    }),
    limits: group({
      // Bounded by the protocol's head limits: whatever the edge accepts is representable in OPEN.
      maxHeaderBytes: intSetting(16_384, 1024, VIEWER_HEAD_LIMITS.maxBytes),
      maxHeaderCount: intSetting(500, 1, VIEWER_HEAD_LIMITS.maxFields),
      maxUrlBytes: intSetting(8192, 256, 1_048_576),
      maxStreamsPerSession: intSetting(1000, 1, 1_000_000),
      // The frame length field is u32, but one frame is held whole in memory; 16 MiB bounds that.
      maxFramePayload: intSetting(262_144, 1024, 16_777_216),
      // Windows are signed 31-bit in most mux designs (yamux, HTTP/2); stay inside that.
      streamWindow: intSetting(4_194_304, 1024, 2_147_483_647),
      maxTunnelsPerSession: intSetting(20, 1, 10_000),
      sessionsPerKey: intSetting(10, 1, 100_000),
      tunnelsPerKey: intSetting(50, 1, 1_000_000),
      // Stored names outlive sessions, so they get their own cap (per user, across all keys).
      reservedNamesPerUser: intSetting(50, 1, 1_000_000),
      // 0 is allowed: requests for an offline agent then fail at once instead of waiting.
      maxPendingRequests: intSetting(1000, 0, 1_000_000),
      // Browsers open about 6 connections per host; 256 leaves room for NAT-shared addresses.
      connectionsPerIp: intSetting(256, 1, 1_000_000),
      // 0 turns the edge-wide request rate limit off (per-tunnel --rate-limit still applies).
      requestsPerSecondPerIp: intSetting(1000, 0, 1_000_000),
      // TLS handshakes in progress from one address; the CPU-heavy part of a connection.
      tlsHandshakesPerIp: intSetting(64, 1, 1_000_000),
      // Concurrent HTTP/2 streams per viewer connection (SETTINGS_MAX_CONCURRENT_STREAMS).
      http2MaxStreams: intSetting(250, 1, 10_000),
      // Live request streams (SSE) one user may hold open on the control API.
      sseStreamsPerUser: intSetting(5, 1, 1000),
    }),
    timeouts: group({
      handshakeMs: msSetting(10_000, 100),
      requestMs: msSetting(60_000, 100),
      reconnectGraceMs: msSetting(10_000, 0),
      heartbeatMs: msSetting(10_000, 100),
      deadPeerMs: msSetting(30_000, 100),
      shutdownMs: msSetting(10_000, 0),
      headersMs: msSetting(30_000, 100),
      bodyIdleMs: msSetting(60_000, 100),
      // 5 minutes of no bytes at all: SSE and long polls with any heartbeat never get near it.
      responseIdleMs: msSetting(300_000, 100),
      // A TLS handshake (on-demand certificate wait included) must finish within this.
      tlsHandshakeMs: msSetting(10_000, 100),
    }),
    tunnels: group({
      // Compared against stored timestamps, never fed to a timer, so it may exceed MAX_TIMER_MS.
      temporaryRetentionMs: intSetting(86_400_000, 0),
      allowAnonymous: withMeta(boolSetting(true), { flag: 'allowAnonymous' }),
      anonymousTunnelsPerIp: intSetting(5, 0, 100_000),
      // 0 = off. Applied per client address to each anonymous tunnel that sets no rate itself.
      anonymousRequestsPerSecond: intSetting(0, 0, 100_000),
      // 0 = no limit. Counted from when the temporary name was first claimed.
      anonymousLifetimeMs: msSetting(28_800_000, 0),
      anonymousWarning: boolSetting(false),
      janitorIntervalMs: msSetting(60_000, 1000),
    }),
    domains: group({
      resolver: dnsServers,
      // Each pass queries DNS for every pending domain (bounded per pass); faster than 1 s is a flood.
      verifyIntervalMs: msSetting(30_000, 1000),
    }),
    tls: group({
      // A pair, typically the wildcard for the domain; both or neither (tls-files.ts).
      certFile: withMeta(optionalFile(), { flag: 'tlsCert' }),
      keyFile: withMeta(optionalFile(), { flag: 'tlsKey' }),
      // `--tls self-signed`: a development CA in dataDir/tls and a leaf for the domain.
      generate: withMeta(enumSetting(TLS_GENERATE, 'off'), { flag: 'tls' }),
    }),
    acme: group({
      // Unset: no ACME orders at all (the HTTP-01 responder still answers tokens in the store).
      email: withMeta(z.email({ error: ACME_EMAIL_REQUIREMENT }).nullable().default(null), {
        flag: 'acmeEmail',
      }),
      directory: withMeta(
        z.url({ protocol: /^https$/, error: ACME_DIRECTORY_REQUIREMENT }).default(DEFAULT_ACME_DIRECTORY),
        { flag: 'acmeDirectory' },
      ),
      caFile: withMeta(z.string({ error: 'a path to a PEM file' }).min(1).nullable().default(null), {
        flag: 'acmeCaFile',
      }),
      // Let's Encrypt allows 300 new orders per 3 h per account: 20/h keeps renewals of
      // every edge sharing the account well inside it.
      ordersPerHour: intSetting(20, 1, 10_000),
      // Let's Encrypt allows 50 certificates per registered domain per week.
      ordersPerDomainPerWeek: intSetting(20, 1, 10_000),
      // HTTP-01 orders of their own for temporary (not reserved) tunnels: off, so anonymous
      // tunnels cannot use up the per-domain budget reserved names renew from.
      onDemandTemporary: withMeta(boolSetting(false), { flag: 'acmeOnDemandTemporary' }),
      // How long a TLS handshake waits for an order in flight before going on without it.
      waitMs: msSetting(60_000, 0),
      renewIntervalMs: msSetting(3_600_000, 1000),
      dns: acmeDnsSettings,
    }),
    // Prometheus `/metrics` on an address of its own (null: only on the edge's host, admin key).
    metricsListen: withMeta(listenAddress(LOOPBACK_HOST).nullable().default(null), { flag: 'metricsListen' }),
    metrics: group({
      // Off: no metrics object, no observer, no /metrics anywhere (no cost on the data path).
      enabled: withMeta(boolSetting(true), { flag: 'metricsEnabled' }),
      // Named tunnels with a `tunnel` label of their own; the rest share `_other`.
      maxTunnelSeries: intSetting(1000, 0, 100_000),
    }),
    proxy: group({
      protocol: withMeta(boolSetting(false), { flag: 'proxyProtocol' }),
      // Empty: every peer must send the header (the port is reachable only through the balancer).
      protocolFrom: withMeta(cidrList(), { flag: 'proxyProtocolFrom' }),
      headerTimeoutMs: msSetting(5_000, 100),
      trust: withMeta(cidrList(), { flag: 'trustProxy' }),
    }),
    // Span export over OTLP/HTTP (observe/otlp-export.ts); off without an endpoint.
    otlp: group({
      endpoint: withMeta(
        z
          .url({ protocol: /^https?$/, error: OTLP_ENDPOINT_REQUIREMENT })
          .nullable()
          .default(null),
        { flag: 'otlpEndpoint' },
      ),
      serviceName: z
        .string({ error: 'a service name (1 to 255 characters)' })
        .trim()
        .min(1)
        .max(255)
        .default('burrow-edge'),
      // Spans waiting for the collector; beyond this they are dropped (the SDK's default size).
      maxQueue: intSetting(2048, 1, 1_000_000),
    }),
  },
  { error: 'a mapping of settings' },
);

export type EdgeConfigInput = z.input<typeof edgeConfigSchema>;
