/** Per-tunnel access policy set from the agent CLI and enforced by the edge before the agent. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAgent, startEdge, stopAll, tunnelRequest, type Edge } from './harness.js';

let edge: Edge;
let originPort: number;
/** Requests the origin saw: the policy must stop refused ones before they get here. */
const seen: { url: string; headers: string[] }[] = [];
const origin = createServer((req, res) => {
  seen.push({ url: req.url ?? '', headers: req.rawHeaders });
  res.setHeader('X-Internal', 'secret-detail');
  res.end(JSON.stringify({ url: req.url, host: req.headers.host, headers: req.rawHeaders }));
});
const wss = new WebSocketServer({ server: origin });
wss.on('connection', (ws) => ws.on('message', (d) => ws.send(Buffer.from(d as Buffer).toString())));

beforeAll(async () => {
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
  // Every agent here is anonymous and on 127.0.0.1: lift the per-address tunnel limit.
  edge = await startEdge({ env: { BURROW_TUNNELS_ANONYMOUS_TUNNELS_PER_IP: '100' } });
});

afterAll(async () => {
  await stopAll();
  wss.close();
  origin.closeAllConnections();
  origin.close();
});

const basic = (user: string, pass: string): string =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('per-tunnel policy', () => {
  it('asks for basic auth, admits the right password and never forwards the credentials', async () => {
    const agent = await startAgent(edge, String(originPort), { args: ['--basic-auth', 'alice:wonder land'] });
    const before = seen.length;
    const missing = await tunnelRequest(edge, agent.name, '/private');
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Basic/);
    await missing.body.dump();
    const wrong = await tunnelRequest(edge, agent.name, '/private', {
      headers: { authorization: basic('alice', 'nope') },
    });
    expect(wrong.statusCode).toBe(401);
    expect(await wrong.body.text()).not.toContain('wonder land');
    expect(seen.length).toBe(before);
    const ok = await tunnelRequest(edge, agent.name, '/private', {
      headers: { authorization: basic('alice', 'wonder land') },
    });
    expect(ok.statusCode).toBe(200);
    const body = (await ok.body.json()) as { headers: string[] };
    expect(body.headers.map((h) => h.toLowerCase())).not.toContain('authorization');
    expect(agent.proc.output).not.toContain('wonder land');
  });

  it('admits a bearer token, and a browser that came with ?burrow_token= gets a cookie', async () => {
    const agent = await startAgent(edge, String(originPort), { args: ['--auth-token', 'tok-123456'] });
    expect((await tunnelRequest(edge, agent.name, '/')).statusCode).toBe(401);
    const bearer = await tunnelRequest(edge, agent.name, '/api', {
      headers: { authorization: 'Bearer tok-123456' },
    });
    expect(bearer.statusCode).toBe(200);
    await bearer.body.dump();
    const nav = await tunnelRequest(edge, agent.name, '/page?burrow_token=tok-123456&x=1', {
      headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' },
    });
    expect(nav.statusCode).toBe(302);
    expect(nav.headers.location).toBe('/page?x=1');
    const cookie = String(nav.headers['set-cookie']).split(';')[0]!;
    expect(cookie).not.toContain('tok-123456');
    await nav.body.dump();
    const withCookie = await tunnelRequest(edge, agent.name, '/page?x=1', { headers: { cookie } });
    expect(withCookie.statusCode).toBe(200);
    const body = (await withCookie.body.json()) as { headers: string[] };
    expect(body.headers.join('\n')).not.toContain('burrow_token');
  });

  it('denies by IP before reaching the agent, naming the client address', async () => {
    const agent = await startAgent(edge, String(originPort), { args: ['--deny-ip', '127.0.0.0/8'] });
    const before = seen.length;
    const res = await tunnelRequest(edge, agent.name, '/');
    expect(res.statusCode).toBe(403);
    expect(await res.body.text()).toContain('127.0.0.1');
    expect(seen.length).toBe(before);
    const allowed = await startAgent(edge, String(originPort), {
      args: ['--allow-ip', '::1/128', '--allow-ip', '127.0.0.1'],
    });
    expect((await tunnelRequest(edge, allowed.name, '/')).statusCode).toBe(200);
  });

  it('rate-limits per client IP with 429 and Retry-After', async () => {
    const agent = await startAgent(edge, String(originPort), { args: ['--rate-limit', '5/s'] });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 12; i++) {
      const res = await tunnelRequest(edge, agent.name, '/');
      statuses.push(res.statusCode);
      if (res.statusCode === 429) retryAfter = res.headers['retry-after'] as string;
      await res.body.dump();
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 200).length).toBeLessThan(12);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('slows down and then locks out repeated wrong passwords with 429', async () => {
    const agent = await startAgent(edge, String(originPort), { args: ['--basic-auth', 'bob:right'] });
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 7; i++) {
      const res = await tunnelRequest(edge, agent.name, '/', {
        headers: { authorization: basic('bob', `wrong${i}`) },
      });
      statuses.push(res.statusCode);
      await res.body.dump();
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(Date.now() - started).toBeGreaterThan(2000);
    // Locked out: even the right password gets 429 now, without being checked.
    const right = await tunnelRequest(edge, agent.name, '/', {
      headers: { authorization: basic('bob', 'right') },
    });
    expect(right.statusCode).toBe(429);
    await right.body.dump();
  });

  it('edits request and response headers and rewrites Host for dev servers', async () => {
    const agent = await startAgent(edge, String(originPort), {
      args: [
        '--host-header',
        'rewrite',
        '--request-header-add',
        'X-From-Tunnel: yes',
        '--request-header-remove',
        'X-Drop-Me',
        '--response-header-add',
        'X-Served-By: burrow',
        '--response-header-remove',
        'X-Internal',
      ],
    });
    const res = await tunnelRequest(edge, agent.name, '/h', { headers: { 'x-drop-me': '1' } });
    const body = (await res.body.json()) as { host: string; headers: string[] };
    expect(body.host).toBe(`127.0.0.1:${originPort}`);
    expect(body.headers).toContain('X-From-Tunnel');
    expect(body.headers.map((h) => h.toLowerCase())).not.toContain('x-drop-me');
    expect(res.headers['x-served-by']).toBe('burrow');
    expect(res.headers['x-internal']).toBeUndefined();
  });

  it('guards WebSocket upgrades with the same policy', async () => {
    const agent = await startAgent(edge, String(originPort), { args: ['--auth-token', 'ws-token-1'] });
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${edge.port}/ws`, {
        headers: { host: edge.host(agent.name) },
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);
    const ws = new WebSocket(`ws://127.0.0.1:${edge.port}/ws`, {
      headers: { host: edge.host(agent.name), authorization: 'Bearer ws-token-1' },
    });
    await new Promise((r) => ws.once('open', r));
    ws.send('hi');
    const reply = await new Promise<string>((r) =>
      ws.once('message', (d) => r(Buffer.from(d as Buffer).toString())),
    );
    expect(reply).toBe('hi');
    ws.close();
  });

  it('refuses a tunnel whose policy is invalid, saying which field is wrong', async () => {
    await expect(
      startAgent(edge, String(originPort), { args: ['--allow-ip', '300.1.2.3/99'] }),
    ).rejects.toThrow(/allowIp/);
  });
});
