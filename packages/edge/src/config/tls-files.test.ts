import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import { useScratchDir } from '../../../../test/support/scratch-dir.js';
import type { EdgeFlags, Env } from './edge-config.js';
import { loadEdgeConfig } from './load-edge-config.js';

const scratch = useScratchDir('burrow-tls-config-');

function load(flags: EdgeFlags, env: Env = {}) {
  return loadEdgeConfig({ flags, env, cwd: scratch.path });
}

function failure(flags: EdgeFlags, env: Env = {}): string {
  try {
    load(flags, env);
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_CONFIG_INVALID');
    return (err as TunnelError).message;
  }
  throw new Error('expected loadEdgeConfig to throw');
}

describe('tls settings', () => {
  it('takes --tls-cert/--tls-key, resolving relative paths against the working directory', () => {
    scratch.write('cert.pem', 'x');
    scratch.write('key.pem', 'y');
    const config = load({ tlsCert: 'cert.pem', tlsKey: 'key.pem' });
    expect(config.tls.certFile).toBe(join(scratch.path, 'cert.pem'));
    expect(config.tls.keyFile).toBe(join(scratch.path, 'key.pem'));
  });

  it('takes the files from BURROW_TLS_CERT_FILE and BURROW_TLS_KEY_FILE', () => {
    const cert = scratch.write('env-cert.pem', 'x');
    const key = scratch.write('env-key.pem', 'y');
    const config = load({}, { BURROW_TLS_CERT_FILE: cert, BURROW_TLS_KEY_FILE: key });
    expect(config.tls).toMatchObject({ certFile: cert, keyFile: key });
  });

  it('needs both files or neither', () => {
    scratch.write('only-cert.pem', 'x');
    expect(failure({ tlsCert: 'only-cert.pem' })).toMatch(
      /tls\.certFile .*from flag --tls-cert.* needs tls\.keyFile \(--tls-key\) too/,
    );
    expect(failure({ tlsKey: 'only-cert.pem' })).toMatch(
      /tls\.keyFile .* needs tls\.certFile \(--tls-cert\) too/,
    );
  });

  it('says which file cannot be read, and why', () => {
    scratch.write('readable.pem', 'x');
    expect(failure({ tlsCert: 'missing.pem', tlsKey: 'readable.pem' })).toMatch(
      /tls\.certFile .*missing\.pem.*cannot be read \(ENOENT/,
    );
    mkdirSync(join(scratch.path, 'a-dir'));
    expect(failure({ tlsCert: 'readable.pem', tlsKey: 'a-dir' })).toMatch(
      /tls\.keyFile .*a-dir.*is not a file/,
    );
    if (process.getuid?.() !== 0) {
      const locked = scratch.write('locked.pem', 'x');
      chmodSync(locked, 0o000);
      expect(failure({ tlsCert: 'readable.pem', tlsKey: 'locked.pem' })).toMatch(/cannot be read \(EACCES/);
    }
  });

  it('accepts --tls self-signed and nothing else', () => {
    expect(load({ tls: 'self-signed' }).tls.generate).toBe('self-signed');
    expect(load({}).tls.generate).toBe('off');
    expect(failure({ tls: 'selfsigned' })).toMatch(/tls\.generate .*one of off, self-signed/);
  });
});
