import { join } from 'node:path';
import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import type { LoadAgentConfigOptions } from './agent-config.js';
import { loadAgentConfig } from './load-agent-config.js';
import { useScratchDir } from '../../../../test/support/scratch-dir.js';

const scratch = useScratchDir('burrow-agent-config-');
const writeFile = scratch.write;

type Options = Partial<LoadAgentConfigOptions>;

function load(options: Options) {
  return loadAgentConfig({ env: {}, cwd: scratch.path, ...options });
}

function failure(options: Options): string {
  try {
    load(options);
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_CONFIG_INVALID');
    return (err as TunnelError).message;
  }
  throw new Error('expected loadAgentConfig to throw');
}

const WEB = 'tunnels:\n  web:\n    proto: http\n    addr: 3000\n    name: MyApp\n';

describe('loadAgentConfig from a file', () => {
  it('reads burrow.yml with defaults for everything else', () => {
    const file = writeFile('basic.yml', WEB);
    const config = load({ file });
    expect(config.server.href).toBe('http://localhost:8080/');
    expect(config.token).toBeNull();
    expect(config.log).toBe('text');
    expect(config.tunnels).toHaveLength(1);
    expect(config.tunnels[0]).toMatchObject({ id: 'web', proto: 'http', name: 'myapp' });
    expect(config.tunnels[0]?.origin.href).toBe('http://127.0.0.1:3000/');
    expect(config.reconnect).toEqual({ initialDelayMs: 200, maxDelayMs: 15000, multiplier: 2, jitter: 0.2 });
    expect(config.shutdownMs).toBe(10000);
    expect(config.originTimeoutMs).toBe(60000);
    expect(config.maxOriginConnections).toBe(128);
  });

  it('reads every tunnel in file order, each addr form, proto defaulting to http', () => {
    const file = writeFile(
      'many.yml',
      'tunnels:\n  a:\n    addr: "localhost:4000"\n  b:\n    addr: http://api.local:5000\n  c:\n    addr: https://secure.local\n',
    );
    const config = load({ file });
    expect(config.tunnels.map((t) => [t.id, t.proto, t.origin.href, t.name])).toEqual([
      ['a', 'http', 'http://localhost:4000/', null],
      ['b', 'http', 'http://api.local:5000/', null],
      ['c', 'http', 'https://secure.local/', null],
    ]);
  });

  it('reads the tuning settings from the file', () => {
    const file = writeFile(
      'tuning.yml',
      WEB + 'reconnect:\n  initialDelayMs: 50\n  jitter: 0\nshutdownMs: 0\nmaxOriginConnections: 4\n',
    );
    const config = load({ file });
    expect(config.reconnect).toEqual({ initialDelayMs: 50, maxDelayMs: 15000, multiplier: 2, jitter: 0 });
    expect(config.shutdownMs).toBe(0);
    expect(config.maxOriginConnections).toBe(4);
  });

  it('returns a frozen object', () => {
    const config = load({ file: writeFile('frozen.yml', WEB) });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tunnels)).toBe(true);
    expect(Object.isFrozen(config.tunnels[0])).toBe(true);
    expect(Object.isFrozen(config.reconnect)).toBe(true);
  });
});

describe('loadAgentConfig layer precedence', () => {
  it('file beats defaults, env beats file, flags beat env', () => {
    const file = writeFile(
      'layers.yml',
      WEB + 'server: https://file.example.com\ntoken: bk_file\nlog: json\n',
    );
    expect(load({ file }).server.href).toBe('https://file.example.com/');

    const env = { BURROW_SERVER: 'https://env.example.com', BURROW_TOKEN: 'bk_env' };
    const withEnv = load({ file, env });
    expect(withEnv.server.href).toBe('https://env.example.com/');
    expect(withEnv.token).toBe('bk_env');
    expect(withEnv.log).toBe('json');

    const withFlags = load({
      file,
      env,
      flags: { server: 'http://flag.example.com:9000', token: 'bk_flag', log: 'text' },
    });
    expect(withFlags.server.href).toBe('http://flag.example.com:9000/');
    expect(withFlags.token).toBe('bk_flag');
    expect(withFlags.log).toBe('text');
  });

  it('treats empty env variables as unset', () => {
    const file = writeFile('empty-env.yml', WEB + 'token: bk_file\n');
    expect(load({ file, env: { BURROW_TOKEN: '', BURROW_SERVER: ' ' } })).toMatchObject({
      token: 'bk_file',
      server: new URL('http://localhost:8080'),
    });
  });

  it('prefers --config over the default file', () => {
    const fallback = writeFile('fallback.yml', WEB);
    writeFile('chosen.yml', 'tunnels:\n  api:\n    addr: 9000\n');
    const config = load({ file: fallback, flags: { config: 'chosen.yml' } });
    expect(config.tunnels.map((t) => t.id)).toEqual(['api']);
  });
});

describe('loadAgentConfig with an ad-hoc tunnel', () => {
  it('makes the target the only tunnel, keeping server and token from the file', () => {
    const file = writeFile('adhoc.yml', WEB + 'server: https://edge.example.com\n');
    const config = load({ file, tunnel: { target: '8000' }, flags: { name: 'Demo' } });
    expect(config.tunnels).toHaveLength(1);
    expect(config.tunnels[0]).toMatchObject({ id: 'default', proto: 'http', name: 'demo' });
    expect(config.tunnels[0]?.origin.href).toBe('http://127.0.0.1:8000/');
    expect(config.server.href).toBe('https://edge.example.com/');
  });

  it('works without any file, and a missing default file is fine', () => {
    expect(load({ tunnel: { target: 'localhost:3000', name: 'x' } }).tunnels[0]?.name).toBe('x');
    expect(
      load({ file: join(scratch.path, 'nope.yml'), tunnel: { target: '3000' } }).tunnels[0]?.name,
    ).toBeNull();
  });

  it('reports a bad target and a bad name together', () => {
    const message = failure({ tunnel: { target: 'ftp://x', name: '-bad-' } });
    expect(message).toContain(
      'target (from the command line) must be an http:// or https:// URL, got "ftp://x"',
    );
    expect(message).toContain('name (from the command line) must be a DNS label');
  });

  it('names --name as the source when the name came from the flag', () => {
    expect(failure({ tunnel: { target: '3000' }, flags: { name: 'no_underscores' } })).toContain(
      'name (from flag --name) must be a DNS label',
    );
  });
});

describe('loadAgentConfig errors', () => {
  it('names the env variable that set a bad server', () => {
    expect(failure({ tunnel: { target: '3000' }, env: { BURROW_SERVER: 'ftp://x' } })).toBe(
      'invalid configuration: server (from env BURROW_SERVER) must be an http:// or https:// URL ' +
        'without user:password, query or fragment, got "ftp://x"',
    );
  });

  it('names flags by their CLI spelling', () => {
    expect(failure({ tunnel: { target: '3000' }, flags: { log: 'xml' } })).toContain(
      'log (from flag --log) must be one of text, json, got "xml"',
    );
  });

  it('never echoes a token', () => {
    const message = failure({ tunnel: { target: '3000' }, flags: { token: 'bk_secret value' } });
    expect(message).toContain('token (from flag --token) must be an API key');
    expect(message).not.toContain('bk_secret');
  });

  it('rejects unknown keys, naming each with its path and file', () => {
    const file = writeFile('typo.yml', 'sever: http://x\ntunnels:\n  web:\n    adr: 3000\n');
    const message = failure({ file });
    expect(message).toContain(`sever (from file ${file}) is not a known setting`);
    expect(message).toContain(`tunnels.web.adr (from file ${file}) is not a known setting`);
  });

  it('reports bad tunnel fields with their path', () => {
    const file = writeFile(
      'bad-tunnels.yml',
      'tunnels:\n  a:\n    addr: 70000\n  b:\n    proto: tcp\n    addr: 1\n  c:\n    addr: abc\n  d:\n    addr: 1\n    name: a.b\n',
    );
    const message = failure({ file });
    expect(message).toContain(`tunnels.a.addr (from file ${file}) must be a port from 1 to 65535, got 70000`);
    expect(message).toContain(
      `tunnels.b.proto (from file ${file}) must be http (the only protocol so far), got "tcp"`,
    );
    expect(message).toContain(`tunnels.c.addr (from file ${file}) must be a port (3000), host:port`);
    expect(message).toContain(`tunnels.d.name (from file ${file}) must be a DNS label`);
  });

  it('reports a missing addr and a bad tunnel id', () => {
    const file = writeFile('ids.yml', 'tunnels:\n  "my tunnel":\n    addr: 1\n  ok:\n    name: x\n');
    const message = failure({ file });
    expect(message).toContain(`tunnels key "my tunnel" (from file ${file}) must be a tunnel id`);
    expect(message).toContain(`tunnels.ok.addr (from file ${file}) must be a port (3000), host:port`);
    expect(message).toContain('got nothing');
  });

  it('rejects two tunnels wanting the same name', () => {
    const file = writeFile(
      'dupes.yml',
      'tunnels:\n  a:\n    addr: 1\n    name: x\n  b:\n    addr: 2\n    name: X\n',
    );
    expect(failure({ file })).toContain(`tunnels.b.name (from file ${file}) repeats "x" of tunnels.a.name`);
  });

  it('rejects a reconnect ceiling below its first delay', () => {
    const file = writeFile('backoff.yml', WEB + 'reconnect:\n  initialDelayMs: 5000\n  maxDelayMs: 1000\n');
    expect(failure({ file })).toContain(
      `reconnect.maxDelayMs (1000, from file ${file}) must not be below reconnect.initialDelayMs (5000, from file ${file})`,
    );
  });

  it('rejects --name without a target', () => {
    expect(failure({ file: writeFile('name-flag.yml', WEB), flags: { name: 'x' } })).toContain(
      'name (from flag --name) applies only to `burrow http <target>`',
    );
  });

  it('requires --config to exist but not the default file', () => {
    expect(failure({ flags: { config: 'missing.yml' }, tunnel: { target: '3000' } })).toContain(
      `cannot read config file ${join(scratch.path, 'missing.yml')}`,
    );
  });

  it('says why there is nothing to start', () => {
    expect(failure({ file: join(scratch.path, 'absent.yml') })).toBe(
      `invalid configuration: no tunnels to start: ${join(scratch.path, 'absent.yml')} does not exist; ` +
        'create it and add a tunnels: section or run `burrow http <port>`',
    );
    const empty = writeFile('no-tunnels.yml', 'tunnels:\n');
    expect(failure({ file: empty })).toContain(`no tunnels to start: ${empty} defines none`);
    expect(failure({})).toContain('no tunnels to start: no config file was given');
  });

  it('reports unparseable YAML and a top level that is not a mapping', () => {
    const broken = writeFile('broken.yml', 'tunnels: [\n');
    expect(failure({ file: broken })).toContain(`cannot parse config file ${broken}`);
    const scalar = writeFile('scalar.yml', 'just text\n');
    expect(failure({ file: scalar })).toContain(
      `config file ${scalar} must hold a mapping of settings, got a string`,
    );
  });
});

describe('otlp settings', () => {
  it('exports nothing by default', () => {
    expect(load({ file: writeFile('plain.yml', WEB) }).otlp).toEqual({
      endpoint: null,
      serviceName: 'burrow-agent',
      maxQueue: 2048,
    });
  });

  it('takes the endpoint from --otlp-endpoint over env over the file, keeping the file group', () => {
    const file = writeFile(
      'otlp.yml',
      `${WEB}otlp:\n  endpoint: http://file:4318\n  serviceName: laptop\n  maxQueue: 10\n`,
    );
    expect(load({ file }).otlp).toEqual({
      endpoint: 'http://file:4318',
      serviceName: 'laptop',
      maxQueue: 10,
    });
    const env = { BURROW_OTLP_ENDPOINT: 'http://env:4318' };
    expect(load({ file, env }).otlp.endpoint).toBe('http://env:4318');
    const flags = { otlpEndpoint: 'http://flag:4318/v1/traces' };
    expect(load({ file, env, flags }).otlp).toEqual({
      endpoint: 'http://flag:4318/v1/traces',
      serviceName: 'laptop',
      maxQueue: 10,
    });
  });

  it('names the flag and the requirement for a bad endpoint', () => {
    expect(failure({ file: writeFile('bad.yml', WEB), flags: { otlpEndpoint: 'collector:4318' } })).toContain(
      'otlp.endpoint (from flag --otlp-endpoint) must be an http:// or https:// URL of an OTLP/HTTP receiver',
    );
  });
});

describe('metricsListen', () => {
  const tunnel = { target: '3000' };

  it('is off by default, and read from the flag, env or file (a bare port means loopback)', () => {
    expect(load({ tunnel }).metricsListen).toBeNull();
    expect(load({ tunnel, flags: { metricsListen: '127.0.0.1:9091' } }).metricsListen).toEqual({
      host: '127.0.0.1',
      port: 9091,
    });
    expect(load({ tunnel, env: { BURROW_METRICS_LISTEN: '[::1]:9092' } }).metricsListen).toEqual({
      host: '::1',
      port: 9092,
    });
    const file = writeFile('metrics.yml', `metricsListen: 9093\n${WEB}`);
    expect(load({ file }).metricsListen).toEqual({ host: '127.0.0.1', port: 9093 });
  });

  it('names a bad address and its source', () => {
    expect(failure({ tunnel, flags: { metricsListen: 'localhost:99999' } })).toContain(
      'metricsListen (from flag --metrics-listen) must be a "host:port" address',
    );
    expect(failure({ tunnel, env: { BURROW_METRICS_LISTEN: '[127.0.0.1]:1' } })).toContain(
      'metricsListen (from env BURROW_METRICS_LISTEN) must be',
    );
  });
});
