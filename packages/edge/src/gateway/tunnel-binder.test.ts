import { afterEach, describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { startRig, type Rig } from './test-support/gateway-rig.js';
import { stubTarget } from '../registry/test-support/stub-target.js';
import { TunnelBinder } from './tunnel-binder.js';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const target = stubTarget;

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

  it("keeps the winner's resume token when two sessions bind one name at once", async () => {
    rig = await startRig();
    const { record: key } = await rig.store.createApiKey({ label: 'k', scopes: ['agent'] });
    for (const id of ['s1', 's2'])
      await rig.store.recordSessionStart({ id, keyId: key.id, agent: 'a', remoteAddress: '::1' });
    const request = { name: 'raced', resumeToken: null, keyId: key.id, userId: null, force: false };
    const results = await Promise.allSettled([
      rig.deps.binder.bind(request, target('s1'), () => undefined),
      rig.deps.binder.bind(request, target('s2'), () => undefined),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<{ resumeToken: string }>).value;
    // The winner's token must still prove the name: a reconnect resumes it.
    const again = await rig.deps.binder.bind(
      { ...request, resumeToken: winner.resumeToken },
      target('s3'),
      () => undefined,
    );
    expect(again.name).toBe('raced');
  });

  it('says which kind of name went live, after it is in the registry (metrics label named ones)', async () => {
    rig = await startRig();
    const registry = rig.registry;
    const bound: [string, string, boolean][] = [];
    const binder = new TunnelBinder({
      store: rig.store,
      registry,
      reservedNamesPerUser: 10,
      onBound: (name, kind) => bound.push([name, kind, registry.lookup(name) !== undefined]),
    });
    const { record: key } = await rig.store.createApiKey({ label: 'k', scopes: ['agent'] });
    await rig.store.recordSessionStart({ id: 's1', keyId: key.id, agent: 'a', remoteAddress: '::1' });
    const named = await binder.bind(
      { name: 'web', resumeToken: null, keyId: key.id, userId: null, force: false },
      target('s1'),
      () => undefined,
    );
    const random = await binder.bind(
      { name: null, resumeToken: null, keyId: key.id, userId: null, force: false },
      target('s1'),
      () => undefined,
    );
    expect(bound).toEqual([
      ['web', 'named', true],
      [random.name, 'temporary', true],
    ]);
    expect(named.name).toBe('web');
  });
});
