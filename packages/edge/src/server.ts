/**
 * The composition root: config -> store, registry, gateway, ingress (with custom domains)
 * on one HTTP listener.
 * `close()` is graceful (agents get GOAWAY, in-flight requests finish, bounded by
 * timeouts.shutdownMs); `destroy()` drops everything at once.
 */

import { performance } from 'node:perf_hooks';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { realTimers, TunnelError, type Timers } from '@burrow/protocol';
import { ControlApi } from './api/control-api.js';
import { requestEvent } from './api/request-view.js';
import type { AcmeCertificates } from './certs/acme/acme-certificates.js';
import { createAcmeCertificates } from './certs/acme/acme-setup.js';
import { http01Responder } from './certs/acme/http01-responder.js';
import type { CertificateBook } from './certs/certificate-book.js';
import { startCertificateSources, type CertificateSources } from './certs/certificate-sources.js';
import { edgeBaseUrl, tunnelUrl, type EdgeConfig } from './config/index.js';
import { DomainRoutes } from './domains/domain-routes.js';
import { DomainVerifier } from './domains/domain-verifier.js';
import { createTxtLookup, type TxtLookup } from './domains/txt-lookup.js';
import { AGENT_PATH, Gateway } from './gateway/gateway.js';
import { TunnelBinder } from './gateway/tunnel-binder.js';
import { loadEdgeSecret } from './edge-secret.js';
import { handleHealth } from './health.js';
import { WarningCookies } from './ingress/anonymous-warning.js';
import { errorPageFor, sendErrorPage } from './ingress/error-page.js';
import type { ExchangeDeps } from './ingress/exchange.js';
import { attachIngress } from './ingress/ingress.js';
import { Janitor } from './janitor.js';
import { createPublicListener } from './listeners/public-listener.js';
import { TrustedProxies } from './listeners/trusted-proxies.js';
import { createLogger, type Logger } from './logger.js';
import { createAccessLog } from './observe/access-log.js';
import { HistoryWriter } from './observe/history-writer.js';
import { RequestFeed } from './observe/request-feed.js';
import { fanOut, type RequestObserver } from './observe/request-observer.js';
import { TunnelStats } from './observe/tunnel-stats.js';
import type { ApiAuthDeps } from './api/api-auth.js';
import { serveMetricsEndpoint } from './api/metrics-endpoint.js';
import { EdgeMetrics } from './observe/edge-metrics.js';
import { METRICS_PATH, MetricsListener, isLoopbackHost } from './observe/metrics-listener.js';
import { MemoryRegistry } from './registry/memory-registry.js';
import { expectTunnelsBack, takeInterruptedNames } from './registry/restart-grace.js';
import { AuthFailures } from './policy/auth-failures.js';
import { createHttpsSide, type HttpsSide, type ListenerCertificates } from './listeners/https-setup.js';
import { PolicyBook } from './policy/index.js';
import { replayRequest, type ReplayDeps } from './ingress/replay.js';
import { newRequestId } from './ingress/request-id.js';
import type { RequestSpanExporter } from './observe/span-exporter.js';
import { startRequestTracing } from './observe/otlp-export.js';
import { openConfiguredStore, SqliteFileWatch, sqliteFileOf, type Store } from './store/index.js';

export interface EdgeServerOptions {
  config: EdgeConfig;
  log?: Logger;
  timers?: Timers;
  /** An already-open store; by default SQLite in config.dataDir. */
  store?: Store;
  /** TXT lookups for custom-domain verification; by default DNS via config.domains.resolver. */
  lookupTxt?: TxtLookup;
  /** Where the HTTPS listener gets certificates instead of the configured sources (tests). */
  certificates?: ListenerCertificates;
}

function isHealthPath(path: string): boolean {
  const bare = path.split('?')[0]!;
  return bare === '/health' || bare.startsWith('/health/');
}

/** Longest `close()` waits for the last spans to reach the collector. */
const SPAN_FLUSH_MS = 5_000;

/** Deadline of one verification TXT lookup, retries included. */
const TXT_LOOKUP_TIMEOUT_MS = 5_000;

export class EdgeServer {
  readonly config: EdgeConfig;
  readonly log: Logger;
  readonly store: Store;
  private readonly server: Server;
  /** Null without config.httpsListen. */
  private readonly httpsSide: HttpsSide | null;
  /** Where the edge listens: `server`, or a PROXY protocol reader in front of it. */
  private readonly listener: NetServer;
  private readonly gateway: Gateway;
  private readonly registry: MemoryRegistry;
  private readonly janitor: Janitor;
  private readonly domainRoutes: DomainRoutes;
  private readonly domainVerifier: DomainVerifier;
  private readonly controlApi: ControlApi;
  /** What `POST /requests/{id}/replay` sends with: the ingress's own routing, observers and timeouts. */
  private replayDeps: ReplayDeps | null = null;
  /** Per-tunnel statistics, fed by finished requests. */
  readonly tunnelStats: TunnelStats;
  /** Live request streams (SSE), fed by finished requests; ended on close. */
  private readonly requestFeed: RequestFeed;
  /** Everything that hears about finished requests (statistics, the live feed). */
  readonly requestObservers: readonly RequestObserver[];
  /**
   * Null with metrics.enabled false. A RequestObserver: the merger adds it to the
   * observers the exchanges report to (beside the history writer and the access log).
   */
  readonly metrics: EdgeMetrics | null;
  /** The `metricsListen` listener; null without one. */
  private metricsListener: MetricsListener | null = null;
  private readonly apiAuth: ApiAuthDeps;
  /** Configured certificate sources; the HTTPS listener selects from `certificates`. */
  private readonly certSources: CertificateSources;
  /**
   * ACME HTTP-01 on demand into the book (the HTTPS listener's `OnDemandCertificates`), or
   * null without `acme.email`.
   */
  readonly acme: AcmeCertificates | null;
  private draining = false;
  /**
   * Request records into the store (`history.enabled`), null when off; `dropped` is what
   * metrics report as records lost to a slow or failing store.
   */
  readonly history: HistoryWriter | null;
  /** Set when the edge opened its own SQLite file: readiness re-checks it is still at its path. */
  private storeFile: SqliteFileWatch | null = null;
  private closing: Promise<void> | null = null;
  /** Span export (`otlp.endpoint`); null when off. */
  private readonly spans: RequestSpanExporter | null;

  private constructor(
    config: EdgeConfig,
    store: Store,
    log: Logger,
    timers: Timers,
    lookupTxt: TxtLookup,
    secret: Uint8Array,
    certSources: CertificateSources,
    certificates: ListenerCertificates | undefined,
    spans: RequestSpanExporter | null,
    metrics: EdgeMetrics | null,
  ) {
    this.config = config;
    this.spans = spans;
    this.metrics = metrics;
    this.certSources = certSources;
    this.store = store;
    this.log = log;
    const { limits, timeouts, tunnels } = config;
    this.registry = new MemoryRegistry({ timers });
    const binder = new TunnelBinder({
      store,
      registry: this.registry,
      reservedNamesPerUser: limits.reservedNamesPerUser,
      // Only named tunnels get a metrics label of their own (temporary names would mint series).
      onBound: (name, kind) => {
        if (kind === 'named') metrics?.admitTunnel(name);
      },
    });
    const policies = new PolicyBook({ clock: timers, secret });
    this.tunnelStats = new TunnelStats({
      clock: timers,
      // Only names an agent serves (or is reconnecting to): random hostnames must not crowd out real tunnels.
      admits: (name) => this.registry.lookup(name) !== undefined || this.registry.graceUntil(name) > 0,
    });
    this.requestFeed = new RequestFeed({
      timers,
      format: requestEvent,
      maxStreamsPerUser: limits.sseStreamsPerUser,
    });
    this.requestObservers = [this.tunnelStats, this.requestFeed];
    // A name changed hands (released, freed, reserved by a new owner): its per-name state starts over.
    const nameReleased = (name: string): void => {
      this.tunnelStats.forget(name);
      metrics?.forgetTunnel(name);
    };
    // One count of wrong API keys per address, whether they were tried on agents or the API.
    const keyFailures = new AuthFailures({ clock: timers });
    this.gateway = new Gateway({
      keyFailures,
      store,
      registry: this.registry,
      binder,
      policies,
      log,
      timers,
      deadPeerMs: timeouts.deadPeerMs,
      quotaLimits: {
        sessionsPerKey: limits.sessionsPerKey,
        tunnelsPerKey: limits.tunnelsPerKey,
        anonymousTunnelsPerIp: tunnels.anonymousTunnelsPerIp,
      },
      urlFor: (name) => tunnelUrl(config, name, this.publicPort),
      settings: {
        allowAnonymous: tunnels.allowAnonymous,
        anonymousRequestsPerSecond: tunnels.anonymousRequestsPerSecond,
        anonymousLifetimeMs: tunnels.anonymousLifetimeMs,
        handshakeMs: timeouts.handshakeMs,
        reconnectGraceMs: timeouts.reconnectGraceMs,
        heartbeatMs: timeouts.heartbeatMs,
        maxStreams: limits.maxStreamsPerSession,
        maxTunnels: limits.maxTunnelsPerSession,
        window: limits.streamWindow,
        maxFramePayload: limits.maxFramePayload,
      },
    });
    this.janitor = new Janitor({
      store,
      registry: this.registry,
      timers,
      log,
      intervalMs: tunnels.janitorIntervalMs,
      retentionMs: tunnels.temporaryRetentionMs,
      history: {
        maxAgeMs: config.history.maxAgeDays * 86_400_000,
        maxPerTunnel: config.history.maxPerTunnel,
      },
      // A freed temporary name starts again from zero for whoever gets it next.
      onFreed: (names) => names.forEach(nameReleased),
    });
    this.domainRoutes = new DomainRoutes({ store, timers, log });
    this.domainVerifier = new DomainVerifier({
      store,
      lookupTxt,
      timers,
      log,
      intervalMs: config.domains.verifyIntervalMs,
      // Every pass reloads routes, which also picks up `domains route` changes made from the CLI.
      onPass: () => this.domainRoutes.reload(),
    });
    this.acme = createAcmeCertificates({
      config,
      store,
      secret,
      sink: certSources.book,
      isLive: (name) => this.registry.lookup(name) !== undefined,
      customHosts: this.domainRoutes,
      timers,
      log,
      onOrder:
        metrics === null
          ? undefined
          : (outcome) =>
              metrics.acmeOrder(
                outcome.kind === 'deferred'
                  ? outcome.reason === 'rate-guard'
                    ? 'rate_guard'
                    : 'locked'
                  : outcome.kind,
              ),
    });
    this.controlApi = new ControlApi({
      store,
      baseDomain: config.domain,
      urlFor: (name) => tunnelUrl(config, name, this.publicPort),
      isOnline: (name) => this.registry.lookup(name) !== undefined,
      stats: this.tunnelStats,
      feed: this.requestFeed,
      liveSessions: (name) => {
        const target = this.registry.lookup(name);
        return target === undefined ? [] : [target.sessionId];
      },
      timers,
      reservedNamesPerUser: limits.reservedNamesPerUser,
      applyStoredPolicy: (name, policy, owner) => this.gateway.applyStoredPolicy(name, policy, owner),
      domainsChanged: () => this.domainRoutes.reload(),
      nameReleased,
      replay: (record, callerAddress, signal) => {
        if (this.replayDeps === null)
          throw new TunnelError('TUN_ERR_GOING_AWAY', 'the edge is still starting');
        return replayRequest(this.replayDeps, record, callerAddress, signal);
      },
      auth: { store, failures: keyFailures, timers },
      log,
    });
    this.history = config.history.enabled
      ? new HistoryWriter({
          store,
          timers,
          log,
          queueMax: config.history.queueMax,
          queueBytes: config.history.queueBytes,
          flushMs: config.history.flushMs,
        })
      : null;
    const observers: RequestObserver[] = [];
    if (this.history !== null) observers.push(this.history);
    observers.push(...this.requestObservers);
    const accessLog = createAccessLog(config.accessLog, log);
    if (accessLog !== null) observers.push(accessLog);
    if (spans !== null) observers.push(spans);
    if (metrics !== null) observers.push(metrics);
    const observer = fanOut(observers, (err) => log.error({ err }, 'request observer failed'));
    // Refusals made before an exchange are logged, counted and kept in statistics, but never
    // stored or streamed: a flood the edge's limits hold off must not push real requests out.
    const refusalObserver = fanOut(
      [this.tunnelStats, ...(accessLog === null ? [] : [accessLog]), ...(metrics === null ? [] : [metrics])],
      (err) => log.error({ err }, 'request observer failed'),
    );
    this.apiAuth = { store, failures: keyFailures, timers };
    metrics?.watch({
      sessions: () => this.gateway.sessionCount,
      tunnels: () => this.registry.names().length,
      activeStreams: () => this.gateway.streamCount,
      waitingRequests: () => this.registry.waiting,
      ...(this.history === null ? {} : { historyDropped: () => this.history?.dropped ?? 0 }),
    });
    this.server = createServer({
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: timeouts.headersMs,
      // Node checks headersTimeout on this interval (default 30 s); check often enough to enforce it.
      connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
      keepAliveTimeout: 5_000,
      noDelay: true,
      // The ingress answers a missing Host itself, with the error page and its stable code.
      requireHostHeader: false,
    });
    const recordOptions = {
      keepQuery: config.history.keepQuery,
      redactHeaders: new Set(config.history.redactHeaders.map((name) => name.toLowerCase())),
    };
    const proxy: ExchangeDeps = {
      registry: this.registry,
      policies,
      timers,
      tunnelExists: async (name) => (await store.getTunnel(name)) !== undefined,
      maxPendingRequests: limits.maxPendingRequests,
      // For requests on the plain listener; those over TLS are https whatever this says.
      proto: config.httpsListen === null ? config.publicUrl.scheme : 'http',
      hsts: config.hstsMaxAgeS > 0 ? `max-age=${config.hstsMaxAgeS}` : null,
      requestTimeoutMs: timeouts.requestMs,
      bodyIdleMs: timeouts.bodyIdleMs,
      responseIdleMs: timeouts.responseIdleMs,
      anonymousWarning: tunnels.anonymousWarning,
      warningCookies: new WarningCookies(secret),
      newRequestId: () => newRequestId(),
      observer,
      recordOptions,
      // New traces are sampled when their spans go somewhere; the origin is told either way.
      sampleNewTraces: spans !== null,
    };
    // A replay goes the way a viewer's request does, with the public URL's scheme and a stopwatch of its own.
    this.replayDeps = { ...proxy, proto: config.publicUrl.scheme, stopwatch: () => performance.now() };
    const ingress = attachIngress(this.server, {
      refusalObserver,
      domain: config.domain,
      customHosts: this.domainRoutes,
      maxUrlBytes: limits.maxUrlBytes,
      maxHeaderCount: limits.maxHeaderCount,
      connectionsPerIp: limits.connectionsPerIp,
      requestsPerSecondPerIp: limits.requestsPerSecondPerIp,
      trustedProxies: TrustedProxies.parse(config.proxy.trust),
      onError: (err) => log.error({ err }, 'ingress error'),
      acmeChallenge: http01Responder(store, (err) => log.error({ err }, 'ACME challenge lookup failed')),
      httpsRedirect:
        config.httpsListen === null
          ? undefined
          : { mode: config.httpsRedirect, port: () => this.httpsPublicPort },
      proxy,
      edge: {
        request: (req, res, path) => this.edgeRequest(req, res, path),
        upgrade: (req, socket, head, path) => this.edgeUpgrade(req, socket, head, path),
        // Load balancers and orchestrators poll these; throttling them would look like an outage.
        unlimited: isHealthPath,
      },
    });
    this.listener = createPublicListener(this.server, config.proxy, { timers, log });
    this.httpsSide = createHttpsSide(config, {
      http1: this.server,
      ingress,
      // A name the book has no certificate for may get one on demand (ACME HTTP-01), when the edge serves it.
      certificates: certificates ?? { selector: certSources.book, onDemand: this.acme ?? undefined },
      timers,
      log,
    });
  }

  /** Opens the store, restores reconnect grace for names live before a restart, listens. */
  static async start(options: EdgeServerOptions): Promise<EdgeServer> {
    const { config } = options;
    const timers = options.timers ?? realTimers;
    const log = options.log ?? createLogger(config.log.level);
    // First: an unusable certificate file stops the start with its reason, before anything opens.
    const certSources = await startCertificateSources(config, { log, timers });
    // Before the store opens: a tracing SDK that cannot load stops the start with nothing to close but these.
    const tracing = await startRequestTracing(config.otlp, { log, timers }).catch((err: unknown) => {
      certSources.stop();
      throw err;
    });
    // Made before the store opens, so its queries are timed from the first.
    const metrics = config.metrics.enabled
      ? new EdgeMetrics({ maxTunnelSeries: config.metrics.maxTunnelSeries })
      : null;
    const store =
      options.store ??
      (await openConfiguredStore(
        config,
        metrics === null ? undefined : (ms, failed) => metrics.storeQuery(ms, failed),
        log,
      ));
    const file = options.store ? null : sqliteFileOf(config);
    const storeFile =
      file === null
        ? null
        : new SqliteFileWatch({
            file,
            timers,
            onChange: (problem) =>
              problem === null
                ? log.info({ file }, 'store file is back at its path')
                : log.error({ code: problem.code, file }, problem.message),
          });
    const interrupted = await takeInterruptedNames(store);
    const lookupTxt =
      options.lookupTxt ??
      createTxtLookup({ servers: config.domains.resolver, timeoutMs: TXT_LOOKUP_TIMEOUT_MS, timers });
    const edge = new EdgeServer(
      config,
      store,
      log,
      timers,
      lookupTxt,
      await loadEdgeSecret(config.dataDir),
      certSources,
      options.certificates,
      tracing,
      metrics,
    );
    // Verified domains route from the first request after a restart, not after the first pass.
    await edge.domainRoutes.reload();
    // Certificates from the store are served from the first handshake.
    await edge.acme?.loadStored();
    // The DNS-01 wildcard (when configured) may take minutes to order: in the background, logged.
    void edge.acme?.obtainWildcard();
    // Agents of names live when the edge went down (cleanly or not) will reconnect: let requests wait.
    await expectTunnelsBack({ store, registry: edge.registry, now: timers.now() }, interrupted, {
      graceMs: config.timeouts.reconnectGraceMs,
      shutdownMs: config.timeouts.shutdownMs,
    });
    await new Promise<void>((resolve, reject) => {
      edge.listener.once('error', reject);
      edge.listener.listen(config.listen.port, config.listen.host, () => {
        edge.listener.off('error', reject);
        resolve();
      });
    });
    if (edge.httpsSide !== null && config.httpsListen !== null)
      await edge.httpsSide.listener.listen(config.httpsListen.port, config.httpsListen.host);
    if (metrics !== null && config.metricsListen !== null) {
      const { host, port } = config.metricsListen;
      edge.metricsListener = await MetricsListener.start({
        host,
        port,
        render: () => metrics.render(),
        onError: (err) => log.error({ err }, 'rendering metrics failed'),
      }).catch((err: unknown) => {
        edge.destroy();
        throw new TunnelError(
          'TUN_ERR_CONFIG_INVALID',
          `metricsListen: cannot listen on ${host}:${port} (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose a free address or unset it`,
          { cause: err },
        );
      });
      if (!isLoopbackHost(host))
        log.warn(
          { host, port },
          'metricsListen is not loopback: anyone who reaches it reads /metrics without a key',
        );
    }
    edge.storeFile = storeFile;
    storeFile?.start();
    edge.janitor.start();
    edge.acme?.start();
    edge.domainVerifier.start();
    log.info(
      {
        url: edge.url,
        port: edge.port,
        httpsPort: edge.httpsPort ?? undefined,
        metricsPort: edge.metricsPort ?? undefined,
        domain: config.domain,
        dataDir: config.dataDir,
      },
      `burrow-edge listening on ${edge.url}; expose a local port with: npx burrow http 3000 --server ${edge.url}`,
    );
    return edge;
  }

  /** Every certificate the edge can serve, chosen by SNI (`select`); sources install into it. */
  get certificates(): CertificateBook {
    return this.certSources.book;
  }

  get port(): number {
    return (this.listener.address() as AddressInfo | null)?.port ?? this.config.listen.port;
  }

  /** The HTTPS listener's port; null without one. */
  get httpsPort(): number | null {
    return this.httpsSide?.listener.port ?? null;
  }

  /** The `metricsListen` listener's port; null without one. */
  get metricsPort(): number | null {
    return this.metricsListener?.port ?? null;
  }

  /** The HTTPS port viewers use: the printed one when URLs are https, else the listener's. */
  private get httpsPublicPort(): number {
    const { scheme, port } = this.config.publicUrl;
    return (scheme === 'https' ? port : null) ?? this.httpsPort ?? 443;
  }

  /** The port printed URLs carry: the HTTPS listener's when they are https and there is one. */
  private get publicPort(): number {
    return this.config.publicUrl.scheme === 'https' ? (this.httpsPort ?? this.port) : this.port;
  }

  /** The edge's own base URL as agents and people reach it. */
  get url(): string {
    return edgeBaseUrl(this.config, this.publicPort);
  }

  /** Graceful shutdown; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  destroy(): void {
    this.draining = true;
    this.requestFeed.close();
    this.storeFile?.stop();
    this.certSources.stop();
    this.gateway.destroy();
    this.httpsSide?.listener.destroy();
    this.httpsSide?.http2.destroy();
    void this.metricsListener?.close();
    this.server.closeAllConnections();
    this.server.close();
    if (this.listener !== this.server) this.listener.close();
    // Sessions record their end in the store as they close: close it after them.
    void Promise.all([
      this.janitor.stop(),
      this.domainVerifier.stop(),
      this.acme?.stop(),
      this.gateway.settled(),
      // Nothing waits for queued records here: what is not written at once is counted as dropped.
      this.history?.close(0),
    ]).then(() => this.store.close());
    void this.spans?.close(0);
  }

  private async shutdown(): Promise<void> {
    this.draining = true;
    this.storeFile?.stop();
    this.certSources.stop();
    this.log.info('shutting down: agents get GOAWAY, in-flight requests may finish');
    // Live request streams never finish on their own: end them so connections can close.
    this.requestFeed.close();
    const listening = Promise.all([
      new Promise<void>((resolve) => this.listener.close(() => resolve())),
      this.httpsSide?.listener.close(),
    ]);
    if (this.listener !== this.server) this.server.close();
    // Like the plain listener: the agents' drain, then 1 s more before connections are cut.
    this.httpsSide?.http2.close(this.config.timeouts.shutdownMs + 1_000);
    await this.gateway.close(this.config.timeouts.shutdownMs);
    this.server.closeIdleConnections();
    const forced = setTimeout(() => this.server.closeAllConnections(), 1_000).unref();
    await listening;
    clearTimeout(forced);
    // Scrapes are answered until the rest has drained, so the last ones still see the edge.
    await this.metricsListener?.close();
    await Promise.all([this.janitor.stop(), this.domainVerifier.stop(), this.acme?.stop()]);
    // The records of the requests just drained, before the store they go to closes.
    await this.history?.close();
    // In-flight requests are done: their spans go out now, within a bounded wait.
    await this.spans?.close(SPAN_FLUSH_MS);
    await this.store.close();
    this.log.info('stopped');
    this.log.flush();
  }

  private edgeRequest(req: IncomingMessage, res: ServerResponse, path: string): void {
    const handled = handleHealth(path, res, {
      draining: () => this.draining,
      storeProblem: async () => {
        const replaced = this.storeFile?.check() ?? null;
        if (replaced !== null) return replaced;
        await this.store.listSessions({ limit: 1 });
        return null;
      },
      sessions: () => this.gateway.sessionCount,
      tunnels: () => this.registry.names().length,
    });
    if (handled) return;
    if (ControlApi.owns(path)) {
      this.controlApi.handle(req, res, path);
      return;
    }
    const metrics = this.metrics;
    if (metrics !== null && path.split('?')[0] === METRICS_PATH) {
      serveMetricsEndpoint(req, res, { auth: this.apiAuth, render: () => metrics.render(), log: this.log });
      return;
    }
    if (path === '/' || path.startsWith('/?')) {
      const body =
        `burrow-edge at ${this.url}\n\n` +
        `Expose a local service:  npx burrow http 3000 --server ${this.url}\n` +
        `Tunnels are served at    ${tunnelUrl(this.config, '<name>', this.publicPort)}\n` +
        `or, without wildcard DNS ${this.url}/t/<name>/\n`;
      res.writeHead(200, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    const err = new TunnelError('TUN_ERR_NOT_FOUND', `nothing at ${path} on this edge`);
    sendErrorPage(res, errorPageFor(err, 'Not found'), req.headers.accept);
  }

  private edgeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean {
    if (path.split('?')[0] !== AGENT_PATH) return false;
    this.gateway.handleUpgrade(req, socket, head);
    return true;
  }
}
