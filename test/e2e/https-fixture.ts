/**
 * An edge with an HTTPS listener, in this process (its certificate comes from a test CA
 * through the `certificates` option until the CLI's certificate file source is on main),
 * and a real `burrow http` agent tunnelling to `originPort` over the plain listener.
 */

import type { RequestListener } from 'node:http';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { WebSocketServer } from 'ws';
import { createLogger, EdgeServer, loadEdgeConfig } from '../../packages/edge/src/index.js';
import {
  makeTestCertificates,
  staticCertificates,
  type TestCertificates,
} from '../../packages/edge/src/listeners/test-support/test-certificates.js';
import { spawnAgent, startOrigin, tempDir } from './harness.js';

export const HTTPS_DOMAIN = 'burrow.test';

export interface HttpsTunnel {
  edge: EdgeServer;
  certs: TestCertificates;
  httpsPort: number;
  /** The tunnel's name and `<name>.burrow.test`. */
  name: string;
  host: string;
  /** The URL the agent printed. */
  printedUrl: string;
  /** The origin's port, and its WebSocket server (it echoes every message). */
  originPort: number;
  wss: WebSocketServer;
  stop(): void;
}

/** The origin (`handler`, with a `ws` echo server on it), the edge and the agent. */
export async function startHttpsTunnel(
  handler: RequestListener,
  flags: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<HttpsTunnel> {
  const certs = await makeTestCertificates([HTTPS_DOMAIN, `*.${HTTPS_DOMAIN}`]);
  const origin = await startOrigin(handler);
  const wss = new WebSocketServer({ server: origin.server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const config = loadEdgeConfig({
    flags: {
      listen: '127.0.0.1:0',
      httpsListen: '127.0.0.1:0',
      domain: HTTPS_DOMAIN,
      data: tempDir(),
      ...flags,
    },
    env,
    cwd: process.cwd(),
  });
  const edge = await EdgeServer.start({
    config,
    log: createLogger('warn'),
    certificates: { selector: staticCertificates(certs).selector },
  });
  // The agent reaches the edge over the plain listener (agent TLS is another part of issue 11).
  const agent = spawnAgent({ url: `http://127.0.0.1:${edge.port}` }, String(origin.port));
  const tunnel = await agent.waitFor(
    () => agent.json.find((l) => l.event === 'tunnel'),
    15_000,
    'the tunnel',
  );
  const name = tunnel.name as string;
  return {
    edge,
    certs,
    httpsPort: edge.httpsPort!,
    name,
    host: `${name}.${HTTPS_DOMAIN}`,
    printedUrl: tunnel.url as string,
    originPort: origin.port,
    wss,
    stop: () => {
      wss.close();
      edge.destroy();
      certs.remove();
    },
  };
}

/**
 * An HTTP/2 session to the edge's HTTPS listener for `host` (SNI and `:authority`), trusting
 * the test CA. Errors are the test's to see on its streams; the session's own are ignored.
 */
export function h2session(tunnel: HttpsTunnel, host: string): ClientHttp2Session {
  const session = h2connect(`https://${host}:${tunnel.httpsPort}`, {
    createConnection: () =>
      tlsConnect({
        host: '127.0.0.1',
        port: tunnel.httpsPort,
        servername: host,
        ca: tunnel.certs.caPem,
        ALPNProtocols: ['h2'],
      }),
  });
  session.on('error', () => {});
  return session;
}

/** `promise`, or a rejection naming `what` once `ms` have passed without it. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms),
    ),
  ]);
}
