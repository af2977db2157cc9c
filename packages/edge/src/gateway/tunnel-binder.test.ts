import { afterEach, describe, expect, it } from 'vitest';
import { TunnelError, type MuxStream } from '@burrow/protocol';
import type { TunnelTarget } from '../registry/registry.js';
import { startRig, type Rig } from './test-support/gateway-rig.js';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

function target(sessionId: string): TunnelTarget {
  return {
    sessionId,
    accepting: true,
    anonymous: false,
    openStream: (): MuxStream => {
      throw new Error('no streams in this test');
    },
    displaced: () => undefined,
  };
}

describe('TunnelBinder', () => {
  it('does not leave a session recorded as the holder of a name its BIND did not get', async () => {
    rig = await startRig();
    const { record: key } = await rig.store.createApiKey({ label: 'k', scopes: ['agent'] });
    await rig.store.recordSessionStart({ id: 's1', keyId: key.id, agent: 'a', remoteAddress: '::1' });
    const request = { name: 'late', resumeToken: null, keyId: key.id, userId: null, force: false };
    const refusal = new TunnelError('TUN_ERR_TUNNEL_EXPIRED', 'over');
    await expect(
      rig.deps.binder.bind(request, target('s1'), () => {
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect(rig.registry.lookup('late')).toBeUndefined();
    expect(await rig.store.listTunnelsOfOpenSessions()).toEqual([]);
  });
});
