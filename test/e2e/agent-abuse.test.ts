/** Edge-wide limits on agents: sessions and tunnels per key, anonymous tunnels per address, guessed keys. */

import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FrameType, WEBSOCKET_SUBPROTOCOL, encodeFrame, encodeJson } from '@burrow/protocol';
import {
  createApiKey,
  restartEdge,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  spawnAgent,
} from './harness.js';
import { originHandler } from './origin.js';

afterEach(stopAll);

/** One handshake with `token`; resolves with the HTTP status of a refused upgrade, or 101. */
function tryKey(port: number, token: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/_burrow/connect`, WEBSOCKET_SUBPROTOCOL);
    ws.on('unexpected-response', (_req, res) =>
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }),
    );
    ws.on('error', () => undefined);
    ws.on('open', () => {
      const hello = { versions: [1], agent: 'guesser', token, window: 65536, maxFramePayload: 65536 };
      ws.send(encodeFrame(FrameType.HELLO, 0, 0, encodeJson(hello)));
      ws.once('close', () => resolve({ status: 101 }));
    });
  });
}

describe('limits on agents', () => {
  it('refuses a second live session for a key past limits.sessionsPerKey, and keeps retrying', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ env: { BURROW_LIMITS_SESSIONS_PER_KEY: '1' } });
    const token = await createApiKey(edge.dataDir);
    await startAgent(edge, String(origin.port), { token });
    const second = spawnAgent(edge, String(origin.port), { token });
    const retry = await second.waitFor(
      () => second.json.find((l) => l.event === 'reconnecting'),
      10_000,
      'a retry',
    );
    expect(retry.code).toBe('TUN_ERR_SESSION_LIMIT');
    expect(String(retry.reason)).toMatch(/live agent sessions/);
  });

  it('refuses anonymous tunnels past tunnels.anonymousTunnelsPerIp for one address', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ env: { BURROW_TUNNELS_ANONYMOUS_TUNNELS_PER_IP: '2' } });
    await startAgent(edge, String(origin.port));
    await startAgent(edge, String(origin.port));
    const error = await startAgent(edge, String(origin.port)).catch((err: Error) => err.message);
    expect(error).toMatch(/TUN_ERR_TUNNEL_LIMIT/);
    expect(error).toMatch(/use an API key/);
    // A key-holder is not counted against the anonymous limit.
    const token = await createApiKey(edge.dataDir);
    await startAgent(edge, String(origin.port), { token });
  });

  it('slows down guessed API keys and then refuses the address with 429 and Retry-After', async () => {
    const edge = await startEdge();
    const started = Date.now();
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await tryKey(edge.port, `bk_guess${i}_nope`));
    expect(results.slice(0, 5).map((r) => r.status)).toEqual([101, 101, 101, 101, 101]);
    expect(results[5]!.status).toBe(429);
    expect(Number(results[5]!.retryAfter)).toBeGreaterThan(0);
    // Each miss was answered more slowly than the last: 0 + 0.5 + 1 + 1.5 + 2 s.
    expect(Date.now() - started).toBeGreaterThan(4500);
    expect(edge.proc.output).not.toContain('bk_guess');
  });

  it('refuses agents without an API key when started with --no-allow-anonymous', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ args: ['--no-allow-anonymous'] });
    const error = await startAgent(edge, String(origin.port)).catch((err: Error) => err.message);
    expect(error).toMatch(/TUN_ERR_UNAUTHORIZED/);
    expect(error).toMatch(/requires an API key/);
    const token = await createApiKey(edge.dataDir);
    await startAgent(edge, String(origin.port), { token });
  });

  it('rate-limits anonymous tunnels per client address when tunnels.anonymousRequestsPerSecond is set', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ env: { BURROW_TUNNELS_ANONYMOUS_REQUESTS_PER_SECOND: '3' } });
    const anonymous = await startAgent(edge, String(origin.port));
    const keyed = await startAgent(edge, String(origin.port), { token: await createApiKey(edge.dataDir) });
    const statuses = async (name: string): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await tunnelRequest(edge, name, '/echo');
        out.push(res.statusCode);
        await res.body.dump();
      }
      return out;
    };
    const limited = await statuses(anonymous.name);
    expect(limited.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(limited.slice(0, 3)).toEqual([200, 200, 200]);
    expect(await statuses(keyed.name)).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
  });

  it('ends anonymous tunnels after tunnels.anonymousLifetimeMs: the agent exits naming the limit, keyed tunnels stay', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ env: { BURROW_TUNNELS_ANONYMOUS_LIFETIME_MS: '2000' } });
    const anonymous = await startAgent(edge, String(origin.port));
    const keyed = await startAgent(edge, String(origin.port), { token: await createApiKey(edge.dataDir) });
    const started = Date.now();
    expect((await tunnelRequest(edge, anonymous.name, '/echo')).statusCode).toBe(200);
    expect(await anonymous.proc.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(6000);
    const said = [...anonymous.proc.stderr, ...anonymous.proc.lines].join('\n');
    expect(said).toMatch(/TUN_ERR_TUNNEL_EXPIRED/);
    expect(said).toMatch(/--token/);
    const gone = await tunnelRequest(edge, anonymous.name, '/echo');
    expect(gone.statusCode).not.toBe(200);
    await gone.body.dump();
    const still = await tunnelRequest(edge, keyed.name, '/echo');
    expect(still.statusCode).toBe(200);
    await still.body.dump();
  });

  it('counts the anonymous lifetime from when the name was first claimed, so resuming it after an edge restart does not extend it', async () => {
    const origin = await startOrigin(originHandler);
    const env = { BURROW_TUNNELS_ANONYMOUS_LIFETIME_MS: '6000' };
    const edge = await startEdge({ env });
    const agent = await startAgent(edge, String(origin.port));
    const claimed = Date.now();
    // Resume well after the claim, so the two possible clocks end seconds apart.
    await new Promise((r) => setTimeout(r, 1500));
    await restartEdge(edge, 'SIGTERM', env);
    // The agent resumes its temporary name on the new edge process.
    await agent.proc.waitFor(
      () => agent.proc.json.find((l) => l.event === 'connected' && l.reconnected === true),
      15_000,
      'the agent to reconnect',
    );
    const back = Date.now();
    expect(back - claimed).toBeGreaterThan(1500);
    const res = await tunnelRequest(edge, agent.name, '/echo');
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(await agent.proc.exited).toBe(1);
    expect(agent.proc.output).toMatch(/TUN_ERR_TUNNEL_EXPIRED/);
    // Ended on the first claim's clock (6 s after claiming), at least 1.5 s before the
    // resumed session's own 6 s would have run out.
    expect(Date.now() - back).toBeLessThan(5000);
  });
});
