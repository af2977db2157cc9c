/**
 * The agent reaching an `https://` edge over `wss://`: a real edge behind a TLS terminator
 * whose certificate comes from a private CA. With `--ca` the tunnel serves; without it, or
 * under a name the certificate does not carry, the agent says why and what to do, keeps
 * retrying, and no byte reaches the edge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCaFiles } from '../support/test-ca.js';
import { startTlsTerminator, type TlsTerminator } from '../support/tls-terminator.js';
import { useScratchDir } from '../support/scratch-dir.js';
import {
  spawnAgent,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  type Edge,
  type Proc,
} from './harness.js';
import { originHandler } from './origin.js';

const scratch = useScratchDir('burrow-edge-tls-');
let ca: TestCaFiles;
let edge: Edge;
let terminator: TlsTerminator;
let originPort: number;

beforeAll(async () => {
  ca = await createTestCa({ dir: scratch.path });
  const leaf = await ca.issue({ names: ['localhost'] });
  edge = await startEdge();
  terminator = await startTlsTerminator({
    cert: leaf.certPem,
    key: leaf.keyPem,
    target: { host: '127.0.0.1', port: edge.port },
  });
  originPort = (await startOrigin(originHandler)).port;
});

afterAll(async () => {
  await stopAll();
  await terminator.close();
});

/** Waits for the text-mode retry line that carries `code`, then stops the agent. */
async function retryLine(proc: Proc, code: string): Promise<string> {
  const line = await proc.waitFor(
    () => proc.stderr.find((l) => l.includes('reconnecting') && l.includes(code)),
    15_000,
    `a reconnecting line with ${code}`,
  );
  proc.signal('SIGKILL');
  await proc.exited;
  return line;
}

describe('agent to an https:// edge', () => {
  it('connects over wss:// trusting the private CA given with --ca, and serves', async () => {
    const agent = await startAgent({ url: `https://localhost:${terminator.port}` }, String(originPort), {
      args: ['--ca', ca.certFile],
    });
    const res = await tunnelRequest(edge, agent.name, '/echo?over=tls');
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(terminator.forwarded).toBeGreaterThan(0);
  });

  it('takes the CA from BURROW_CA too', async () => {
    const agent = await startAgent({ url: `https://localhost:${terminator.port}` }, String(originPort), {
      env: { BURROW_CA: ca.certFile },
    });
    const res = await tunnelRequest(edge, agent.name, '/echo?env=ca');
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('without --ca refuses the certificate, says what to do, and never reaches the edge', async () => {
    const before = terminator.forwarded;
    const proc = spawnAgent({ url: `https://localhost:${terminator.port}` }, String(originPort), {
      args: ['--log', 'text'],
    });
    const line = await retryLine(proc, 'TUN_ERR_EDGE_TLS');
    expect(line).toContain('localhost');
    expect(line).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(line).toContain('--ca FILE');
    expect(terminator.forwarded).toBe(before);
    expect(proc.lines, 'no tunnel URL was printed').toEqual([]);
  });

  it('refuses a certificate that does not name the host it dialled, even with --ca', async () => {
    const before = terminator.forwarded;
    const proc = spawnAgent({ url: `https://127.0.0.1:${terminator.port}` }, String(originPort), {
      args: ['--log', 'text', '--ca', ca.certFile],
    });
    const line = await retryLine(proc, 'TUN_ERR_EDGE_TLS');
    expect(line).toContain('127.0.0.1');
    expect(line).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(terminator.forwarded).toBe(before);
  });

  it('keeps retrying past an expired certificate and connects once the operator replaces it', async () => {
    const expired = await ca.issue({ names: ['localhost'], days: -1 });
    let stale = await startTlsTerminator({
      cert: expired.certPem,
      key: expired.keyPem,
      target: { host: '127.0.0.1', port: edge.port },
    });
    const proc = spawnAgent({ url: `https://localhost:${stale.port}` }, String(originPort), {
      args: ['--log', 'text', '--ca', ca.certFile],
    });
    const line = await proc.waitFor(
      () => proc.stderr.find((l) => l.includes('CERT_HAS_EXPIRED')),
      15_000,
      'the expired certificate to be reported',
    );
    expect(line).toContain('TUN_ERR_EDGE_TLS');
    expect(stale.forwarded).toBe(0);
    // The operator renews the certificate: same address, a valid one.
    const port = stale.port;
    await stale.close();
    const leaf = await ca.issue({ names: ['localhost'] });
    stale = await startTlsTerminator({
      cert: leaf.certPem,
      key: leaf.keyPem,
      target: { host: '127.0.0.1', port: edge.port },
      port,
    });
    try {
      const url = await proc.waitFor(
        () => proc.lines.find((l) => l.startsWith('http')),
        30_000,
        'the tunnel URL',
      );
      expect(url).toContain('localhost');
      expect(stale.forwarded).toBeGreaterThan(0);
    } finally {
      await stale.close();
    }
  });

  it('rejects a --ca file that holds no certificate before connecting', async () => {
    const bad = scratch.write('not-a-ca.pem', 'hello\n');
    const proc = spawnAgent({ url: `https://localhost:${terminator.port}` }, String(originPort), {
      args: ['--log', 'text', '--ca', bad],
    });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr.join('\n')).toContain('ca (from flag --ca) must be');
    expect(proc.stderr.join('\n')).toContain(bad);
  });
});
