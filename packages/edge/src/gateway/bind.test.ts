import { afterEach, describe, expect, it } from 'vitest';
import { FakeAgent } from '../test-support/fake-agent.js';
import { startRig, type Rig } from './test-support/gateway-rig.js';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

async function helloAgent(r: Rig, token: string | null = null): Promise<FakeAgent> {
  const agent = new FakeAgent((edgeEnd) => r.attach(edgeEnd));
  await agent.hello(token);
  return agent;
}

describe('BIND through the gateway', () => {
  it('gives an anonymous agent a random name and binds it in the registry', async () => {
    rig = await startRig();
    const ack = await (await helloAgent(rig)).bind(null);
    expect(ack.ok).toBe(true);
    expect(ack.name).toMatch(/^[a-z0-9-]+$/);
    expect(ack.url).toBe(`http://${ack.name}.test`);
    expect(rig.registry.lookup(ack.name!)?.anonymous).toBe(true);
  });

  it('refuses a chosen name without an API key', async () => {
    rig = await startRig();
    const ack = await (await helloAgent(rig)).bind('mine');
    expect(ack).toMatchObject({ ok: false, code: 'TUN_ERR_NAME_REQUIRES_KEY' });
    expect(rig.registry.lookup('mine')).toBeUndefined();
  });

  it('refuses a policy with a bad field, naming it, and binds nothing', async () => {
    rig = await startRig();
    const ack = await (await helloAgent(rig)).bind(null, { authToken: 'has spaces' });
    expect(ack.ok).toBe(false);
    expect(ack.message).toMatch(/authToken/);
    expect(rig.registry.names()).toEqual([]);
  });

  it('compiles the policy of a bound tunnel into the policy book', async () => {
    rig = await startRig();
    const ack = await (await helloAgent(rig)).bind(null, { authToken: 'sesame-1234' });
    expect(ack.ok).toBe(true);
    expect(rig.deps.policies.get(ack.name!)?.auth).toBeTruthy();
  });

  it('unbinds the names of an agent that leaves, keeping them in grace', async () => {
    rig = await startRig();
    const agent = await helloAgent(rig);
    const ack = await agent.bind(null);
    agent.close();
    await rig.sessions.values().next().value?.closed;
    expect(rig.registry.lookup(ack.name!)).toBeUndefined();
    expect(rig.registry.graceUntil(ack.name!)).toBeGreaterThan(Date.now());
  });
});
