import { describe, expect, it } from 'vitest';
import { OTHER_TUNNEL, TunnelSeriesBook } from './tunnel-series.js';

function book(max: number): TunnelSeriesBook<{ label: string }> {
  return new TunnelSeriesBook(max, (label) => ({ label }));
}

describe('tunnel label bounding', () => {
  it('counts a name that was never admitted (temporary, unknown) under _other', () => {
    const b = book(10);
    expect(b.seriesFor('k3xnz3').label).toBe(OTHER_TUNNEL);
    expect(b.size).toBe(0);
  });

  it('gives admitted names their own series, once each', () => {
    const b = book(10);
    expect(b.admit('web')).toBe(true);
    const first = b.seriesFor('web');
    expect(b.admit('web')).toBe(true);
    expect(b.seriesFor('web')).toBe(first);
    expect(first.label).toBe('web');
    expect(b.size).toBe(1);
  });

  it('admits at most max names; the rest stay _other', () => {
    const b = book(2);
    expect([b.admit('a'), b.admit('b'), b.admit('c')]).toEqual([true, true, false]);
    expect(b.seriesFor('c').label).toBe(OTHER_TUNNEL);
    expect(b.size).toBe(2);
  });

  it('frees the slot of a forgotten name for the next one', () => {
    const b = book(1);
    b.admit('a');
    expect(b.admit('b')).toBe(false);
    expect(b.forget('a')).toBe(true);
    expect(b.seriesFor('a').label).toBe(OTHER_TUNNEL);
    expect(b.admit('b')).toBe(true);
    expect(b.forget('never')).toBe(false);
  });

  it('with max 0 labels everything _other', () => {
    const b = book(0);
    expect(b.admit('a')).toBe(false);
    expect(b.list().map((s) => s.label)).toEqual([OTHER_TUNNEL]);
  });

  it('lists a snapshot: `_other` first, then names in admission order, unaffected by later changes', () => {
    const b = book(3);
    b.admit('a');
    b.admit('b');
    const list = b.list();
    b.forget('a');
    b.admit('a');
    expect(list.map((s) => s.label)).toEqual([OTHER_TUNNEL, 'a', 'b']);
    expect(b.list().map((s) => s.label)).toEqual([OTHER_TUNNEL, 'b', 'a']);
  });
});
