import { describe, expect, it } from 'vitest';
import { newRequestId } from './request-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('are UUIDs version 7 with the time first, so later ids sort after earlier ones', () => {
    const early = newRequestId(1_796_000_000_000);
    const late = newRequestId(1_796_000_000_001);
    expect(early).toMatch(UUID_V7);
    expect(late).toMatch(UUID_V7);
    const hex = (1_796_000_000_000).toString(16).padStart(12, '0');
    expect(early.slice(0, 13)).toBe(`${hex.slice(0, 8)}-${hex.slice(8, 12)}`);
    expect(early < late).toBe(true);
  });

  it('never repeat within one millisecond', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(newRequestId(1_796_000_000_000));
    expect(seen.size).toBe(10_000);
    for (const id of seen) expect(id).toMatch(UUID_V7);
  });
});
