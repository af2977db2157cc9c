import { describe, expect, it } from 'vitest';
import type { MuxStream } from '@burrow/protocol';
import { MemoryRegistry } from './memory-registry.js';
import type { TunnelTarget } from './registry.js';

function target(id: string): TunnelTarget {
  return {
    sessionId: id,
    accepting: true,
    anonymous: false,
    openStream: (): MuxStream => {
      throw new Error('not used');
    },
    displaced: () => undefined,
  };
}

describe('MemoryRegistry', () => {
  it('wakes a waiting request when the name is bound again', async () => {
    const registry = new MemoryRegistry();
    const a = target('a');
    const b = target('b');
    registry.bind('app', a);
    registry.unbind('app', a, Date.now() + 5000);
    expect(registry.lookup('app')).toBeUndefined();
    expect(registry.graceUntil('app')).toBeGreaterThan(Date.now());
    const waiting = registry.waitFor('app', 5000);
    expect(registry.waiting).toBe(1);
    registry.bind('app', b);
    expect(await waiting).toBe(b);
    expect(registry.waiting).toBe(0);
    expect(registry.graceUntil('app')).toBe(0);
  });

  it('does not let a stale session unbind a name another session took over', () => {
    const registry = new MemoryRegistry();
    const old = target('old');
    const fresh = target('new');
    registry.bind('app', old);
    registry.bind('app', fresh);
    registry.unbind('app', old, Date.now() + 5000);
    expect(registry.lookup('app')).toBe(fresh);
  });

  it('gives up waiting after the timeout or when the viewer aborts', async () => {
    const registry = new MemoryRegistry();
    expect(await registry.waitFor('gone', 20)).toBeUndefined();
    const abort = new AbortController();
    const waiting = registry.waitFor('gone', 5000, abort.signal);
    abort.abort();
    expect(await waiting).toBeUndefined();
    expect(registry.waiting).toBe(0);
  });
});
