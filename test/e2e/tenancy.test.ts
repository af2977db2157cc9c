/** Tenancy at the gateway: names belong to users, keys need the agent scope, disabling a user cuts it off. */

import { afterEach, describe, expect, it } from 'vitest';
import {
  createApiKey,
  edgeCli,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  spawnAgent,
} from './harness.js';
import { originHandler } from './origin.js';

afterEach(stopAll);

describe('tenancy', () => {
  it("refuses another user's reserved name, saying who can free it; the owner's other keys may bind it", async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const alice1 = await createApiKey(edge.dataDir, 'alice');
    const alice2 = await createApiKey(edge.dataDir, 'alice');
    const mallory = await createApiKey(edge.dataDir, 'mallory');
    const first = await startAgent(edge, String(origin.port), { name: 'myapp', token: alice1 });
    first.proc.signal('SIGINT');
    await first.proc.exited;
    const error = await startAgent(edge, String(origin.port), { name: 'myapp', token: mallory }).catch(
      (err: Error) => err.message,
    );
    expect(error).toMatch(/TUN_ERR_NAME_TAKEN/);
    expect(error).toMatch(/reserved by user \\?"alice\\?"/);
    expect(error).not.toContain(alice1);
    const second = await startAgent(edge, String(origin.port), { name: 'myapp', token: alice2 });
    expect(second.url).toBe(first.url);
    const res = await tunnelRequest(edge, 'myapp', '/echo');
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('refuses a key without the agent scope, naming the scope it needs', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const apiOnly = await createApiKey(edge.dataDir, 'carol', 'api');
    const error = await startAgent(edge, String(origin.port), { token: apiOnly }).catch(
      (err: Error) => err.message,
    );
    expect(error).toMatch(/TUN_ERR_UNAUTHORIZED/);
    expect(error).toMatch(/agent scope/);
  });

  it("closes a disabled user's live sessions within seconds and refuses its reconnects", async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const key = await createApiKey(edge.dataDir, 'dave');
    const agent = await startAgent(edge, String(origin.port), { name: 'daves', token: key });
    expect((await tunnelRequest(edge, 'daves', '/echo')).statusCode).toBe(200);
    const disabledAt = Date.now();
    expect((await edgeCli(edge.dataDir, 'users', 'disable', 'dave')).code).toBe(0);
    expect(await agent.proc.exited).toBe(1);
    expect(Date.now() - disabledAt).toBeLessThan(8000);
    expect(agent.proc.output).toMatch(/TUN_ERR_UNAUTHORIZED/);
    const res = await tunnelRequest(edge, 'daves', '/echo');
    expect(res.statusCode).toBe(502);
    await res.body.dump();
  });

  it('lets the owner take a name over from a stale session of its own with --force, and nobody else', async () => {
    const first = await startOrigin((_req, res) => res.end('first'));
    const second = await startOrigin((_req, res) => res.end('second'));
    const edge = await startEdge();
    const alice = await createApiKey(edge.dataDir, 'alice');
    const mallory = await createApiKey(edge.dataDir, 'mallory');
    const stale = await startAgent(edge, String(first.port), { name: 'laptop', token: alice });
    // Frozen, like a machine gone to sleep: its session still looks alive to the edge.
    stale.proc.signal('SIGSTOP');
    try {
      const retrying = spawnAgent(edge, String(second.port), { name: 'laptop', token: alice });
      await retrying.waitFor(
        () => (retrying.output.includes('TUN_ERR_NAME_IN_USE') ? true : undefined),
        10_000,
        'NAME_IN_USE',
      );
      expect(retrying.output).toMatch(/--force/);
      retrying.signal('SIGKILL');
      await retrying.exited;
      const thief = await startAgent(edge, String(second.port), {
        name: 'laptop',
        token: mallory,
        args: ['--force'],
      }).catch((err: Error) => err.message);
      expect(thief).toMatch(/TUN_ERR_NAME_TAKEN/);
      await startAgent(edge, String(second.port), { name: 'laptop', token: alice, args: ['--force'] });
      const res = await tunnelRequest(edge, 'laptop', '/');
      expect(await res.body.text()).toBe('second');
    } finally {
      stale.proc.signal('SIGCONT');
    }
    // The woken agent finds its session closed and cannot take the name back without --force.
    await new Promise((r) => setTimeout(r, 1000));
    const after = await tunnelRequest(edge, 'laptop', '/');
    expect(await after.body.text()).toBe('second');
  });
});
