import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { boolSetting, group, intSetting, withMeta } from './setting-schema.js';
import { EDGE_SETTINGS, flagName, listSettings, screamingSnake } from './setting-list.js';

function setting(key: string) {
  const found = EDGE_SETTINGS.find((s) => s.key === key);
  if (found === undefined) throw new Error(`no setting ${key}`);
  return found;
}

describe('env name derivation', () => {
  it('converts camelCase keys to SCREAMING_SNAKE', () => {
    expect(screamingSnake('reconnectGraceMs')).toBe('RECONNECT_GRACE_MS');
    expect(screamingSnake('maxStreamsPerSession')).toBe('MAX_STREAMS_PER_SESSION');
    expect(screamingSnake('domain')).toBe('DOMAIN');
  });

  it('converts flag keys to the kebab-case flag people type', () => {
    expect(flagName('publicPort')).toBe('--public-port');
    expect(flagName('data')).toBe('--data');
  });

  it('names nested settings BURROW_<GROUP>_<SETTING>', () => {
    expect(setting('timeouts.reconnectGraceMs').env).toEqual(['BURROW_TIMEOUTS_RECONNECT_GRACE_MS']);
    expect(setting('limits.streamWindow').env).toEqual(['BURROW_LIMITS_STREAM_WINDOW']);
    expect(setting('tunnels.allowAnonymous').env).toEqual(['BURROW_TUNNELS_ALLOW_ANONYMOUS']);
    expect(setting('log.level').env).toEqual(['BURROW_LOG_LEVEL']);
    expect(setting('domains.resolver').env).toEqual(['BURROW_DOMAINS_RESOLVER']);
    expect(setting('domains.verifyIntervalMs').env).toEqual(['BURROW_DOMAINS_VERIFY_INTERVAL_MS']);
    expect(setting('acme.caFile').env).toEqual(['BURROW_ACME_CA_FILE']);
    expect(setting('acme.email').flag).toBe('acmeEmail');
    expect(setting('tls.certFile').env).toEqual(['BURROW_TLS_CERT_FILE']);
    expect(setting('tls.generate').flag).toBe('tls');
  });

  it('names top-level settings BURROW_<SETTING>', () => {
    expect(setting('listen').env).toEqual(['BURROW_LISTEN']);
    expect(setting('domain').env).toEqual(['BURROW_DOMAIN']);
    expect(setting('dataDir').env).toEqual(['BURROW_DATA_DIR']);
  });

  it('applies the envSegment and envAliases exceptions', () => {
    expect(setting('publicUrl.scheme').env).toEqual(['BURROW_PUBLIC_SCHEME']);
    expect(setting('publicUrl.port').env).toEqual(['BURROW_PUBLIC_PORT']);
    expect(setting('databaseUrl').env).toEqual(['BURROW_DATABASE_URL', 'DATABASE_URL']);
    expect(setting('httpsListen').env).toEqual(['BURROW_HTTPS_LISTEN']);
    expect(setting('hstsMaxAgeS').flag).toBe('hsts');
  });

  it('lists every leaf of the edge schema once, with a unique env name', () => {
    expect(EDGE_SETTINGS).toHaveLength(83);
    const names = EDGE_SETTINGS.flatMap((s) => s.env);
    expect(new Set(names).size).toBe(names.length);
  });

  it('records kinds, flags and secrecy', () => {
    expect(setting('limits.streamWindow').kind).toBe('number');
    expect(setting('publicUrl.port').kind).toBe('number');
    expect(setting('tunnels.allowAnonymous').kind).toBe('boolean');
    expect(setting('listen').kind).toBe('string');
    expect(setting('dataDir').flag).toBe('data');
    expect(setting('limits.streamWindow').flag).toBeNull();
    expect(setting('databaseUrl').secret).toBe(true);
    expect(setting('acme.dns.tsigSecret').secret).toBe(true);
    expect(setting('acme.dns.tsigSecret').flag).toBeNull();
    expect(setting('acme.dns.server').env).toEqual(['BURROW_ACME_DNS_SERVER']);
    expect(setting('domain').secret).toBe(false);
  });

  it('derives names for any schema built from the same blocks', () => {
    const schema = z.strictObject({
      outerGroup: withMeta(group({ someLimit: intSetting(1, 0), flagOn: boolSetting(false) }), {
        envSegment: 'OG',
      }),
      plain: intSetting(5, 0),
    });
    expect(listSettings(schema).map((s) => [s.key, s.env[0], s.kind])).toEqual([
      ['outerGroup.someLimit', 'BURROW_OG_SOME_LIMIT', 'number'],
      ['outerGroup.flagOn', 'BURROW_OG_FLAG_ON', 'boolean'],
      ['plain', 'BURROW_PLAIN', 'number'],
    ]);
  });
});
