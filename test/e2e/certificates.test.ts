/**
 * Certificate sources as an operator starts them: `--tls self-signed` makes and keeps a
 * development CA and says how to trust it; a bad `--tls-cert`/`--tls-key` stops the edge
 * at start with a message naming the files; the trust commands it logs work as printed
 * (agent and curl over `dev.localhost`, which the system resolver here does not know).
 * (Handshakes are tested where the HTTPS listener is; reloads in
 * packages/edge/src/certs/file-certificates.test.ts.)
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestCa } from '../support/test-ca.js';
import { edgeCli, startAgent, startEdge, startOrigin, stopAll, tempDir } from './harness.js';
import { freeTcpPort } from './support/free-port.js';

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

describe('the self-signed development loop, as the edge tells it', () => {
  it('the agent and curl, run with the logged trust commands, reach a tunnel over HTTPS', async () => {
    const edge = await startEdge({
      args: ['--tls', 'self-signed', '--domain', 'dev.localhost', '--https-listen', '127.0.0.1:0'],
    });
    const line = edge.proc.json.find((l) => Array.isArray(l.trust));
    expect(line, edge.proc.lines.join('\n')).toBeDefined();
    const trust = line!.trust as string[];
    const httpsPort = edge.proc.json.find((l) => typeof l.httpsPort === 'number')?.httpsPort as number;
    // The listener took a free port after the line was logged: put it into the printed command.
    const agentCommand = trust.find((t) => t.startsWith('the burrow agent:'))!;
    const server = /--server (\S+)/.exec(agentCommand)![1]!;
    const ca = /--ca (\S+)/.exec(agentCommand)![1]!;
    // Logged before the listener took its port: the command says where it goes.
    expect(server).toBe('https://dev.localhost:<port>');
    const origin = await startOrigin((_req, res) => res.end('hello over the dev CA'));
    const agent = await startAgent(
      { url: server.replace('<port>', String(httpsPort)) },
      String(origin.port),
      {
        args: ['--ca', ca],
      },
    );
    expect(agent.url).toMatch(new RegExp(`^https://[a-z0-9]+\\.dev\\.localhost:${httpsPort}$`));
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      ca,
      `${agent.url}/`,
    ]);
    expect(stdout).toBe('hello over the dev CA');
  });

  it('the logged commands carry the HTTPS port when it is not 443', async () => {
    const port = await freeTcpPort();
    const edge = await startEdge({
      args: ['--tls', 'self-signed', '--domain', 'dev.localhost', '--https-listen', `127.0.0.1:${port}`],
    });
    const trust = (edge.proc.json.find((l) => Array.isArray(l.trust))!.trust as string[]).join('\n');
    expect(trust).toContain(`--server https://dev.localhost:${port} --ca`);
    expect(trust).toContain(
      `curl --cacert ${join(edge.dataDir, 'tls', 'burrow-dev-ca.pem')} https://app.dev.localhost:${port}/`,
    );
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
