import { timingSafeEqual } from 'node:crypto';
import type * as NodeCrypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { matchesAnyDigest, SecretDigester } from './secret-digest.js';

// Wraps the real timingSafeEqual so the tests can see that comparisons go through it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const KEY = Buffer.alloc(32, 7);

describe('SecretDigester', () => {
  beforeEach(() => {
    vi.mocked(timingSafeEqual).mockClear();
  });

  it('gives 32-byte digests that depend on the key and the purpose', () => {
    const a = new SecretDigester(KEY);
    const b = new SecretDigester(Buffer.alloc(32, 8));
    expect(a.digest('token', 's3cret')).toHaveLength(32);
    expect(a.digest('token', 's3cret').equals(a.digest('token', 's3cret'))).toBe(true);
    expect(a.digest('token', 's3cret').equals(b.digest('token', 's3cret'))).toBe(false);
    expect(a.digest('token', 's3cret').equals(a.digest('basic', 's3cret'))).toBe(false);
  });

  it('makes an opaque cookie value that does not contain the token', () => {
    const value = new SecretDigester(KEY).cookieValue('my-token-123');
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(value).not.toContain('my-token');
  });

  it('refuses a short key', () => {
    expect(() => new SecretDigester(Buffer.alloc(8))).toThrow(RangeError);
  });
});

describe('matchesAnyDigest', () => {
  beforeEach(() => {
    vi.mocked(timingSafeEqual).mockClear();
  });

  it('compares with timingSafeEqual against every entry, even after a match', () => {
    const d = new SecretDigester(KEY);
    const stored = ['alice:1', 'bob:2', 'carol:3'].map((e) => d.digest('basic', e));
    expect(matchesAnyDigest(stored, d.digest('basic', 'alice:1'))).toBe(true);
    expect(vi.mocked(timingSafeEqual)).toHaveBeenCalledTimes(3);
    expect(matchesAnyDigest(stored, d.digest('basic', 'alice:2'))).toBe(false);
    expect(vi.mocked(timingSafeEqual)).toHaveBeenCalledTimes(6);
  });

  it('answers false for nothing stored or a candidate of another length, without throwing', () => {
    expect(matchesAnyDigest([], Buffer.alloc(32))).toBe(false);
    expect(matchesAnyDigest([Buffer.alloc(32)], Buffer.alloc(31))).toBe(false);
  });
});
