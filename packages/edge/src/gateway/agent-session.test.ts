import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOG, FrameType } from '@burrow/protocol';
import { bindBody, helloBody, startRig, until, type Rig } from './test-support/gateway-rig.js';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('AgentSession handshake', () => {
  it('answers a second HELLO on one session with TUN_ERR_PROTOCOL, not TUN_ERR_INTERNAL', async () => {
    rig = await startRig();
    const agent = rig.connect();
    agent.sendBurst([
      { type: FrameType.HELLO, body: helloBody(null) },
      { type: FrameType.HELLO, body: helloBody(null) },
    ]);
    await until(() => agent.json(FrameType.ERROR).length > 0, 5000, 'an ERROR frame');
    expect(agent.json(FrameType.ERROR)[0]!.code).toBe(ERROR_CATALOG.TUN_ERR_PROTOCOL.wire);
    expect(String(agent.json(FrameType.ERROR)[0]!.message)).toMatch(/HELLO sent twice/);
  });
});

describe('AgentSession wrong keys', () => {
  it('verifies at most the lockout limit of parallel wrong HELLOs from one address', async () => {
    rig = await startRig();
    const agents = Array.from({ length: 40 }, () => rig!.connect());
    for (const a of agents) a.hello('bk_wrongwrong_nope');
    await until(() => agents.every((a) => a.json(FrameType.ERROR).length > 0), 10_000, 'every refusal');
    const codes = agents.map((a) => a.json(FrameType.ERROR)[0]!.code);
    expect(codes.filter((c) => c === ERROR_CATALOG.TUN_ERR_UNAUTHORIZED.wire)).toHaveLength(5);
    expect(codes.filter((c) => c === ERROR_CATALOG.TUN_ERR_AUTH_LOCKED.wire)).toHaveLength(35);
  });

  it('lets 10 parallel HELLOs with a good key from one address all in (agents behind one NAT)', async () => {
    rig = await startRig({ limits: { sessionsPerKey: 100 } });
    const { secret } = await rig.store.createApiKey({ label: 'nat', scopes: ['agent'] });
    // A store that takes a moment to answer, as PostgreSQL does: the checks overlap.
    const store = rig.store;
    const verify = store.verifyApiKey.bind(store);
    store.verifyApiKey = async (token) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return verify(token);
    };
    const agents = Array.from({ length: 10 }, () => rig!.connect());
    for (const a of agents) a.hello(secret);
    await until(
      () => agents.every((a) => a.json(FrameType.HELLO_ACK).length + a.json(FrameType.ERROR).length > 0),
      10_000,
      'every answer',
    );
    expect(agents.map((a) => a.json(FrameType.ERROR)[0]?.code ?? 'ok')).toEqual(
      Array.from({ length: 10 }, () => 'ok'),
    );
  });
});

/** Sends `count` BINDs in one write once the session is ready; resolves with the BIND_ACKs. */
async function burstBinds(
  agent: ReturnType<Rig['connect']>,
  count: number,
  name: (i: number) => string | null,
): Promise<Record<string, unknown>[]> {
  await until(() => agent.json(FrameType.HELLO_ACK).length > 0, 5000, 'HELLO_ACK');
  agent.sendBurst(
    Array.from({ length: count }, (_, i) => ({ type: FrameType.BIND, body: bindBody(i + 1, name(i)) })),
  );
  await until(() => agent.json(FrameType.BIND_ACK).length === count, 20_000, 'every BIND_ACK');
  return agent.json(FrameType.BIND_ACK);
}

describe('AgentSession quotas under a burst of BINDs', () => {
  it('binds exactly anonymousTunnelsPerIp anonymous tunnels from one address', async () => {
    rig = await startRig({ limits: { anonymousTunnelsPerIp: 5 }, maxTunnels: 20 });
    const agent = rig.connect();
    agent.hello(null);
    const acks = await burstBinds(agent, 300, () => null);
    expect(acks.filter((a) => a.ok === true)).toHaveLength(5);
    expect(acks.filter((a) => a.code === 'TUN_ERR_TUNNEL_LIMIT')).toHaveLength(295);
    expect(rig.registry.names()).toHaveLength(5);
  });

  it('binds exactly the per-session limit in one session', async () => {
    rig = await startRig({ limits: { anonymousTunnelsPerIp: 1000 }, maxTunnels: 20 });
    const agent = rig.connect();
    agent.hello(null);
    const acks = await burstBinds(agent, 300, () => null);
    expect(acks.filter((a) => a.ok === true)).toHaveLength(20);
    expect(rig.registry.names()).toHaveLength(20);
  });

  it('binds exactly tunnelsPerKey named tunnels for one key, across two sessions', async () => {
    rig = await startRig({ limits: { tunnelsPerKey: 50 }, maxTunnels: 1000 });
    const { secret } = await rig.store.createApiKey({ label: 'burst', scopes: ['agent'] });
    const a = rig.connect();
    const b = rig.connect();
    a.hello(secret);
    b.hello(secret);
    const [acksA, acksB] = await Promise.all([
      burstBinds(a, 200, (i) => `burst-a${i}`),
      burstBinds(b, 200, (i) => `burst-b${i}`),
    ]);
    const ok = [...acksA, ...acksB].filter((ack) => ack.ok === true);
    expect(ok).toHaveLength(50);
    expect(rig.registry.names()).toHaveLength(50);
  });

  it('gives a slot back when its BIND fails, so the next one may bind', async () => {
    rig = await startRig({ limits: { anonymousTunnelsPerIp: 1000 }, maxTunnels: 2 });
    const { secret } = await rig.store.createApiKey({ label: 'other', scopes: ['agent'] });
    const owner = rig.connect();
    owner.hello(secret);
    await burstBinds(owner, 1, () => 'taken-name');
    const agent = rig.connect();
    agent.hello(null);
    // Both refused (an anonymous agent may not choose a name), then both slots are free again.
    const refused = await burstBinds(agent, 2, () => 'taken-name');
    expect(refused.every((a) => a.ok === false)).toBe(true);
    agent.sendBurst([
      { type: FrameType.BIND, body: bindBody(10, null) },
      { type: FrameType.BIND, body: bindBody(11, null) },
    ]);
    await until(() => agent.json(FrameType.BIND_ACK).length === 4, 5000, 'two more BIND_ACKs');
    expect(
      agent
        .json(FrameType.BIND_ACK)
        .slice(2)
        .every((a) => a.ok === true),
    ).toBe(true);
  });
});

describe('AgentSession UNBIND', () => {
  it('forgets the holder of an unbound name, so a crash does not give it reconnect grace', async () => {
    rig = await startRig();
    const { secret } = await rig.store.createApiKey({ label: 'holder', scopes: ['agent'] });
    const agent = rig.connect();
    agent.hello(secret);
    const acks = await burstBinds(agent, 2, (i) => ['kept', 'dropped'][i]!);
    expect(acks.every((a) => a.ok === true)).toBe(true);
    expect(await rig.store.listTunnelsOfOpenSessions()).toEqual(['dropped', 'kept']);
    agent.sendBurst([{ type: FrameType.UNBIND, body: { name: 'dropped' } }]);
    await until(() => !rig!.registry.names().includes('dropped'), 5000, 'the name unbound');
    // The session stays open (a crash now would leave it so): only 'kept' comes back.
    const deadline = Date.now() + 5000;
    let held = await rig.store.listTunnelsOfOpenSessions();
    while (held.includes('dropped') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      held = await rig.store.listTunnelsOfOpenSessions();
    }
    expect(held).toEqual(['kept']);
    expect(agent.closed).toBe(false);
  });
});
