import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import type { AgentFlags, LoadAgentConfigOptions } from './agent-config.js';
import { loadAgentConfig } from './load-agent-config.js';
import { useScratchDir } from '../../../../test/support/scratch-dir.js';

const scratch = useScratchDir('burrow-tunnel-access-');
const writeFile = scratch.write;

function load(options: Partial<LoadAgentConfigOptions>) {
  return loadAgentConfig({ env: {}, cwd: scratch.path, ...options });
}

/** `burrow http 3000` with these flags. */
function adHoc(flags: AgentFlags) {
  return load({ flags, tunnel: { target: '3000' } }).tunnels[0]!;
}

function failure(options: Partial<LoadAgentConfigOptions>): string {
  try {
    load(options);
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_CONFIG_INVALID');
    return (err as TunnelError).message;
  }
  throw new Error('expected loadAgentConfig to throw');
}

const EVERY_SETTING = {
  basicAuth: ['alice:pw-alice-1', 'bob:pw:with:colons'],
  authToken: 'tok-secret-123',
  allowIp: ['10.0.0.0/8', '2001:db8::/32'],
  denyIp: ['10.0.0.5'],
  rateLimit: '10/s',
  requestHeaderAdd: ['X-From: burrow'],
  requestHeaderRemove: ['X-Debug'],
  responseHeaderAdd: ['X-Robots-Tag: noindex'],
  responseHeaderRemove: ['X-Powered-By'],
};

describe('access settings as flags of burrow http', () => {
  it('builds the policy JSON from every flag, in the edge field order', () => {
    const tunnel = adHoc({ ...EVERY_SETTING, hostHeader: 'rewrite' });
    expect(tunnel.policy).toStrictEqual(EVERY_SETTING);
    expect(JSON.stringify(tunnel.policy)).toBe(
      '{"basicAuth":["alice:pw-alice-1","bob:pw:with:colons"],"authToken":"tok-secret-123",' +
        '"allowIp":["10.0.0.0/8","2001:db8::/32"],"denyIp":["10.0.0.5"],"rateLimit":"10/s",' +
        '"requestHeaderAdd":["X-From: burrow"],"requestHeaderRemove":["X-Debug"],' +
        '"responseHeaderAdd":["X-Robots-Tag: noindex"],"responseHeaderRemove":["X-Powered-By"]}',
    );
    expect(tunnel.hostHeader).toBe('rewrite');
  });

  it('sends only what was set, and no policy at all when nothing was', () => {
    expect(adHoc({ rateLimit: '30/m' }).policy).toStrictEqual({ rateLimit: '30/m' });
    const plain = adHoc({});
    expect(plain.policy).toBeNull();
    expect(plain.hostHeader).toBe('preserve');
  });

  it('keeps the Host header choice out of the policy', () => {
    const tunnel = adHoc({ hostHeader: 'myapp.test:5173' });
    expect(tunnel.hostHeader).toBe('myapp.test:5173');
    expect(tunnel.policy).toBeNull();
    expect(adHoc({ hostHeader: ' Rewrite ' }).hostHeader).toBe('rewrite');
    expect(adHoc({ hostHeader: 'preserve' }).hostHeader).toBe('preserve');
    expect(adHoc({ hostHeader: '[::1]:3000' }).hostHeader).toBe('[::1]:3000');
  });

  it('freezes the policy and its lists', () => {
    const policy = adHoc({ allowIp: ['10.0.0.0/8'] }).policy!;
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.allowIp)).toBe(true);
  });

  it('names the flag of each bad setting, without quoting a password or token', () => {
    const message = failure({
      tunnel: { target: '3000' },
      flags: {
        basicAuth: ['alice:ok-password', 'no-colon-secret'],
        authToken: 'has space-secret',
        rateLimit: '10/h',
        hostHeader: 'not a host',
        requestHeaderAdd: ['Bad Name: secret-header-value'],
        responseHeaderRemove: ['X:Y'],
      },
    });
    expect(message).toContain(
      'basicAuth.1 (from flag --basic-auth) must be "user:password" with a user and a password, ' +
        'got a value that is not shown (it is a secret)',
    );
    expect(message).toContain('authToken (from flag --auth-token) must be a token of visible characters');
    expect(message).toContain('rateLimit (from flag --rate-limit) must be "N/s" or "N/m"');
    expect(message).toContain('got "10/h"');
    expect(message).toContain('hostHeader (from flag --host-header) must be "preserve", "rewrite"');
    expect(message).toContain('requestHeaderAdd.0 (from flag --request-header-add) must be "Name: value"');
    expect(message).toContain(
      'responseHeaderRemove.0 (from flag --response-header-remove) must be a header name',
    );
    for (const secret of ['ok-password', 'no-colon-secret', 'space-secret', 'secret-header-value']) {
      expect(message).not.toContain(secret);
    }
  });

  it('rejects an empty user or password before the edge sees it', () => {
    expect(failure({ tunnel: { target: '3000' }, flags: { basicAuth: [':pw'] } })).toContain('basicAuth.0');
    expect(failure({ tunnel: { target: '3000' }, flags: { basicAuth: ['alice:'] } })).toContain(
      'basicAuth.0',
    );
  });

  it('leaves address checks to the edge beyond "one word"', () => {
    expect(adHoc({ allowIp: ['300.1.2.3/99'] }).policy).toStrictEqual({ allowIp: ['300.1.2.3/99'] });
    expect(failure({ tunnel: { target: '3000' }, flags: { denyIp: ['10.0.0.1 10.0.0.2'] } })).toContain(
      'denyIp.0 (from flag --deny-ip) must be an IP address or CIDR block, e.g. 203.0.113.0/24, got "10.0.0.1 10.0.0.2"',
    );
  });

  it('says access flags need a target, like --name', () => {
    const message = failure({
      file: writeFile('start.yml', 'tunnels:\n  web:\n    addr: 3000\n'),
      flags: { basicAuth: ['a:b'], hostHeader: 'rewrite' },
    });
    expect(message).toContain('basicAuth (from flag --basic-auth) applies only to `burrow http <target>`');
    expect(message).toContain('hostHeader (from flag --host-header) applies only to `burrow http <target>`');
  });

  it('does not give the ad-hoc tunnel the settings of a file tunnel', () => {
    const file = writeFile('ignored.yml', 'tunnels:\n  web:\n    addr: 3000\n    rateLimit: 5/s\n');
    expect(load({ file, tunnel: { target: '4000' } }).tunnels[0]?.policy).toBeNull();
  });
});

describe('access settings in burrow.yml', () => {
  it('builds the same policy JSON from the tunnel keys', () => {
    const file = writeFile(
      'every.yml',
      [
        'tunnels:',
        '  web:',
        '    addr: 3000',
        '    basicAuth: ["alice:pw-alice-1", "bob:pw:with:colons"]',
        '    authToken: tok-secret-123',
        '    allowIp: [10.0.0.0/8, "2001:db8::/32"]',
        '    denyIp:',
        '      - 10.0.0.5',
        '    rateLimit: 10/s',
        '    hostHeader: localhost:5173',
        '    requestHeaderAdd: ["X-From: burrow"]',
        '    requestHeaderRemove: [X-Debug]',
        '    responseHeaderAdd: ["X-Robots-Tag: noindex"]',
        '    responseHeaderRemove: [X-Powered-By]',
        '  api:',
        '    addr: 4000',
        '    hostHeader: rewrite',
        '    allowIp: []',
        '',
      ].join('\n'),
    );
    const [web, api] = load({ file }).tunnels;
    expect(web?.policy).toStrictEqual(EVERY_SETTING);
    expect(web?.hostHeader).toBe('localhost:5173');
    expect(api?.policy).toBeNull();
    expect(api?.hostHeader).toBe('rewrite');
  });

  it('reports bad keys with their path and file, never quoting a secret', () => {
    const file = writeFile(
      'bad-access.yml',
      [
        'tunnels:',
        '  web:',
        '    addr: 3000',
        '    basicAuth: alice:single-string-secret',
        '    authToken:',
        '    allowIp: 10.0.0.0/8',
        '    rateLimit: 10',
        '    responseHeaderAdd: ["nocolon-secret"]',
        '    basicauth: [x]',
        '',
      ].join('\n'),
    );
    const message = failure({ file });
    expect(message).toContain(
      `tunnels.web.basicAuth (from file ${file}) must be a list of entries, got a value that is not shown`,
    );
    // An empty value is a mistake, not "no token": the tunnel would silently be open.
    expect(message).toContain(
      `tunnels.web.authToken (from file ${file}) must be a token of visible characters`,
    );
    expect(message).toContain(
      `tunnels.web.allowIp (from file ${file}) must be a list of IP addresses or CIDR blocks, got "10.0.0.0/8"`,
    );
    expect(message).toContain(`tunnels.web.rateLimit (from file ${file}) must be "N/s" or "N/m"`);
    expect(message).toContain(`tunnels.web.responseHeaderAdd.0 (from file ${file}) must be "Name: value"`);
    expect(message).toContain(`tunnels.web.basicauth (from file ${file}) is not a known setting`);
    expect(message).not.toContain('single-string-secret');
    expect(message).not.toContain('nocolon-secret');
  });
});
