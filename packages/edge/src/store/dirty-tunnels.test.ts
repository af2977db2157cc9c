import { describe, expect, it } from 'vitest';
import { DirtyTunnels, MAX_DIRTY_TUNNELS } from './dirty-tunnels.js';

const marked = (...tunnels: string[]) => tunnels.map((tunnel) => ({ tunnel }));

describe('DirtyTunnels', () => {
  it('asks a fresh store for every tunnel, then only for the tunnels marked since', () => {
    const dirty = new DirtyTunnels();
    dirty.mark(marked('web'));
    expect(dirty.take(10)).toEqual({ every: true });
    expect(dirty.take(10)).toEqual({ every: false, tunnels: [] });
    dirty.mark(marked('web', 'api', 'web'));
    expect(dirty.take(10)).toEqual({ every: false, tunnels: ['web', 'api'] });
    expect(dirty.take(10)).toEqual({ every: false, tunnels: [] });
  });

  it('asks for every tunnel when the cap goes down, not when it goes up', () => {
    const dirty = new DirtyTunnels();
    dirty.take(10);
    expect(dirty.take(20)).toEqual({ every: false, tunnels: [] });
    expect(dirty.take(5)).toEqual({ every: true });
    expect(dirty.take(5)).toEqual({ every: false, tunnels: [] });
  });

  it('holds at most its bound of names, then asks for every tunnel once', () => {
    expect(MAX_DIRTY_TUNNELS).toBe(10_000);
    const dirty = new DirtyTunnels(3);
    dirty.take(10);
    dirty.mark(marked('a', 'b', 'c'));
    expect(dirty.take(10)).toEqual({ every: false, tunnels: ['a', 'b', 'c'] });
    dirty.mark(marked('a', 'b', 'c', 'd'));
    expect(dirty.take(10)).toEqual({ every: true });
    expect(dirty.take(10)).toEqual({ every: false, tunnels: [] });
  });

  it('gives a failed pass its scope back, beside what was marked meanwhile', () => {
    const dirty = new DirtyTunnels();
    dirty.take(10);
    dirty.mark(marked('web'));
    const failed = dirty.take(10);
    dirty.mark(marked('api'));
    dirty.restore(failed);
    expect(dirty.take(10)).toEqual({ every: false, tunnels: ['api', 'web'] });
    const first = new DirtyTunnels();
    first.restore(first.take(10));
    expect(first.take(10)).toEqual({ every: true });
  });
});
