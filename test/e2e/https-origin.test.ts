/**
 * HTTPS origins behind a real edge and agent: node:https servers on loopback with
 * certificates from private CAs the agent does not know. Loopback origins are not verified
 * by default; a CA, a server name or --origin-tls-verify turns verification on, and a failed
 * check reaches the viewer as 502 TUN_ERR_ORIGIN_TLS. SNI is never the tunnel's public name.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createTestCa, type TestCaFiles, type TestCertificate } from '../support/test-ca.js';
import { useScratchDir } from '../support/scratch-dir.js';
import {
  createApiKey,
  startAgent,
  startEdge,
  stopAll,
  tunnelRequest,
  type Agent,
  type Edge,
} from './harness.js';

const scratch = useScratchDir('burrow-https-origin-');
let edge: Edge;
let token: string;
let privateCa: TestCaFiles;
const servers: Server[] = [];

interface HttpsOrigin {
  readonly port: number;
  /** The SNI of each request's connection (false when the client sent none). */
  readonly sni: (string | false | null)[];
}

async function startHttpsOrigin(cert: TestCertificate): Promise<HttpsOrigin> {
  const sni: (string | false | null)[] = [];
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    sni.push((req.socket as TLSSocket).servername);
    res.setHeader('content-type', 'text/plain');
    res.end(`secure ${String((req.socket as TLSSocket).encrypted)} ${req.url}`);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    sni.push((req.socket as TLSSocket).servername);
    ws.on('message', (data) => ws.send(`echo ${Buffer.from(data as Buffer).toString()}`));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, sni };
}

let untrusted: HttpsOrigin;
let named: HttpsOrigin;

beforeAll(async () => {
  // A CA nobody passes to the agent: its certificates stand for a dev server's self-signed one.
  const devCa = await createTestCa({ name: 'Dev Server Self-Signed' });
  privateCa = await createTestCa({ dir: scratch.path, name: 'Private Origin CA' });
  untrusted = await startHttpsOrigin(await devCa.issue({ names: ['localhost', '127.0.0.1'] }));
  named = await startHttpsOrigin(await privateCa.issue({ names: ['other.test'] }));
  edge = await startEdge();
  // A key lifts the per-address cap on anonymous tunnels; this file starts seven agents.
  token = await createApiKey(edge.dataDir);
});

/** `burrow http <target> [args]` with the file's API key. */
function serve(target: string, args: string[] = []): Promise<Agent> {
  return startAgent(edge, target, { token, args });
}

afterAll(async () => {
  await stopAll();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function get(name: string, path: string): Promise<{ status: number; code: unknown; body: string }> {
  const res = await tunnelRequest(edge, name, path);
  return { status: res.statusCode, code: res.headers['x-burrow-error'], body: await res.body.text() };
}

describe('https:// origins', () => {
  it('serves a loopback origin with an untrusted certificate by default, without the public name as SNI', async () => {
    const agent = await serve(`https://127.0.0.1:${untrusted.port}`);
    expect(await get(agent.name, '/dev')).toEqual({ status: 200, code: undefined, body: 'secure true /dev' });
    // An IP origin gets no SNI at all (the viewer's Host was <name>.localhost).
    expect(untrusted.sni.at(-1)).toBe(false);
  });

  it('sends localhost as SNI for https://localhost', async () => {
    const agent = await serve(`https://localhost:${untrusted.port}`);
    expect((await get(agent.name, '/by-name')).status).toBe(200);
    expect(untrusted.sni.at(-1)).toBe('localhost');
  });

  it('with --origin-tls-verify answers 502 TUN_ERR_ORIGIN_TLS naming the verification error', async () => {
    const agent = await serve(`https://127.0.0.1:${untrusted.port}`, ['--origin-tls-verify']);
    const answer = await get(agent.name, '/strict');
    expect(answer.status).toBe(502);
    expect(answer.code).toBe('TUN_ERR_ORIGIN_TLS');
    expect(answer.body).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(answer.body).toContain(`127.0.0.1:${untrusted.port}`);
  });

  it('verifies an origin given a server name, and trusts it once its CA is given', async () => {
    const target = `https://127.0.0.1:${named.port}`;
    const withoutCa = await serve(target, ['--origin-server-name', 'other.test']);
    const refused = await get(withoutCa.name, '/no-ca');
    expect([refused.status, refused.code]).toEqual([502, 'TUN_ERR_ORIGIN_TLS']);

    const withCa = await serve(target, [
      '--origin-server-name',
      'other.test',
      '--origin-ca',
      privateCa.certFile,
    ]);
    expect(await get(withCa.name, '/with-ca')).toEqual({
      status: 200,
      code: undefined,
      body: 'secure true /with-ca',
    });
    expect(named.sni.at(-1)).toBe('other.test');
  });

  it('refuses a trusted certificate for another name', async () => {
    const agent = await serve(`https://127.0.0.1:${named.port}`, [
      '--origin-server-name',
      'wrong.test',
      '--origin-ca',
      privateCa.certFile,
    ]);
    const answer = await get(agent.name, '/wrong-name');
    expect([answer.status, answer.code]).toEqual([502, 'TUN_ERR_ORIGIN_TLS']);
    expect(answer.body).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('forwards a WebSocket upgrade to an https origin, verified the same way', async () => {
    const agent = await serve(`https://127.0.0.1:${named.port}`, [
      '--origin-server-name',
      'other.test',
      '--origin-ca',
      privateCa.certFile,
    ]);
    const ws = new WebSocket(`ws://127.0.0.1:${edge.port}/socket`, {
      headers: { host: edge.host(agent.name) },
    });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('over tls'));
      ws.once('message', (data) => resolve(Buffer.from(data as Buffer).toString()));
      ws.once('error', reject);
    });
    ws.close();
    expect(reply).toBe('echo over tls');
    expect(named.sni.at(-1)).toBe('other.test');

    const strict = await serve(`https://127.0.0.1:${untrusted.port}`, ['--origin-tls-verify']);
    const refused = new WebSocket(`ws://127.0.0.1:${edge.port}/socket`, {
      headers: { host: edge.host(strict.name) },
    });
    const status = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.once('open', () => resolve(101));
      refused.once('error', () => resolve(-1));
    });
    refused.terminate();
    expect(status).toBe(502);
  });
});
