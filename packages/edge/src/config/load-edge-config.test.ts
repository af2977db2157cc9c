import { join } from 'node:path';
import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import type { EdgeFlags, Env } from './edge-config.js';
import { loadEdgeConfig } from './load-edge-config.js';
import { useScratchDir } from '../../../../test/support/scratch-dir.js';

const scratch = useScratchDir('burrow-edge-config-');
const writeFile = scratch.write;

function load(opts: { flags?: EdgeFlags; env?: Env } = {}) {
  return loadEdgeConfig({ flags: opts.flags ?? {}, env: opts.env ?? {}, cwd: scratch.path });
}

/** The message of the TunnelError thrown, failing the test when nothing or something else is thrown. */
function failure(opts: { flags?: EdgeFlags; env?: Env } = {}): string {
  try {
    load(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_CONFIG_INVALID');
    return (err as TunnelError).message;
  }
  throw new Error('expected loadEdgeConfig to throw');
}

describe('loadEdgeConfig defaults', () => {
  it('fills every setting when no layer sets anything', () => {
    const config = load();
    expect(config).toEqual({
      listen: { host: '0.0.0.0', port: 8080 },
      httpsListen: null,
      httpsRedirect: 'tunnels',
      hstsMaxAgeS: 0,
      domain: 'localhost',
      publicUrl: { scheme: 'http', port: null },
      dataDir: join(scratch.path, 'data'),
      databaseUrl: null,
      log: { level: 'info' },
      accessLog: 'json',
      history: {
        enabled: true,
        queueMax: 10000,
        queueBytes: 67108864,
        flushMs: 250,
        keepQuery: true,
        redactHeaders: ['authorization', 'cookie', 'set-cookie', 'proxy-authorization'],
        maxAgeDays: 7,
        maxPerTunnel: 10000,
      },
      limits: {
        maxHeaderBytes: 16384,
        maxHeaderCount: 500,
        maxUrlBytes: 8192,
        maxStreamsPerSession: 1000,
        maxFramePayload: 262144,
        streamWindow: 4194304,
        maxTunnelsPerSession: 20,
        sessionsPerKey: 10,
        tunnelsPerKey: 50,
        reservedNamesPerUser: 50,
        maxPendingRequests: 1000,
        connectionsPerIp: 256,
        requestsPerSecondPerIp: 1000,
        tlsHandshakesPerIp: 64,
        http2MaxStreams: 250,
        sseStreamsPerUser: 5,
      },
      timeouts: {
        handshakeMs: 10000,
        requestMs: 60000,
        reconnectGraceMs: 10000,
        heartbeatMs: 10000,
        deadPeerMs: 30000,
        shutdownMs: 10000,
        headersMs: 30000,
        bodyIdleMs: 60000,
        responseIdleMs: 300000,
        tlsHandshakeMs: 10000,
      },
      tunnels: {
        temporaryRetentionMs: 86400000,
        allowAnonymous: true,
        anonymousTunnelsPerIp: 5,
        anonymousRequestsPerSecond: 0,
        anonymousLifetimeMs: 28_800_000,
        anonymousWarning: false,
        janitorIntervalMs: 60000,
      },
      domains: { resolver: [], verifyIntervalMs: 30000 },
      tls: { certFile: null, keyFile: null, generate: 'off' },
      acme: {
        email: null,
        directory: 'https://acme-v02.api.letsencrypt.org/directory',
        caFile: null,
        ordersPerHour: 20,
        ordersPerDomainPerWeek: 20,
        onDemandTemporary: false,
        waitMs: 60000,
        renewIntervalMs: 3600000,
        dns: {
          server: null,
          zone: null,
          tsigKeyName: null,
          tsigAlgorithm: 'hmac-sha256',
          tsigSecret: null,
          propagationTimeoutMs: 120000,
          hook: null,
          hookTimeoutMs: 180000,
        },
      },
      metricsListen: null,
      metrics: { enabled: true, maxTunnelSeries: 1000 },
      proxy: { protocol: false, protocolFrom: [], headerTimeoutMs: 5000, trust: [] },
      otlp: { endpoint: null, serviceName: 'burrow-edge', maxQueue: 2048 },
    });
  });

  it('returns a deeply frozen object', () => {
    const config = load();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
    expect(Object.isFrozen(config.listen)).toBe(true);
  });

  it('resolves dataDir against cwd and keeps absolute paths', () => {
    expect(load({ flags: { data: 'state' } }).dataDir).toBe(join(scratch.path, 'state'));
    expect(load({ flags: { data: '/var/lib/burrow' } }).dataDir).toBe('/var/lib/burrow');
  });
});

describe('loadEdgeConfig layer precedence', () => {
  it('file beats defaults, env beats file, flags beat env', () => {
    const file = writeFile(
      'layers.yml',
      'domain: file.example.com\nlisten: "127.0.0.1:1000"\nlog:\n  level: warn\n',
    );
    const fileOnly = load({ flags: { config: file } });
    expect(fileOnly.domain).toBe('file.example.com');
    expect(fileOnly.listen).toEqual({ host: '127.0.0.1', port: 1000 });
    expect(fileOnly.log.level).toBe('warn');

    const withEnv = load({ flags: { config: file }, env: { BURROW_DOMAIN: 'env.example.com' } });
    expect(withEnv.domain).toBe('env.example.com');
    expect(withEnv.listen.port).toBe(1000);

    const withFlag = load({
      flags: { config: file, domain: 'flag.example.com' },
      env: { BURROW_DOMAIN: 'env.example.com', BURROW_LISTEN: ':2000' },
    });
    expect(withFlag.domain).toBe('flag.example.com');
    expect(withFlag.listen).toEqual({ host: '0.0.0.0', port: 2000 });
    expect(withFlag.log.level).toBe('warn');
  });

  it('reads nested settings from env by their derived names', () => {
    const config = load({
      env: {
        BURROW_TIMEOUTS_RECONNECT_GRACE_MS: '2500',
        BURROW_LIMITS_STREAM_WINDOW: '262144',
        BURROW_TUNNELS_ALLOW_ANONYMOUS: 'false',
        BURROW_PUBLIC_SCHEME: 'https',
        BURROW_PUBLIC_PORT: '443',
        BURROW_LOG_LEVEL: 'debug',
      },
    });
    expect(config.timeouts.reconnectGraceMs).toBe(2500);
    expect(config.limits.streamWindow).toBe(262144);
    expect(config.tunnels.allowAnonymous).toBe(false);
    expect(config.publicUrl).toEqual({ scheme: 'https', port: 443 });
    expect(config.log.level).toBe('debug');
  });

  it('reads the custom-domain resolver as a comma string from env or a list from the file', () => {
    const fromEnv = load({
      env: { BURROW_DOMAINS_RESOLVER: '127.0.0.1:5353, [::1]:53', BURROW_DOMAINS_VERIFY_INTERVAL_MS: '5000' },
    });
    expect(fromEnv.domains).toEqual({ resolver: ['127.0.0.1:5353', '[::1]:53'], verifyIntervalMs: 5000 });
    const file = writeFile('domains.json', JSON.stringify({ domains: { resolver: ['9.9.9.9'] } }));
    expect(load({ flags: { config: file } }).domains.resolver).toEqual(['9.9.9.9']);
    expect(failure({ env: { BURROW_DOMAINS_RESOLVER: 'dns.example.org' } })).toContain(
      'domains.resolver (from env BURROW_DOMAINS_RESOLVER) must be a list',
    );
  });

  it('lets env override one nested setting without losing its siblings from the file', () => {
    const file = writeFile(
      'nested.json',
      JSON.stringify({ timeouts: { heartbeatMs: 5000, requestMs: 1234 } }),
    );
    const config = load({ flags: { config: file }, env: { BURROW_TIMEOUTS_HEARTBEAT_MS: '7000' } });
    expect(config.timeouts.heartbeatMs).toBe(7000);
    expect(config.timeouts.requestMs).toBe(1234);
    expect(config.timeouts.deadPeerMs).toBe(30000);
  });

  it('takes the config path from BURROW_CONFIG, relative to cwd, and --config over it', () => {
    writeFile('from-env.yaml', 'domain: env-file.example.com\n');
    writeFile('from-flag.yaml', 'domain: flag-file.example.com\n');
    expect(load({ env: { BURROW_CONFIG: 'from-env.yaml' } }).domain).toBe('env-file.example.com');
    expect(
      load({ flags: { config: 'from-flag.yaml' }, env: { BURROW_CONFIG: 'from-env.yaml' } }).domain,
    ).toBe('flag-file.example.com');
  });

  it('reads DATABASE_URL, with BURROW_DATABASE_URL winning over it and the flag over both', () => {
    const plain = 'postgres://db.internal/burrow';
    expect(load({ env: { DATABASE_URL: plain } }).databaseUrl).toBe(plain);
    const specific = 'postgresql://db2.internal/burrow';
    expect(load({ env: { DATABASE_URL: plain, BURROW_DATABASE_URL: specific } }).databaseUrl).toBe(specific);
    const flag = 'postgres://db3.internal/burrow';
    expect(
      load({ flags: { databaseUrl: flag }, env: { DATABASE_URL: plain, BURROW_DATABASE_URL: specific } })
        .databaseUrl,
    ).toBe(flag);
  });

  it('treats empty env variables as unset', () => {
    expect(load({ env: { BURROW_DOMAIN: '', BURROW_PUBLIC_PORT: '  ' } })).toMatchObject({
      domain: 'localhost',
      publicUrl: { port: null },
    });
  });

  it('accepts the CLI flags it documents', () => {
    const config = load({
      flags: { listen: '[::1]:0', publicScheme: 'https', publicPort: '8443', logLevel: 'trace' },
    });
    expect(config.listen).toEqual({ host: '::1', port: 0 });
    expect(config.publicUrl).toEqual({ scheme: 'https', port: 8443 });
    expect(config.log.level).toBe('trace');
  });

  it('prints https URLs by default once an HTTPS listener is set, unless the scheme is set', () => {
    const https = load({ flags: { httpsListen: '127.0.0.1:8443', httpsRedirect: 'all', hsts: '3600' } });
    expect(https.httpsListen).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(https.publicUrl.scheme).toBe('https');
    expect(https.httpsRedirect).toBe('all');
    expect(https.hstsMaxAgeS).toBe(3600);
    expect(load({ flags: { httpsListen: ':8443', publicScheme: 'http' } }).publicUrl.scheme).toBe('http');
    expect(load({ env: { BURROW_HTTPS_LISTEN: ':8443' } }).publicUrl.scheme).toBe('https');
  });

  it('accepts boolean words and lower-cases the domain', () => {
    expect(load({ env: { BURROW_TUNNELS_ALLOW_ANONYMOUS: 'No' } }).tunnels.allowAnonymous).toBe(false);
    expect(load({ env: { BURROW_TUNNELS_ALLOW_ANONYMOUS: '1' } }).tunnels.allowAnonymous).toBe(true);
    expect(load({ flags: { domain: 'Tunnel.Example.COM' } }).domain).toBe('tunnel.example.com');
  });

  it('ignores unknown BURROW_* env variables (the agent shares the prefix)', () => {
    expect(load({ env: { BURROW_SERVER: 'http://x', BURROW_TOKEN: 'bk_x' } }).domain).toBe('localhost');
  });
});

describe('loadEdgeConfig errors', () => {
  it('names the setting, its env source and the raw value', () => {
    expect(failure({ env: { BURROW_LIMITS_STREAM_WINDOW: 'abc' } })).toBe(
      'invalid configuration: limits.streamWindow (from env BURROW_LIMITS_STREAM_WINDOW) ' +
        'must be an integer from 1024 to 2147483647, got "abc"',
    );
  });

  it('names flags in their kebab-case form', () => {
    expect(failure({ flags: { publicPort: '70000' } })).toContain(
      'publicUrl.port (from flag --public-port) must be an integer from 1 to 65535',
    );
  });

  it('names the file a bad value came from', () => {
    const file = writeFile('bad-value.yml', 'limits:\n  maxTunnelsPerSession: 0\n');
    expect(failure({ flags: { config: file } })).toContain(
      `limits.maxTunnelsPerSession (from file ${file}) must be an integer from 1 to 10000, got 0`,
    );
  });

  it('reports every bad setting in one error', () => {
    const message = failure({
      flags: { logLevel: 'loud', listen: '::1:8080' },
      env: {
        BURROW_TUNNELS_ALLOW_ANONYMOUS: 'maybe',
        BURROW_TIMEOUTS_REQUEST_MS: '1.5',
        BURROW_DOMAIN: '10.0.0.1',
      },
    });
    expect(message).toContain(
      'log.level (from flag --log-level) must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
    expect(message).toContain('listen (from flag --listen) must be a "host:port" address');
    expect(message).toContain('IPv6 hosts need brackets');
    expect(message).toContain(
      'tunnels.allowAnonymous (from env BURROW_TUNNELS_ALLOW_ANONYMOUS) must be true or false, got "maybe"',
    );
    expect(message).toContain('timeouts.requestMs (from env BURROW_TIMEOUTS_REQUEST_MS) must be an integer');
    expect(message).toContain('domain (from env BURROW_DOMAIN) must be a host name');
    expect(message.split('; ')).toHaveLength(5);
  });

  it('bounds request history retention: at least a day and one record per tunnel', () => {
    const file = writeFile('history.yml', 'history:\n  maxAgeDays: 30\n');
    expect(
      load({ flags: { config: file }, env: { BURROW_HISTORY_MAX_PER_TUNNEL: '500' } }).history,
    ).toMatchObject({
      maxAgeDays: 30,
      maxPerTunnel: 500,
    });
    expect(failure({ env: { BURROW_HISTORY_MAX_AGE_DAYS: '0' } })).toContain(
      'history.maxAgeDays (from env BURROW_HISTORY_MAX_AGE_DAYS) must be an integer from 1 to 3650, got 0',
    );
    expect(failure({ env: { BURROW_HISTORY_MAX_PER_TUNNEL: '-5' } })).toContain(
      'history.maxPerTunnel (from env BURROW_HISTORY_MAX_PER_TUNNEL) must be an integer from 1 to 10000000',
    );
  });

  it('rejects timeouts beyond what a Node timer can hold', () => {
    expect(failure({ env: { BURROW_TIMEOUTS_SHUTDOWN_MS: '2147483648' } })).toContain(
      'timeouts.shutdownMs (from env BURROW_TIMEOUTS_SHUTDOWN_MS) must be an integer from 0 to 2147483647',
    );
  });

  it('rejects unknown keys in the file, naming the key and what is known', () => {
    const file = writeFile('typo.yml', 'limits:\n  streamWindw: 4096\ndomian: example.com\n');
    const message = failure({ flags: { config: file } });
    expect(message).toContain(
      `limits.streamWindw (from file ${file}) is not a known setting (known: maxHeaderBytes,`,
    );
    expect(message).toContain(`domian (from file ${file}) is not a known setting`);
  });

  it('rejects a group that is not a mapping', () => {
    const file = writeFile('group.yml', 'timeouts: 5\n');
    expect(failure({ flags: { config: file } })).toContain(
      `timeouts (from file ${file}) must be a mapping of settings, got 5`,
    );
  });

  it('is strict about types in the file (a quoted number is a string)', () => {
    const file = writeFile('quoted.yml', 'timeouts:\n  heartbeatMs: "5000"\n');
    expect(failure({ flags: { config: file } })).toContain(
      `timeouts.heartbeatMs (from file ${file}) must be an integer from 100 to 2147483647, got "5000"`,
    );
  });

  it('never echoes a database URL, which may hold a password', () => {
    const message = failure({ env: { DATABASE_URL: 'mysql://root:hunter2@db/x' } });
    expect(message).toContain(
      'databaseUrl (from env DATABASE_URL) must be a postgres:// or postgresql:// URL',
    );
    expect(message).not.toContain('hunter2');
  });

  it('rejects deadPeerMs not above heartbeatMs, naming both sources', () => {
    expect(failure({ env: { BURROW_TIMEOUTS_HEARTBEAT_MS: '30000' } })).toBe(
      'invalid configuration: timeouts.deadPeerMs (30000, default) must exceed ' +
        'timeouts.heartbeatMs (30000, from env BURROW_TIMEOUTS_HEARTBEAT_MS): ' +
        'otherwise a healthy agent is declared dead before its next ping is due',
    );
  });

  it('rejects an unknown --https-redirect mode, naming the choices', () => {
    expect(failure({ flags: { httpsRedirect: 'some' } })).toMatch(/--https-redirect.*tunnels, all, off/);
  });

  it('rejects a header limit larger than one frame', () => {
    expect(failure({ env: { BURROW_LIMITS_MAX_FRAME_PAYLOAD: '8192' } })).toContain(
      'limits.maxHeaderBytes (16384, default) must not exceed limits.maxFramePayload (8192, from env ' +
        'BURROW_LIMITS_MAX_FRAME_PAYLOAD)',
    );
  });

  it('reports a missing config file with its path', () => {
    expect(failure({ flags: { config: 'missing.yml' } })).toContain(
      `cannot read config file ${join(scratch.path, 'missing.yml')}`,
    );
  });

  it('reports unparseable YAML and JSON', () => {
    const yaml = writeFile('broken.yml', 'domain: [unclosed\n');
    expect(failure({ flags: { config: yaml } })).toContain(`cannot parse config file ${yaml}`);
    const json = writeFile('broken.json', '{"domain": ');
    expect(failure({ flags: { config: json } })).toContain(`cannot parse config file ${json}`);
  });

  it('rejects a file whose top level is not a mapping', () => {
    const file = writeFile('list.yml', '- a\n- b\n');
    expect(failure({ flags: { config: file } })).toContain(
      `config file ${file} must hold a mapping of settings, got a list`,
    );
  });

  it('treats an empty file as no settings', () => {
    const file = writeFile('empty.yml', '');
    expect(load({ flags: { config: file } }).domain).toBe('localhost');
  });
});

describe('proxy settings', () => {
  it('reads --trust-proxy and --proxy-protocol-from as comma lists, env and file as lists too', () => {
    const fromFlags = load({
      flags: { trustProxy: '10.0.0.0/8, 192.0.2.1', proxyProtocol: true, proxyProtocolFrom: '127.0.0.1' },
    });
    expect(fromFlags.proxy).toEqual({
      protocol: true,
      protocolFrom: ['127.0.0.1'],
      headerTimeoutMs: 5000,
      trust: ['10.0.0.0/8', '192.0.2.1'],
    });
    expect(load({ env: { BURROW_PROXY_TRUST: '2001:db8::/32' } }).proxy.trust).toEqual(['2001:db8::/32']);
    const file = writeFile(
      'proxy.json',
      JSON.stringify({ proxy: { trust: ['10.1.0.0/16'], protocol: true } }),
    );
    expect(load({ flags: { config: file } }).proxy).toMatchObject({ trust: ['10.1.0.0/16'], protocol: true });
  });

  it('reads the history and access log settings from flags, env and file', () => {
    expect(load({ flags: { accessLog: 'combined', history: false } })).toMatchObject({
      accessLog: 'combined',
      history: { enabled: false },
    });
    const fromEnv = load({
      env: {
        BURROW_HISTORY_REDACT_HEADERS: 'X-Api-Key, authorization,X-API-KEY',
        BURROW_HISTORY_KEEP_QUERY: 'false',
      },
    });
    expect(fromEnv.history).toMatchObject({
      redactHeaders: ['x-api-key', 'authorization'],
      keepQuery: false,
    });
    const file = writeFile('history.json', JSON.stringify({ history: { redactHeaders: [], queueMax: 5 } }));
    expect(load({ flags: { config: file } }).history).toMatchObject({ redactHeaders: [], queueMax: 5 });
    expect(failure({ flags: { accessLog: 'xml' } })).toContain(
      'accessLog (from flag --access-log) must be one of json, combined, off',
    );
    expect(failure({ env: { BURROW_HISTORY_REDACT_HEADERS: 'Cookie,Bad Name' } })).toContain(
      'history.redactHeaders (from env BURROW_HISTORY_REDACT_HEADERS) must be a list (or comma-separated string) of header names',
    );
    expect(failure({ env: { BURROW_HISTORY_QUEUE_MAX: '0' } })).toContain('history.queueMax');
  });

  it('names a bad entry and says what it must be', () => {
    expect(failure({ flags: { trustProxy: '10.0.0.0/8,lb.internal' } })).toContain(
      'proxy.trust (from flag --trust-proxy) must be a list (or comma-separated string) of IP addresses or CIDR blocks',
    );
    expect(failure({ flags: { trustProxy: '10.0.0.0/8,lb.internal' } })).toContain('"lb.internal"');
  });

  it('refuses --proxy-protocol-from without --proxy-protocol, which would do nothing', () => {
    expect(failure({ flags: { proxyProtocolFrom: '127.0.0.1' } })).toContain(
      'proxy.protocolFrom is set (from flag --proxy-protocol-from) but proxy.protocol is off',
    );
  });
});

describe('otlp settings', () => {
  it('reads --otlp-endpoint and the env settings of the group', () => {
    const config = load({
      flags: { otlpEndpoint: 'http://127.0.0.1:4318' },
      env: { BURROW_OTLP_SERVICE_NAME: 'edge-eu-1', BURROW_OTLP_MAX_QUEUE: '100' },
    });
    expect(config.otlp).toEqual({
      endpoint: 'http://127.0.0.1:4318',
      serviceName: 'edge-eu-1',
      maxQueue: 100,
    });
  });

  it('refuses an endpoint that is not an http(s) URL, and a queue of zero', () => {
    expect(failure({ flags: { otlpEndpoint: 'grpc://collector:4317' } })).toContain(
      'otlp.endpoint (from flag --otlp-endpoint) must be an http:// or https:// URL of an OTLP/HTTP receiver',
    );
    expect(failure({ env: { BURROW_OTLP_MAX_QUEUE: '0' } })).toContain('otlp.maxQueue');
  });
});

describe('metrics settings', () => {
  it('reads --metrics-listen and --metrics-enabled, and the series cap from the file', () => {
    const config = load({ flags: { metricsListen: '127.0.0.1:9464', metricsEnabled: 'true' } });
    expect(config.metricsListen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(load({ flags: { metricsEnabled: 'false' } }).metrics.enabled).toBe(false);
    const file = writeFile('metrics.json', JSON.stringify({ metrics: { maxTunnelSeries: 5 } }));
    expect(load({ flags: { config: file } }).metrics).toEqual({ enabled: true, maxTunnelSeries: 5 });
  });

  it('binds a bare --metrics-listen port to loopback (unauthenticated), while listen keeps all interfaces', () => {
    for (const bare of ['9464', ':9464']) {
      const config = load({ flags: { metricsListen: bare, listen: bare.replace('9464', '8080') } });
      expect(config.metricsListen).toEqual({ host: '127.0.0.1', port: 9464 });
      expect(config.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    }
    expect(load({ flags: { metricsListen: '0.0.0.0:9464' } }).metricsListen).toEqual({
      host: '0.0.0.0',
      port: 9464,
    });
  });

  it('refuses a series cap out of bounds, naming the setting', () => {
    expect(failure({ env: { BURROW_METRICS_MAX_TUNNEL_SERIES: '-1' } })).toContain(
      'metrics.maxTunnelSeries (from env BURROW_METRICS_MAX_TUNNEL_SERIES) must be',
    );
  });

  it('refuses --metrics-listen with metrics turned off, which would serve nothing', () => {
    expect(failure({ flags: { metricsListen: '127.0.0.1:9464', metricsEnabled: 'false' } })).toContain(
      'metricsListen is set (from flag --metrics-listen) but metrics.enabled is false',
    );
  });
});
