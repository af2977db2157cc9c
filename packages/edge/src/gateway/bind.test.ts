import { afterEach, describe, expect, it } from 'vitest';
import type { BindAck } from '@burrow/protocol';
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

/** The name a BIND got; fails the test when it was refused. */
function boundName(ack: BindAck): string {
  if (!ack.ok) throw new Error(`BIND refused: ${ack.code} ${ack.message}`);
  return ack.name;
}

/** The refusal a BIND got; fails the test when it was bound. */
function refusal(ack: BindAck): { code: string; message: string } {
  if (ack.ok) throw new Error(`BIND bound ${ack.name}`);
  return ack;
}

describe('BIND through the gateway', () => {
  it('gives an anonymous agent a random name and binds it in the registry', async () => {
    rig = await startRig();
    const ack = await (await helloAgent(rig)).bind(null);
    const name = boundName(ack);
    expect(name).toMatch(/^[a-z0-9-]+$/);
    expect(ack).toMatchObject({ url: `http://${name}.test` });
    expect(rig.registry.lookup(name)?.anonymous).toBe(true);
  });

  it('refuses a chosen name without an API key', async () => {
    rig = await startRig();
    const ack = await (await helloAgent(rig)).bind('mine');
    expect(ack).toMatchObject({ ok: false, code: 'TUN_ERR_NAME_REQUIRES_KEY' });
    expect(rig.registry.lookup('mine')).toBeUndefined();
  });

  it('refuses a policy with a bad field, naming it, and binds nothing', async () => {
    rig = await startRig();
    const ack = refusal(await (await helloAgent(rig)).bind(null, { authToken: 'has spaces' }));
    expect(ack.message).toMatch(/authToken/);
    expect(rig.registry.names()).toEqual([]);
  });

  it('compiles the policy of a bound tunnel into the policy book', async () => {
    rig = await startRig();
    const name = boundName(await (await helloAgent(rig)).bind(null, { authToken: 'sesame-1234' }));
    expect(rig.deps.policies.get(name)?.auth).toBeTruthy();
  });

  it('unbinds the names of an agent that leaves, keeping them in grace', async () => {
    rig = await startRig();
    const agent = await helloAgent(rig);
    const name = boundName(await agent.bind(null));
    agent.close();
    await rig.sessions.values().next().value?.closed;
    expect(rig.registry.lookup(name)).toBeUndefined();
    expect(rig.registry.graceUntil(name)).toBeGreaterThan(Date.now());
  });
});
