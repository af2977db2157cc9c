import { describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import {
  decodeApiKeyScopes,
  encodeApiKeyScopes,
  normalizeApiKeyScopes,
  parseApiKeyScopes,
  scopeAllows,
} from './api-key-scopes.js';
import { domainVerificationRecord, lookupDomainHostname, normalizeDomainHostname } from './custom-domain.js';
import { nameTakenError } from './name-taken.js';
import { normalizeUserName, tryNormalizeUserName } from './user-name.js';
import { printable, validateKeyLabel } from './printable-text.js';

function thrown(fn: () => unknown): TunnelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    return err as TunnelError;
  }
  throw new Error('expected a throw');
}

describe('api key scopes', () => {
  it('parses a comma list into canonical order without duplicates', () => {
    expect(parseApiKeyScopes('api, agent')).toEqual(['agent', 'api']);
    expect(parseApiKeyScopes('ADMIN,agent,admin,')).toEqual(['agent', 'admin']);
    expect(parseApiKeyScopes('agent')).toEqual(['agent']);
  });

  it('refuses empty lists and unknown scopes with TUN_ERR_NAME_INVALID naming the valid ones', () => {
    for (const text of ['', ' , ', 'agent,root', 'agents']) {
      const err = thrown(() => parseApiKeyScopes(text));
      expect(err.code).toBe('TUN_ERR_NAME_INVALID');
      expect(err.message).toContain('agent, api, admin');
    }
    expect(thrown(() => normalizeApiKeyScopes([1])).code).toBe('TUN_ERR_NAME_INVALID');
  });

  it('round-trips through the column and drops words it cannot read', () => {
    expect(decodeApiKeyScopes(encodeApiKeyScopes(['agent', 'api', 'admin']))).toEqual([
      'agent',
      'api',
      'admin',
    ]);
    expect(decodeApiKeyScopes('agent,superuser')).toEqual(['agent']);
    expect(decodeApiKeyScopes('')).toEqual([]);
  });

  it('lets admin do everything and the others only themselves', () => {
    expect(scopeAllows(['admin'], 'agent')).toBe(true);
    expect(scopeAllows(['agent'], 'api')).toBe(false);
    expect(scopeAllows(['agent', 'api'], 'admin')).toBe(false);
    expect(scopeAllows(['api'], 'api')).toBe(true);
  });
});

describe('user names', () => {
  it('trims and lower-cases valid names', () => {
    expect(normalizeUserName(' Alice.Smith ')).toBe('alice.smith');
    expect(normalizeUserName('a')).toBe('a');
    expect(normalizeUserName('x'.repeat(64))).toBe('x'.repeat(64));
  });

  it('refuses anything else with a message saying what a name may be', () => {
    for (const raw of ['', '_a', 'a_', 'a b', 'ü', 'x'.repeat(65), undefined]) {
      expect(tryNormalizeUserName(raw)).toBeNull();
      const err = thrown(() => normalizeUserName(raw));
      expect(err.code).toBe('TUN_ERR_NAME_INVALID');
      expect(err.message).toMatch(/1-64 letters, digits/);
    }
  });
});

describe('custom domain hostnames', () => {
  it('normalizes case, surrounding space, a trailing dot and international names', () => {
    expect(normalizeDomainHostname(' App.Example.ORG. ')).toBe('app.example.org');
    expect(normalizeDomainHostname('münchen.example')).toBe('xn--mnchen-3ya.example');
    expect(normalizeDomainHostname('xn--mnchen-3ya.example')).toBe('xn--mnchen-3ya.example');
    expect(normalizeDomainHostname('a-b.c0.io')).toBe('a-b.c0.io');
  });

  it('says what is wrong with a bad hostname', () => {
    const cases: [string, RegExp][] = [
      ['10.0.0.1', /IP address/],
      ['::1', /IP address/],
      ['*.example.org', /wildcards/],
      ['app.example.org:443', /without scheme, port or path/],
      ['http://app.example.org', /without scheme, port or path/],
      ['localhost', /with a dot/],
      ['a..example.org', /labels of 1-63/],
      ['example.42', /all digits/],
    ];
    for (const [raw, why] of cases) {
      const err = thrown(() => normalizeDomainHostname(raw));
      expect(err.code).toBe('TUN_ERR_NAME_INVALID');
      expect(err.message).toMatch(why);
      expect(err.message).toContain(`"${raw}"`);
    }
  });

  it('looks up leniently and never throws', () => {
    expect(lookupDomainHostname('APP.example.org.')).toBe('app.example.org');
    expect(lookupDomainHostname(null)).toBe('');
  });

  it('names the TXT record under _burrow', () => {
    expect(domainVerificationRecord('app.example.org', 'tok')).toEqual({
      name: '_burrow.app.example.org',
      type: 'TXT',
      value: 'tok',
    });
  });
});

describe('nameTakenError', () => {
  it('names the owning user for a reserved name, and who can release it', () => {
    const err = nameTakenError({ name: 'myapp', kind: 'named', ownerUserName: 'alice' });
    expect(err.code).toBe('TUN_ERR_NAME_TAKEN');
    expect(err.message).toBe(
      'the name "myapp" is reserved by user "alice"; only their keys can bind it. Ask alice or an edge admin to release it, or choose another name',
    );
  });

  it('points to an admin for an unowned name and to a new random name for a temporary one', () => {
    expect(nameTakenError({ name: 'x', kind: 'named', ownerUserName: null }).message).toMatch(/edge admin/);
    expect(nameTakenError({ name: 'k3xnz3', kind: 'temporary', ownerUserName: 'bob' }).message).toMatch(
      /temporary name.*without --name/,
    );
  });
});

describe('key labels and user names with control characters', () => {
  it('refuses a key label with control characters, naming the field and escaping the input', () => {
    for (const label of ['evil\u001b[2J', 'two\nlines', 'nul\u0000', 'del\u007f', 'c1\u009b', 'bidi\u202e']) {
      const err = thrown(() => validateKeyLabel(label));
      expect(err.code).toBe('TUN_ERR_INVALID_INPUT');
      expect(err.message).toMatch(/label/);
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      expect(err.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    }
    expect(validateKeyLabel('laptop – café ✓')).toBe('laptop – café ✓');
    expect(thrown(() => validateKeyLabel('x'.repeat(201))).message).toMatch(/200/);
  });

  it('escapes a refused user name in its error instead of echoing control characters', () => {
    const err = thrown(() => normalizeUserName('bob\u0007\u001b[2J'));
    expect(err.message).toMatch(/user name/);
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    expect(err.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('prints stored text with control characters escaped', () => {
    expect(printable('ok name')).toBe('ok name');
    expect(printable('a\u001b[31mb\nc\u202e')).toBe('a\\x1b[31mb\\x0ac\\u202e');
  });
});
