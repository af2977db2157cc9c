import http from 'node:http';
import { WEBSOCKET_SUBPROTOCOL, WebSocketTransport } from '@burrow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startAgent } from './agent.js';
import { silentOutput } from './agent-output.js';
import { loadAgentConfig } from './config/index.js';
import { connectUrl, dialWebSocket } from './edge-dialer.js';
import { FakeEdge } from './test-support/fake-edge.js';
import { listenOnLoopback } from './test-support/loopback-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: http.Server): Promise<number> {
  const listening = await listenOnLoopback(server);
  cleanups.push(listening.close);
  return listening.port;
}

/** An HTTP server whose /_burrow/connect upgrades to a FakeEdge session, like the real edge. */
async function startWebSocketEdge(
  edge: FakeEdge,
): Promise<{ port: number; protocols: string[]; paths: string[] }> {
  const protocols: string[] = [];
  const paths: string[] = [];
  const server = http.createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has(WEBSOCKET_SUBPROTOCOL) ? WEBSOCKET_SUBPROTOCOL : false),
  });
  server.on('upgrade', (req, socket, head) => {
    paths.push(req.url ?? '');
    if (req.url !== '/_burrow/connect') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      protocols.push(ws.protocol);
      edge.serve(new WebSocketTransport(ws, { remoteAddress: req.socket.remoteAddress ?? '' }));
    });
  });
  const port = await listen(server);
  cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  return { port, protocols, paths };
}

describe('connectUrl', () => {
  it('maps http to ws and https to wss under /_burrow/connect, keeping a base path', () => {
    expect(connectUrl(new URL('http://localhost:8080')).href).toBe('ws://localhost:8080/_burrow/connect');
    expect(connectUrl(new URL('https://edge.example.com/')).href).toBe(
      'wss://edge.example.com/_burrow/connect',
    );
    expect(connectUrl(new URL('https://example.com/burrow/')).href).toBe(
      'wss://example.com/burrow/_burrow/connect',
    );
  });
});

describe('dialWebSocket', () => {
  it('carries a whole agent session over a real WebSocket with the burrow subprotocol', async () => {
    const originServer = http.createServer((req, res) => res.end(`origin saw ${req.headers.host}`));
    const originPort = await listen(originServer);
    const edge = new FakeEdge();
    const { port, protocols, paths } = await startWebSocketEdge(edge);
    const config = loadAgentConfig({
      env: { BURROW_SERVER: `http://127.0.0.1:${port}` },
      cwd: '/',
      tunnel: { target: String(originPort) },
    });
    const agent = startAgent(config, { output: silentOutput });
    cleanups.push(() => agent.destroy());
    const [tunnel] = await agent.tunnels;
    expect(tunnel?.url).toBe('http://tmp1.localhost:8080');
    expect(paths).toEqual(['/_burrow/connect']);
    expect(protocols).toEqual([WEBSOCKET_SUBPROTOCOL]);

    const stream = edge.connections[0]!.session.openStream();
    const body = new Promise<string>((resolve) => {
      let text = '';
      stream.on('data', (chunk) => (text += chunk.toString()));
      stream.on('end', () => resolve(text));
    });
    stream.open(
      {
        tunnel: 'tmp1',
        method: 'GET',
        path: '/',
        headers: ['Host', 'tmp1.localhost:8080'],
        remoteAddress: '',
        requestId: 'r',
      },
      { fin: true, upgrade: false },
    );
    expect(await body).toBe('origin saw tmp1.localhost:8080');
    await agent.close();
  });

  it('reaches an edge at a name under .localhost (loopback by RFC 6761) even where the system resolver does not', async () => {
    const { port, paths } = await startWebSocketEdge(new FakeEdge());
    const transport = await dialWebSocket({
      server: new URL(`http://dev.localhost:${port}`),
      ca: null,
      maxFramePayload: 64 * 1024,
      signal: new AbortController().signal,
      timeoutMs: 2000,
    });
    transport.close();
    expect(paths).toEqual(['/_burrow/connect']);
  });

  it('fails with TUN_ERR_CONNECT_FAILED naming the address when nothing listens', async () => {
    const server = http.createServer();
    const port = await listen(server);
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    const attempt = dialWebSocket({
      server: new URL(`http://127.0.0.1:${port}`),
      ca: null,
      maxFramePayload: 64 * 1024,
      signal: new AbortController().signal,
      timeoutMs: 2000,
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'TUN_ERR_CONNECT_FAILED',
      message: `connection refused by the edge at 127.0.0.1:${port}`,
    });
  });

  it('fails for good (not retryable) when the server is not a Burrow edge', async () => {
    const { port } = await startWebSocketEdge(new FakeEdge());
    const attempt = dialWebSocket({
      server: new URL(`http://127.0.0.1:${port}/elsewhere`),
      ca: null,
      maxFramePayload: 64 * 1024,
      signal: new AbortController().signal,
      timeoutMs: 2000,
    });
    await expect(attempt).rejects.toMatchObject({ code: 'TUN_ERR_CONFIG_INVALID', retryable: false });
  });

  it('gives up a connection attempt when aborted', async () => {
    // A server that accepts TCP but never answers the upgrade.
    const server = http.createServer();
    const sockets: { destroy(): void }[] = [];
    server.on('upgrade', (_req, socket) => sockets.push(socket));
    const port = await listen(server);
    // Upgraded sockets are no longer the server's to close.
    cleanups.push(() => sockets.forEach((socket) => socket.destroy()));
    const stop = new AbortController();
    const attempt = dialWebSocket({
      server: new URL(`http://127.0.0.1:${port}`),
      ca: null,
      maxFramePayload: 64 * 1024,
      signal: stop.signal,
      timeoutMs: 10_000,
    });
    setTimeout(() => stop.abort(), 50);
    await expect(attempt).rejects.toMatchObject({
      code: 'TUN_ERR_CONNECT_FAILED',
      message: 'connection attempt cancelled',
    });
  });
});
