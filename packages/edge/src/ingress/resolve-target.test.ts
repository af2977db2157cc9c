import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FakeTimers } from '../test-support/fake-timers.js';
import { MemoryRegistry } from '../registry/memory-registry.js';
import { resolveTarget, ViewerPresence } from './resolve-target.js';
import type { TunnelRequest } from './tunnel-request.js';
import { stubTarget } from '../registry/test-support/stub-target.js';

const target = stubTarget;

describe('resolveTarget', () => {
  it('finds the agent that reconnected after the request arrived, instead of calling it offline', async () => {
    const timers = new FakeTimers();
    const registry = new MemoryRegistry({ timers });
    const old = target('s1');
    registry.bind('web', old);
    registry.unbind('web', old, timers.now() + 10_000);
    // The request arrived during the grace period: it found no target.
    const request = {
      route: { name: 'web', path: '/', prefix: null },
      target: undefined,
      host: 'web.localhost',
    };
    // A caller (the warning gate) waited through the reconnect meanwhile; the agent is back.
    const back = target('s2');
    registry.bind('web', back);
    const deps = { registry, timers, tunnelExists: () => Promise.resolve(true), maxPendingRequests: 10 };
    const found = await resolveTarget(
      deps,
      request as unknown as TunnelRequest,
      new ViewerPresence(new EventEmitter(), () => false),
    );
    expect(found).toBe(back);
  });
});
