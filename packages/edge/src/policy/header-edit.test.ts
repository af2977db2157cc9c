import { describe, expect, it } from 'vitest';
import { HeaderEdit, isHeaderName, isHeaderValue, parseHeaderLine, removeHeaders } from './header-edit.js';

describe('parseHeaderLine', () => {
  it('splits at the first colon and trims the value', () => {
    expect(parseHeaderLine('X-Env:  staging ')).toEqual({ name: 'X-Env', value: 'staging' });
    expect(parseHeaderLine('X-Url: http://a:1/b')).toEqual({ name: 'X-Url', value: 'http://a:1/b' });
    expect(parseHeaderLine('X-Empty:')).toEqual({ name: 'X-Empty', value: '' });
  });

  it('refuses bad names and values that could split a head', () => {
    for (const bad of [
      'NoColon',
      ': v',
      'Bad Name: v',
      'X-A : v',
      'X-A: a\r\nInjected: 1',
      'X-A: a\nb',
      'X-A: a\0b',
    ]) {
      expect(parseHeaderLine(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('checks names against the token grammar and values against what Node sends', () => {
    expect(isHeaderName("X-Ok_1!#$%&'*+.^`|~")).toBe(true);
    expect(isHeaderName('X(1)')).toBe(false);
    expect(isHeaderName('')).toBe(false);
    expect(isHeaderValue('tab\tand obs-text \u00e9')).toBe(true);
    expect(isHeaderValue('\u0100')).toBe(false);
    expect(isHeaderValue('x'.repeat(4097))).toBe(false);
  });
});

describe('removeHeaders', () => {
  it('drops every repeat of a name, whatever its case, and keeps the rest in order', () => {
    const raw = ['A', '1', 'x-drop', '2', 'B', '3', 'X-DROP', '4', 'C', '5'];
    expect(removeHeaders(raw, new Set(['x-drop']))).toEqual(['A', '1', 'B', '3', 'C', '5']);
  });
});

describe('HeaderEdit', () => {
  it('removes first, then appends additions in order with the case the user wrote', () => {
    const edit = HeaderEdit.fromSpec(
      ['X-Frame-Options', 'server'],
      ['X-Frame-Options: DENY', 'x-lower: a', 'X-Two: b'],
    );
    const raw = [
      'Server',
      'nginx',
      'Content-Type',
      'text/html',
      'x-frame-options',
      'SAMEORIGIN',
      'Set-Cookie',
      'a=1',
    ];
    expect(edit.apply(raw)).toEqual([
      'Content-Type',
      'text/html',
      'Set-Cookie',
      'a=1',
      'X-Frame-Options',
      'DENY',
      'x-lower',
      'a',
      'X-Two',
      'b',
    ]);
  });

  it('adds beside an existing header when the name is not also removed', () => {
    const edit = HeaderEdit.fromSpec([], ['Vary: Origin']);
    expect(edit.apply(['Vary', 'Accept'])).toEqual(['Vary', 'Accept', 'Vary', 'Origin']);
  });

  it('returns a new array and leaves its input alone, even with nothing to do', () => {
    const raw = ['A', '1'];
    const empty = HeaderEdit.fromSpec();
    expect(empty.isEmpty).toBe(true);
    const out = empty.apply(raw);
    expect(out).toEqual(raw);
    expect(out).not.toBe(raw);
    HeaderEdit.fromSpec(['a'], ['B: 2']).apply(raw);
    expect(raw).toEqual(['A', '1']);
  });

  it('works as a detached function', () => {
    const { apply } = HeaderEdit.fromSpec(['x-a'], []);
    expect(apply(['X-A', '1', 'Y', '2'])).toEqual(['Y', '2']);
  });

  it('refuses lines that were not validated', () => {
    expect(() => HeaderEdit.fromSpec([], ['bad line'])).toThrow(RangeError);
  });
});
