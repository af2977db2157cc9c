// docs/configuration.md is written by hand; this keeps it from drifting away from the schema.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_PATH_ENV } from './load-edge-config.js';
import { EDGE_SETTINGS, flagName } from './setting-list.js';

const doc = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
const edgeSection = doc.slice(doc.indexOf('## burrow-edge'), doc.indexOf('## burrow (agent)'));

describe('docs/configuration.md (edge section)', () => {
  it('has an edge section', () => {
    expect(edgeSection.length).toBeGreaterThan(0);
  });

  it.each(EDGE_SETTINGS.flatMap((setting) => setting.env))('mentions env %s', (name) => {
    expect(edgeSection).toContain(`\`${name}\``);
  });

  it.each(EDGE_SETTINGS.map((setting) => setting.key))('mentions config file key %s', (key) => {
    expect(edgeSection).toContain(`\`${key}\``);
  });

  it.each(EDGE_SETTINGS.flatMap((setting) => (setting.flag === null ? [] : [flagName(setting.flag)])))(
    'mentions flag %s',
    (flag) => {
      expect(edgeSection).toContain(`\`${flag}\``);
    },
  );

  it('mentions the config file path variable and flag', () => {
    expect(edgeSection).toContain(`\`${CONFIG_PATH_ENV}\``);
    expect(edgeSection).toContain('`--config`');
  });

  it('has one table row per setting plus the config file row', () => {
    const rows = edgeSection.split('\n').filter((line) => /^\| [a-z]/.test(line));
    expect(rows).toHaveLength(EDGE_SETTINGS.length + 1);
  });
});
