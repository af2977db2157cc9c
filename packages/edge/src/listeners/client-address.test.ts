import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { clientAddressOf, resolveClientAddresses } from './client-address.js';
import { TrustedProxies } from './trusted-proxies.js';

let server: Server;
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function serve(trust: string[], seen: (req: IncomingMessage) => void): Promise<number> {
  server = createServer((req, res) => {
    seen(req);
    res.end(clientAddressOf(req));
  });
  server.on('upgrade', (req, socket) => {
    seen(req);
    socket.end(`HTTP/1.1 400 Bad Request\r\nX-Client: ${clientAddressOf(req)}\r\nContent-Length: 0\r\n\r\n`);
  });
  resolveClientAddresses(server, TrustedProxies.parse(trust));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

describe('clientAddressOf', () => {
  it('is the forwarded client when the peer is trusted', async () => {
    const port = await serve(['127.0.0.0/8'], () => undefined);
    const res = await request(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-for': '203.0.113.5' } });
    expect(await res.body.text()).toBe('203.0.113.5');
  });

  it('is the peer when it is not trusted, whatever it claims', async () => {
    const port = await serve(['10.0.0.0/8'], () => undefined);
    const res = await request(`http://127.0.0.1:${port}/`, {
      headers: { 'x-forwarded-for': '203.0.113.5', forwarded: 'for=203.0.113.6' },
    });
    expect(await res.body.text()).toBe('127.0.0.1');
  });

  it('is resolved once: headers changed later do not move it', async () => {
    const port = await serve(['127.0.0.1'], (req) => {
      req.headers['x-forwarded-for'] = '1.1.1.1';
      req.rawHeaders.push('X-Forwarded-For', '1.1.1.1');
    });
    const res = await request(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-for': '203.0.113.5' } });
    expect(await res.body.text()).toBe('203.0.113.5');
  });

  it('is resolved for upgrades too', async () => {
    const port = await serve(['127.0.0.1'], () => undefined);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { 'X-Forwarded-For': '203.0.113.8' } });
    const client = await new Promise<string | undefined>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.headers['x-client'] as string | undefined));
      ws.on('error', () => resolve(undefined));
    });
    expect(client).toBe('203.0.113.8');
  });
});
