/** Behaviour under failure: each case from the tunnel-core issue, against real processes. */

import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createApiKey,
  startAgent,
  restartEdge,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  type Edge,
} from './harness.js';
import { originHandler } from './origin.js';

afterEach(stopAll);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function expectError(
  edge: Edge,
  name: string,
  status: number,
  code: string,
  text: RegExp,
): Promise<void> {
  const res = await tunnelRequest(edge, name, '/echo');
  const body = await res.body.text();
  expect(res.statusCode).toBe(status);
  expect(res.headers['x-burrow-error']).toBe(code);
  expect(body).toMatch(text);
}

describe('failures', () => {
  it('answers an unknown host with a 404 that names the host', async () => {
    const edge = await startEdge();
    await expectError(
      edge,
      'nosuch',
      404,
      'TUN_ERR_TUNNEL_NOT_FOUND',
      new RegExp(`nosuch\\.localhost:${edge.port}`),
    );
    const html = await tunnelRequest(edge, 'nosuch', '/', { headers: { accept: 'text/html' } });
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(await html.body.text()).toContain('nosuch.localhost');
  });

  it('answers 502 saying the agent is offline once it is gone', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ env: { BURROW_TIMEOUTS_RECONNECT_GRACE_MS: '500' } });
    const agent = await startAgent(edge, String(origin.port));
    agent.proc.signal('SIGKILL');
    await agent.proc.exited;
    const started = Date.now();
    await expectError(edge, agent.name, 502, 'TUN_ERR_AGENT_OFFLINE', /offline/);
    expect(Date.now() - started).toBeLessThan(3000);
    // Long after the grace period it answers at once, still naming the cause.
    await expectError(edge, agent.name, 502, 'TUN_ERR_AGENT_OFFLINE', /offline/);
  });

  it("answers 502 with the agent's reason when the origin refuses", async () => {
    const edge = await startEdge();
    const agent = await startAgent(edge, String(await closedPort()));
    await expectError(edge, agent.name, 502, 'TUN_ERR_ORIGIN_REFUSED', /refused/);
  });

  it('answers 504 after the configured timeout when the origin is silent', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ env: { BURROW_TIMEOUTS_REQUEST_MS: '1000' } });
    const agent = await startAgent(edge, String(origin.port));
    const started = Date.now();
    const res = await tunnelRequest(edge, agent.name, '/silent');
    expect(res.statusCode).toBe(504);
    expect(res.headers['x-burrow-error']).toBe('TUN_ERR_ORIGIN_TIMEOUT');
    await res.body.dump();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(5000);
  });

  it('holds a request while the agent restarts and serves it when the agent is back', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const token = await createApiKey(edge.dataDir);
    const first = await startAgent(edge, String(origin.port), { name: 'myapp', token });
    expect(first.url).toBe(`http://myapp.localhost:${edge.port}`);
    first.proc.signal('SIGKILL');
    await first.proc.exited;
    const pending = tunnelRequest(edge, 'myapp', '/echo?while=restarting');
    await new Promise((r) => setTimeout(r, 700));
    const second = await startAgent(edge, String(origin.port), { name: 'myapp', token });
    expect(second.url).toBe(first.url);
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { url: string }).url).toBe('/echo?while=restarting');
  });

  it('lets in-flight requests finish when the agent is stopped with Ctrl-C', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const agent = await startAgent(edge, String(origin.port));
    const slow = tunnelRequest(edge, agent.name, '/slow?ms=800');
    await new Promise((r) => setTimeout(r, 200));
    agent.proc.signal('SIGINT');
    const res = await slow;
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('slow');
    expect(await agent.proc.exited).toBe(0);
  });

  it('gets agents back by themselves after an edge restart, with the same URLs', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const token = await createApiKey(edge.dataDir);
    const named = await startAgent(edge, String(origin.port), { name: 'stable', token });
    const temporary = await startAgent(edge, String(origin.port));
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await restartEdge(edge, signal);
      for (const name of [named.name, temporary.name]) {
        const res = await tunnelRequest(edge, name, `/echo?after=${signal}`);
        expect(res.statusCode).toBe(200);
        expect(((await res.body.json()) as { url: string }).url).toBe(`/echo?after=${signal}`);
      }
    }
    expect(named.proc.child.exitCode).toBeNull();
    expect(temporary.proc.child.exitCode).toBeNull();
  });

  it("keeps a browser's burrow_token cookie valid across an edge restart (the edge secret lives in its data directory)", async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const agent = await startAgent(edge, String(origin.port), { args: ['--auth-token', 'tok-restart-1'] });
    const nav = await tunnelRequest(edge, agent.name, '/page?burrow_token=tok-restart-1', {
      headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' },
    });
    expect(nav.statusCode).toBe(302);
    await nav.body.dump();
    const cookie = String(nav.headers['set-cookie']).split(';')[0]!;
    await restartEdge(edge);
    const withCookie = await tunnelRequest(edge, agent.name, '/echo', { headers: { cookie } });
    expect(withCookie.statusCode).toBe(200);
    await withCookie.body.dump();
    const without = await tunnelRequest(edge, agent.name, '/echo');
    expect(without.statusCode).toBe(401);
    await without.body.dump();
  });

  it('refuses a named tunnel without an API key, and a name owned by another key', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    await expect(startAgent(edge, String(origin.port), { name: 'mine' })).rejects.toThrow(
      /TUN_ERR_NAME_REQUIRES_KEY/,
    );
    // Names belong to users, so the two keys must belong to two users.
    const alice = await createApiKey(edge.dataDir);
    const mallory = await createApiKey(edge.dataDir, 'mallory');
    await startAgent(edge, String(origin.port), { name: 'mine', token: alice });
    await expect(startAgent(edge, String(origin.port), { name: 'mine', token: mallory })).rejects.toThrow(
      /TUN_ERR_NAME_TAKEN/,
    );
    await expect(startAgent(edge, String(origin.port), { token: 'bk_nope_nope' })).rejects.toThrow(
      /TUN_ERR_UNAUTHORIZED/,
    );
  });
});
