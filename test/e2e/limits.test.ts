/** Edge limits with defaults: request head size and streams per agent session. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tunnelRequest, type Agent, type Edge } from './harness.js';
import { startTunnel } from './fixture.js';

let edge: Edge;
let agent: Agent;

beforeAll(async () => {
  ({ edge, agent } = await startTunnel({ env: { BURROW_LIMITS_MAX_STREAMS_PER_SESSION: '2' } }));
});

afterAll(stopAll);

describe('limits', () => {
  it('answers a request head over the limit (default 16 KiB) with 431 and a reason', async () => {
    const res = await tunnelRequest(edge, agent.name, '/echo', { headers: { 'x-big': 'a'.repeat(20_000) } });
    expect(res.statusCode).toBe(431);
    expect(await res.body.text()).toMatch(/larger than this edge accepts/);
    const ok = await tunnelRequest(edge, agent.name, '/echo', { headers: { 'x-fine': 'a'.repeat(8_000) } });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });

  it('answers 503 past the streams-per-session limit, then serves again once streams finish', async () => {
    const slow = [
      tunnelRequest(edge, agent.name, '/slow?ms=1500'),
      tunnelRequest(edge, agent.name, '/slow?ms=1500'),
    ];
    await new Promise((r) => setTimeout(r, 300));
    const refused = await tunnelRequest(edge, agent.name, '/echo');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['x-burrow-error']).toBe('TUN_ERR_TOO_MANY_STREAMS');
    await refused.body.dump();
    for (const res of await Promise.all(slow)) expect(await res.body.text()).toBe('slow');
    const again = await tunnelRequest(edge, agent.name, '/echo');
    expect(again.statusCode).toBe(200);
    await again.body.dump();
  });
});

describe('slow and oversized viewers', () => {
  it('answers a request target over limits.maxUrlBytes (8 KiB) with 414', async () => {
    const res = await tunnelRequest(edge, agent.name, `/echo?q=${'x'.repeat(9000)}`);
    expect(res.statusCode).toBe(414);
    expect(res.headers['x-burrow-error']).toBe('TUN_ERR_URL_TOO_LONG');
    await res.body.dump();
  });
});
