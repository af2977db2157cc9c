// The TLS settings: `ca` for the edge, and per tunnel originCa / originServerName / originTlsVerify.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TunnelError } from '@burrow/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadAgentConfigOptions } from './agent-config.js';
import { loadAgentConfig } from './load-agent-config.js';
import { useScratchDir } from '../../../../test/support/scratch-dir.js';
import { createTestCa, type TestCaFiles } from '../../../../test/support/test-ca.js';

const scratch = useScratchDir('burrow-agent-tls-config-');
let ca: TestCaFiles;

beforeAll(async () => {
  ca = await createTestCa({ dir: scratch.path });
});

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

describe('ca (the edge)', () => {
  it('is unset by default', () => {
    expect(load({ tunnel: { target: '3000' } }).ca).toBeNull();
  });

  it('reads the PEM file named by --ca, BURROW_CA or the file, relative paths from cwd', () => {
    const fromFlag = load({ tunnel: { target: '3000' }, flags: { ca: ca.certFile } });
    expect(fromFlag.ca).toBe(ca.certPem);
    scratch.write('edge-ca.pem', ca.certPem);
    const fromEnv = load({ tunnel: { target: '3000' }, env: { BURROW_CA: 'edge-ca.pem' } });
    expect(fromEnv.ca).toBe(ca.certPem);
  });

  it('resolves a relative ca in burrow.yml against the file, not the working directory', () => {
    const sub = join(scratch.path, 'sub');
    mkdirSync(sub, { recursive: true });
    scratch.write('sub/edge-ca.pem', ca.certPem);
    const file = scratch.write('sub/burrow.yml', 'ca: edge-ca.pem\ntunnels:\n  web:\n    addr: 3000\n');
    expect(load({ file, cwd: '/' }).ca).toBe(ca.certPem);
  });

  it('names the setting, its source and the path when the file is missing or holds no certificate', async () => {
    const missing = failure({ tunnel: { target: '3000' }, flags: { ca: 'nope.pem' } });
    expect(missing).toContain('ca (from flag --ca) must be a PEM file of CA certificates');
    expect(missing).toContain(join(scratch.path, 'nope.pem'));
    const junk = scratch.write(
      'junk.pem',
      '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n',
    );
    expect(failure({ tunnel: { target: '3000' }, env: { BURROW_CA: junk } })).toContain(
      'ca (from env BURROW_CA) must be a PEM file of CA certificates',
    );
    const key = scratch.write('key-only.pem', (await ca.issue({ names: ['x.test'] })).keyPem);
    expect(failure({ tunnel: { target: '3000' }, flags: { ca: key } })).toContain('no certificate');
  });
});

describe('origin TLS (per tunnel)', () => {
  it('skips verification only for loopback https origins given no CA and no server name', () => {
    const cases: [string, boolean][] = [
      ['https://127.0.0.1:8443', false],
      ['https://127.9.9.9:8443', false],
      ['https://[::1]:8443', false],
      ['https://localhost:8443', false],
      ['https://LOCALHOST:8443', false],
      ['https://api.internal:8443', true],
      ['https://10.0.0.5', true],
      ['https://localhost.example.com', true],
    ];
    for (const [target, verify] of cases) {
      const tunnel = load({ tunnel: { target } }).tunnels[0]!;
      expect([target, tunnel.originTls.verify]).toEqual([target, verify]);
    }
  });

  it('verifies a loopback origin once a CA or a server name is given, or --origin-tls-verify', () => {
    const withCa = load({ tunnel: { target: 'https://127.0.0.1:8443' }, flags: { originCa: ca.certFile } });
    expect(withCa.tunnels[0]!.originTls).toEqual({ verify: true, ca: ca.certPem, serverName: null });
    const named = load({
      tunnel: { target: 'https://127.0.0.1:8443' },
      flags: { originServerName: 'App.Test' },
    });
    expect(named.tunnels[0]!.originTls).toEqual({ verify: true, ca: null, serverName: 'app.test' });
    const forced = load({ tunnel: { target: 'https://127.0.0.1:8443' }, flags: { originTlsVerify: true } });
    expect(forced.tunnels[0]!.originTls.verify).toBe(true);
  });

  it('--no-origin-tls-verify turns verification off for any origin', () => {
    const config = load({ tunnel: { target: 'https://api.internal' }, flags: { originTlsVerify: false } });
    expect(config.tunnels[0]!.originTls).toEqual({ verify: false, ca: null, serverName: null });
  });

  it('reads the per-tunnel keys of burrow.yml, originCa relative to the file', () => {
    scratch.write('origin-ca.pem', ca.certPem);
    const file = scratch.write(
      'origins.yml',
      [
        'tunnels:',
        '  api:',
        '    addr: https://api.internal:8443',
        '    originCa: origin-ca.pem',
        '    originServerName: api.test',
        '  dev:',
        '    addr: https://localhost:5173',
        '  legacy:',
        '    addr: https://10.0.0.9',
        '    originTlsVerify: false',
        '',
      ].join('\n'),
    );
    const config = load({ file, cwd: '/' });
    expect(config.tunnels.map((t) => [t.id, t.originTls])).toEqual([
      ['api', { verify: true, ca: ca.certPem, serverName: 'api.test' }],
      ['dev', { verify: false, ca: null, serverName: null }],
      ['legacy', { verify: false, ca: null, serverName: null }],
    ]);
  });

  it('refuses origin TLS settings on an http:// origin and a CA with verification off', () => {
    const plain = failure({ tunnel: { target: '3000' }, flags: { originServerName: 'a.test' } });
    expect(plain).toContain(
      'originServerName (from flag --origin-server-name) applies only to https:// origins',
    );
    const useless = failure({
      tunnel: { target: 'https://a.test' },
      flags: { originCa: ca.certFile, originTlsVerify: false },
    });
    expect(useless).toContain('originCa (from flag --origin-ca) has no effect with originTlsVerify false');
  });

  it('rejects a bad server name and a missing CA file, naming the tunnel key', () => {
    const badName = scratch.write(
      'bad-name.yml',
      'tunnels:\n  a:\n    addr: https://a.test\n    originServerName: "not a name"\n',
    );
    expect(failure({ file: badName })).toContain('tunnels.a.originServerName (from file');
    expect(failure({ file: badName })).toContain('must be a DNS name');
    const badCa = scratch.write(
      'bad-ca.yml',
      'tunnels:\n  a:\n    addr: https://a.test\n    originCa: gone.pem\n',
    );
    const message = failure({ file: badCa });
    expect(message).toContain('tunnels.a.originCa (from file');
    expect(message).toContain(join(scratch.path, 'gone.pem'));
  });

  it('needs a target for the origin TLS flags', () => {
    const file = scratch.write('one.yml', 'tunnels:\n  a:\n    addr: https://a.test\n');
    expect(failure({ file, flags: { originCa: ca.certFile } })).toContain(
      'applies only to `burrow http <target>`',
    );
  });
});
