import { describe, expect, it } from 'vitest';
import { DirtyTunnels, MAX_DIRTY_TUNNELS, MAX_SEEN_TUNNELS, MAX_SKIPPED_PASSES } from './dirty-tunnels.js';

const marked = (...tunnels: string[]) => tunnels.map((tunnel) => ({ tunnel }));
/** `count` records of one tunnel. */
const many = (tunnel: string, count: number) => Array.from({ length: count }, () => ({ tunnel }));

/** A store past its first pass. */
function started(): DirtyTunnels {
  const dirty = new DirtyTunnels();
  dirty.take(10);
  return dirty;
}

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

  it('recheck: a tunnel a pass may have left over its cap is checked next, whatever count was seen', () => {
    const dirty = started();
    dirty.saw('web', 3);
    dirty.mark(marked('web'));
    // 3 seen + 1 inserted fits a cap of 10: spared.
    expect(dirty.take(10)).toEqual({ every: false, tunnels: [] });
    dirty.recheck('web');
    expect(dirty.take(10)).toEqual({ every: false, tunnels: ['web'] });
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

  it('leaves out a tunnel while its seen count plus its inserts since fits under the cap', () => {
    const dirty = started();
    dirty.mark(many('big', 3));
    expect(dirty.take(10)).toEqual({ every: false, tunnels: ['big'] });
    dirty.saw('big', 6);
    dirty.mark(many('big', 3));
    expect(dirty.take(10)).toEqual({ every: false, tunnels: [] });
    // 6 + 3 + 1 = 10: still fits.
    dirty.mark(many('big', 1));
    expect(dirty.take(10)).toEqual({ every: false, tunnels: [] });
    dirty.mark(many('big', 1));
    expect(dirty.take(10)).toEqual({ every: false, tunnels: ['big'] });
    // Not seen again (the pass failed to report): checked on every insert until it is.
    dirty.mark(many('big', 1));
    expect(dirty.take(10)).toEqual({ every: false, tunnels: ['big'] });
  });

  it('checks a seen tunnel again after MAX_SKIPPED_PASSES passes spared it', () => {
    expect(MAX_SKIPPED_PASSES).toBe(10);
    const dirty = started();
    dirty.saw('web', 0);
    for (let pass = 0; pass < MAX_SKIPPED_PASSES; pass++) {
      dirty.mark(marked('web'));
      expect(dirty.take(1_000)).toEqual({ every: false, tunnels: [] });
    }
    dirty.mark(marked('web'));
    expect(dirty.take(1_000)).toEqual({ every: false, tunnels: ['web'] });
  });

  it('forgets seen counts when names overflow, when a pass fails, and past its bound', () => {
    const overflow = new DirtyTunnels(2);
    overflow.take(10);
    overflow.saw('a', 1);
    overflow.mark(marked('a', 'b', 'c'));
    expect(overflow.take(10)).toEqual({ every: true });
    overflow.mark(marked('a'));
    expect(overflow.take(10)).toEqual({ every: false, tunnels: ['a'] });

    const failed = started();
    failed.mark(marked('web'));
    const scope = failed.take(10);
    failed.saw('web', 1);
    failed.restore(scope);
    expect(failed.take(10)).toEqual({ every: false, tunnels: ['web'] });

    expect(MAX_SEEN_TUNNELS).toBe(10_000);
    const bounded = new DirtyTunnels(10, 2);
    bounded.take(10);
    bounded.saw('a', 1);
    bounded.saw('b', 1);
    bounded.saw('a', 1);
    bounded.saw('c', 1);
    bounded.mark(marked('a', 'b', 'c'));
    // b was the oldest seen ('a' was seen again after it).
    expect(bounded.take(10)).toEqual({ every: false, tunnels: ['b'] });
  });

  it('checks every tunnel when the cap goes down, seen counts or not', () => {
    const dirty = started();
    dirty.saw('web', 2);
    dirty.mark(marked('web'));
    expect(dirty.take(5)).toEqual({ every: true });
    dirty.mark(marked('web'));
    expect(dirty.take(5)).toEqual({ every: false, tunnels: ['web'] });
  });
});
