/** The two CLIs as a user meets them: output format, config files, keys, clear errors. */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AGENT_CLI,
  EDGE_CLI,
  Proc,
  createApiKey,
  startEdge,
  startOrigin,
  stopAll,
  tempDir,
  tunnelRequest,
} from './harness.js';
import { originHandler } from './origin.js';

afterEach(stopAll);

describe('burrow (agent CLI)', () => {
  it('prints the URL on a line of its own, then one line per request', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const agent = new Proc([AGENT_CLI, 'http', String(origin.port), '--server', edge.url]);
    const url = await agent.waitFor(
      () => agent.lines.find((l) => /^http:\/\/[2-9a-z]{6}\.localhost:\d+$/.test(l)),
      10_000,
      'the URL line',
    );
    const name = new URL(url).hostname.split('.')[0]!;
    const res = await tunnelRequest(edge, name, '/echo/logged?x=1', { method: 'POST', body: 'hi' });
    await res.body.dump();
    const line = await agent.waitFor(
      () => agent.lines.find((l) => l.includes('/echo/logged')),
      5000,
      'request line',
    );
    expect(line).toMatch(/^POST \/echo\/logged\?x=1 200 \d+ ?ms$/);
    // Not a TTY: no escape sequences anywhere.
    expect(agent.output.includes('\u001b[')).toBe(false);
  });

  it('prints JSON lines with --log json, including the tunnel event', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const agent = new Proc([AGENT_CLI, 'http', String(origin.port), '--server', edge.url, '--log', 'json']);
    const tunnel = await agent.waitFor(
      () => agent.json.find((l) => l.event === 'tunnel'),
      10_000,
      'tunnel event',
    );
    expect(tunnel.url).toMatch(/^http:\/\/[2-9a-z]{6}\.localhost:\d+$/);
    const res = await tunnelRequest(edge, tunnel.name as string, '/status?code=204');
    await res.body.dump();
    const req = await agent.waitFor(
      () => agent.json.find((l) => l.event === 'request'),
      5000,
      'request event',
    );
    expect(req).toMatchObject({ method: 'GET', path: '/status?code=204', status: 204 });
    for (const line of agent.lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('starts every tunnel of burrow.yml over one session', async () => {
    const a = await startOrigin((_, res) => res.end('origin A'));
    const b = await startOrigin((_, res) => res.end('origin B'));
    const edge = await startEdge();
    const token = await createApiKey(edge.dataDir);
    const file = join(tempDir(), 'burrow.yml');
    writeFileSync(
      file,
      `server: ${edge.url}\ntoken: ${token}\ntunnels:\n  web:\n    proto: http\n    addr: ${a.port}\n    name: site-a\n  api:\n    proto: http\n    addr: 127.0.0.1:${b.port}\n    name: site-b\n`,
    );
    const agent = new Proc([AGENT_CLI, 'start', '--config', file, '--log', 'json']);
    await agent.waitFor(
      () => (agent.json.filter((l) => l.event === 'tunnel').length === 2 ? true : undefined),
      10_000,
      'two tunnels',
    );
    expect(await (await tunnelRequest(edge, 'site-a', '/')).body.text()).toBe('origin A');
    expect(await (await tunnelRequest(edge, 'site-b', '/')).body.text()).toBe('origin B');
    const health = (await (await fetch(`${edge.url}/health`)).json()) as {
      sessions: number;
      tunnels: number;
    };
    expect(health).toMatchObject({ sessions: 1, tunnels: 2 });
  });

  it('says what to do when the target is not a port or URL', async () => {
    const agent = new Proc([AGENT_CLI, 'http', 'not-a-port']);
    expect(await agent.exited).toBe(1);
    expect(agent.stderr.join('\n')).toMatch(/not-a-port/);
  });

  it('says so clearly when the edge cannot be reached, and keeps retrying', async () => {
    const agent = new Proc([AGENT_CLI, 'http', '3000', '--server', 'http://127.0.0.1:9', '--log', 'json']);
    const event = await agent.waitFor(
      () => agent.json.find((l) => l.event === 'reconnecting'),
      10_000,
      'retry',
    );
    expect(String(event.reason)).toMatch(/127\.0\.0\.1:9|refused/i);
    expect(agent.child.exitCode).toBeNull();
  });
});

describe('burrow-edge (edge CLI)', () => {
  it('creates, lists and revokes API keys; a revoked key is refused', async () => {
    const edge = await startEdge();
    const token = await createApiKey(edge.dataDir);
    expect(token).toMatch(/^bk_[0-9A-Za-z]{8}_[0-9A-Za-z]{20,}$/);
    const list = new Proc([EDGE_CLI, 'keys', 'list', '--data', edge.dataDir, '--json']);
    expect(await list.exited).toBe(0);
    const keys = JSON.parse(list.lines.join('')) as { id: string; prefix: string }[];
    expect(keys).toHaveLength(1);
    expect(list.output).not.toContain(token);
    const revoke = new Proc([EDGE_CLI, 'keys', 'revoke', keys[0]!.prefix, '--data', edge.dataDir]);
    expect(await revoke.exited).toBe(0);
    const origin = await startOrigin(originHandler);
    const agent = new Proc([AGENT_CLI, 'http', String(origin.port), '--server', edge.url, '--token', token]);
    expect(await agent.exited).toBe(1);
    expect(agent.stderr.join('\n')).toMatch(/TUN_ERR_UNAUTHORIZED/);
  });

  it('names the bad setting and its source', async () => {
    const edge = new Proc([EDGE_CLI, 'start', '--listen', '127.0.0.1:0', '--data', tempDir()], {
      BURROW_LIMITS_STREAM_WINDOW: 'abc',
    });
    expect(await edge.exited).toBe(1);
    expect(edge.stderr.join('\n')).toMatch(/limits\.streamWindow.*BURROW_LIMITS_STREAM_WINDOW/);
  });

  it('refuses a listen address that is not host:port', async () => {
    const edge = new Proc([EDGE_CLI, 'start', '--listen', 'nonsense', '--data', tempDir()]);
    expect(await edge.exited).toBe(1);
    expect(edge.stderr.join('\n')).toMatch(/listen/);
  });
});
