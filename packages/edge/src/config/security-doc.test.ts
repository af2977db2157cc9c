// docs/security.md promises one table with every limit and what happens past it; this keeps
// a new limits.* or timeouts.* setting from landing without its row.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EDGE_SETTINGS } from './setting-list.js';

const doc = readFileSync(new URL('../../../../docs/security.md', import.meta.url), 'utf8');
const start = doc.indexOf('## Every limit');
const table = doc.slice(start, doc.indexOf('\n## ', start + 1));

describe('docs/security.md, "Every limit"', () => {
  it('exists', () => {
    expect(start).toBeGreaterThan(0);
  });

  it.each(EDGE_SETTINGS.filter((s) => /^(limits|timeouts)\./.test(s.key)).map((s) => s.key))(
    'has a row for %s',
    (key) => {
      expect(table).toMatch(new RegExp(`^\\| [^\\n]*\`${key.replace('.', '\\.')}\``, 'm'));
    },
  );
});
