/**
 * Certificate sources as an operator starts them: `--tls self-signed` makes and keeps a
 * development CA and says how to trust it; a bad `--tls-cert`/`--tls-key` stops the edge
 * at start with a message naming the files. (Handshakes are tested where the HTTPS
 * listener is; reloads in packages/edge/src/certs/file-certificates.test.ts.)
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestCa } from '../support/test-ca.js';
import { edgeCli, startEdge, stopAll, tempDir } from './harness.js';

afterEach(stopAll);

describe('burrow-edge start --tls self-signed', () => {
  it('creates the CA in <data>/tls, logs how to trust it, and reuses it after a restart', async () => {
    const edge = await startEdge({ args: ['--tls', 'self-signed', '--domain', 'dev.localhost'] });
    const caFile = join(edge.dataDir, 'tls', 'burrow-dev-ca.pem');
    const line = edge.proc.json.find((l) => l.caFile === caFile);
    expect(line, edge.proc.lines.join('\n')).toBeDefined();
    expect(JSON.stringify(line!.trust)).toContain(`curl --cacert ${caFile}`);
    expect(String(line!.msg)).toMatch(/development only/);
    expect(statSync(join(edge.dataDir, 'tls', 'burrow-dev-ca-key.pem')).mode & 0o777).toBe(0o600);
    const caPem = readFileSync(caFile, 'utf8');

    edge.proc.signal('SIGTERM');
    await edge.proc.exited;
    const again = await startEdge({
      dataDir: edge.dataDir,
      args: ['--tls', 'self-signed', '--domain', 'dev.localhost'],
    });
    expect(again.proc.json.find((l) => l.caFile === caFile)).toBeDefined();
    expect(readFileSync(caFile, 'utf8')).toBe(caPem);
  });
});

describe('burrow-edge start --tls-cert/--tls-key', () => {
  it('starts with a valid pair and logs the names it covers', async () => {
    const dir = tempDir();
    const ca = await createTestCa();
    const leaf = await ca.issue({ names: ['tunnel.test', '*.tunnel.test'], dir, basename: 'edge' });
    const edge = await startEdge({
      args: ['--domain', 'tunnel.test', '--tls-cert', leaf.certFile, '--tls-key', leaf.keyFile],
    });
    const line = edge.proc.json.find((l) => l.certFile === leaf.certFile);
    expect(line, edge.proc.lines.join('\n')).toMatchObject({ hosts: ['tunnel.test', '*.tunnel.test'] });
  });

  it('refuses to start on a garbage certificate, naming the file and the code', async () => {
    const dir = tempDir();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    writeFileSync(cert, 'not a certificate\n');
    writeFileSync(key, 'not a key\n', { mode: 0o600 });
    const run = await edgeCli(
      tempDir(),
      'start',
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      cert,
      '--tls-key',
      key,
    );
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toMatch(
      new RegExp(`certificate ${cert} with key ${key}: .*\\(TUN_ERR_CERT_INVALID\\)`),
    );
  });

  it('refuses a certificate without its key, saying which flag is missing', async () => {
    const dir = tempDir();
    const cert = join(dir, 'cert.pem');
    writeFileSync(cert, 'x');
    const run = await edgeCli(tempDir(), 'start', '--listen', '127.0.0.1:0', '--tls-cert', cert);
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toMatch(
      /tls\.certFile .* needs tls\.keyFile \(--tls-key\) too.*TUN_ERR_CONFIG_INVALID/,
    );
  });
});
