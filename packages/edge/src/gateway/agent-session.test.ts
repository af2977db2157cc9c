import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOG, FrameType } from '@burrow/protocol';
import { helloBody, startRig, until, type Rig } from './test-support/gateway-rig.js';

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
});
