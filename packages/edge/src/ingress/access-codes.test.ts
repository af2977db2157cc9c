import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TOO_MANY_CONNECTIONS } from './connection-limit.js';
import { EDGE_RATE_LIMITED } from './request-rate-limit.js';

const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
const policyResponses = readFileSync(new URL('../policy/policy-responses.ts', import.meta.url), 'utf8');

describe('access answer codes', () => {
  it('documents every POLICY_* and EDGE_* code the edge can put in X-Burrow-Error', () => {
    const policyCodes = [...new Set(policyResponses.match(/'POLICY_[A-Z_]+'/g) ?? [])].map((c) =>
      c.slice(1, -1),
    );
    expect(policyCodes.length).toBeGreaterThanOrEqual(6);
    for (const code of [...policyCodes, TOO_MANY_CONNECTIONS, EDGE_RATE_LIMITED]) {
      expect(doc, `docs/errors.md lacks ${code}`).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
    }
  });
});
