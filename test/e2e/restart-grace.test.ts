/**
 * After an edge crash, every tunnel that was live at that moment is expected back: the
 * restarted edge makes requests for it wait for the agent's reconnect, however long ago
 * the tunnel was bound or last marked active.
 */

import { afterEach, describe, expect, it } from 'vitest';
import {
  createApiKey,
  restartEdge,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
} from './harness.js';
import { originHandler } from './origin.js';

afterEach(stopAll);

// Short grace and no shutdown allowance: a tunnel bound a few seconds before the crash is
// already outside the old "recently active" window, as most live tunnels are in production.
const ENV = { BURROW_TIMEOUTS_RECONNECT_GRACE_MS: '8000', BURROW_TIMEOUTS_SHUTDOWN_MS: '0' };

describe('edge crash recovery', () => {
  it('makes requests for every tunnel live at a SIGKILL wait for its agent, not fail with AGENT_OFFLINE', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ env: ENV });
    const token = await createApiKey(edge.dataDir);
    const named = await startAgent(edge, String(origin.port), { name: 'steady', token });
    const temporary = await startAgent(edge, String(origin.port));
    // Longer than the old window (grace + shutdown allowance): the binds' marks are stale now.
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    await restartEdge(edge, 'SIGKILL', ENV);
    for (const name of [named.name, temporary.name]) {
      const res = await tunnelRequest(edge, name, '/echo?after=crash');
      expect(res.headers['x-burrow-error']).toBeUndefined();
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { url: string }).url).toBe('/echo?after=crash');
    }
  });

  it('still answers at once for a tunnel whose agent left cleanly before the crash', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ env: ENV });
    const gone = await startAgent(edge, String(origin.port));
    gone.proc.signal('SIGTERM');
    await gone.proc.exited;
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    await restartEdge(edge, 'SIGKILL', ENV);
    const started = Date.now();
    const res = await tunnelRequest(edge, gone.name, '/echo');
    expect(res.statusCode).toBe(502);
    expect(res.headers['x-burrow-error']).toBe('TUN_ERR_AGENT_OFFLINE');
    expect(Date.now() - started).toBeLessThan(2_000);
    await res.body.dump();
  });
});
