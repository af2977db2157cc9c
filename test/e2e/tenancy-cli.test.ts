/** Tenancy from the operator's side: `burrow-edge users|keys|domains` against a real data directory. */

import { afterEach, describe, expect, it } from 'vitest';
import {
  AGENT_CLI,
  Proc,
  edgeCli,
  startEdge,
  startOrigin,
  stopAll,
  tempDir,
  type CliRun,
  spawnAgent,
} from './harness.js';
import { originHandler } from './origin.js';

afterEach(stopAll);

/** A failed command: exit 1 and exactly one `burrow-edge: …` line on stderr matching `message`. */
function expectFailure(run: CliRun, message: RegExp): void {
  expect(run.code).toBe(1);
  expect(run.stdout).toEqual([]);
  expect(run.stderr).toHaveLength(1);
  expect(run.stderr[0]).toMatch(/^burrow-edge: /);
  expect(run.stderr[0]).toMatch(message);
}

describe('burrow-edge users', () => {
  it('creates, lists, disables and enables users', async () => {
    const data = tempDir();
    const created = await edgeCli(data, 'users', 'create', 'Alice', '--json');
    expect(created.code).toBe(0);
    const alice = JSON.parse(created.stdout[0]!) as { id: string; name: string; admin: boolean };
    expect(alice).toMatchObject({ name: 'alice', admin: false });
    expect(created.stderr[0]).toMatch(/created user "alice".*keys create --user alice/);
    expect((await edgeCli(data, 'users', 'create', 'root', '--admin')).code).toBe(0);

    const listed = await edgeCli(data, 'users', 'list', '--json');
    const users = JSON.parse(listed.stdout.join('')) as {
      name: string;
      admin: boolean;
      disabledAt: string | null;
    }[];
    expect(users.map((u) => [u.name, u.admin])).toEqual([
      ['default', true],
      ['alice', false],
      ['root', true],
    ]);
    const text = await edgeCli(data, 'users', 'list');
    expect(text.stdout[1]).toMatch(/^alice\s+usr_\w{16}\s+user\s+created \S+\s+active$/);

    const disabled = await edgeCli(data, 'users', 'disable', 'alice');
    expect(disabled.code).toBe(0);
    expect(disabled.stderr[0]).toMatch(/disabled user "alice"/);
    const afterDisable = await edgeCli(data, 'users', 'list', '--json');
    expect((JSON.parse(afterDisable.stdout.join('')) as typeof users)[1]?.disabledAt).toMatch(/^\d{4}-/);
    expect((await edgeCli(data, 'users', 'enable', 'alice')).code).toBe(0);
    expect((await edgeCli(data, 'users', 'list')).stdout[1]).toMatch(/active$/);
  });

  it('says what to do about bad names, taken names and unknown users', async () => {
    const data = tempDir();
    await edgeCli(data, 'users', 'create', 'bob');
    expectFailure(await edgeCli(data, 'users', 'create', 'BOB'), /"bob" already exists; choose another name/);
    expectFailure(
      await edgeCli(data, 'users', 'create', 'no spaces'),
      /not a valid user name: use 1-64 letters/,
    );
    expectFailure(await edgeCli(data, 'users', 'disable', 'carol'), /no user named "carol"; create it with/);
    expectFailure(await edgeCli(data, 'users', 'enable', 'carol'), /no user named "carol"/);
  });

  it("refuses a disabled user's key at the edge, and accepts it again once enabled", async () => {
    const edge = await startEdge();
    await edgeCli(edge.dataDir, 'users', 'create', 'dana');
    const key = await edgeCli(edge.dataDir, 'keys', 'create', '--user', 'dana', '--label', 'laptop');
    const token = key.stdout[0]!;
    await edgeCli(edge.dataDir, 'users', 'disable', 'dana');
    const origin = await startOrigin(originHandler);
    const refused = new Proc([
      AGENT_CLI,
      'http',
      String(origin.port),
      '--server',
      edge.url,
      '--token',
      token,
    ]);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr.join('\n')).toMatch(/TUN_ERR_UNAUTHORIZED/);

    await edgeCli(edge.dataDir, 'users', 'enable', 'dana');
    const agent = spawnAgent(edge, String(origin.port), { token });
    await agent.waitFor(() => agent.json.find((l) => l.event === 'tunnel'), 10_000, 'the tunnel');
  });
});

describe('burrow-edge keys create --user --scope', () => {
  it('creates keys for a user with scopes; the defaults stay the default user and agent,api', async () => {
    const data = tempDir();
    await edgeCli(data, 'users', 'create', 'erin');
    const plain = await edgeCli(data, 'keys', 'create', '--label', 'old style');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toHaveLength(1);
    expect(plain.stdout[0]).toMatch(/^bk_\w{8}_\w{43}$/);
    expect(plain.stderr[0]).toMatch(/for user "default" with scopes agent,api; it is shown only this once/);
    const scoped = await edgeCli(
      data,
      'keys',
      'create',
      '--user',
      'erin',
      '--scope',
      'agent',
      '--label',
      'ci',
    );
    expect(scoped.stderr[0]).toMatch(/for user "erin" with scopes agent;/);
    const admin = await edgeCli(data, 'keys', 'create', '--scope', 'api,admin');
    expect(admin.code).toBe(0);

    const listed = await edgeCli(data, 'keys', 'list', '--json');
    const keys = JSON.parse(listed.stdout.join('')) as { label: string; userId: string; scopes: string[] }[];
    expect(keys.map((k) => [k.label, k.userId === 'usr_default', k.scopes])).toEqual([
      ['old style', true, ['agent', 'api']],
      ['ci', false, ['agent']],
      ['', true, ['api', 'admin']],
    ]);
    const erins = await edgeCli(data, 'keys', 'list', '--user', 'erin');
    expect(erins.stdout).toHaveLength(1);
    expect(erins.stdout[0]).toMatch(/ user erin {2}agent {2}ci$/);
  });

  it('says what to do about unknown users, bad scopes and admin keys for non-admins', async () => {
    const data = tempDir();
    await edgeCli(data, 'users', 'create', 'finn');
    expectFailure(await edgeCli(data, 'keys', 'create', '--user', 'ghost'), /no user named "ghost"/);
    expectFailure(
      await edgeCli(data, 'keys', 'create', '--scope', 'agent,root'),
      /"root" is not a scope: a key's scopes are one or more of agent, api, admin/,
    );
    expectFailure(await edgeCli(data, 'keys', 'create', '--scope', ''), /no scope given/);
    expectFailure(
      await edgeCli(data, 'keys', 'create', '--user', 'finn', '--scope', 'admin'),
      /"finn" is not an admin, so its keys cannot have the admin scope/,
    );
    const listed = await edgeCli(data, 'keys', 'list', '--json');
    expect(JSON.parse(listed.stdout.join(''))).toEqual([]);
  });
});

describe('burrow-edge domains', () => {
  it('adds a domain and prints the TXT record, lists it, routes it and removes it', async () => {
    const data = tempDir();
    await edgeCli(data, 'users', 'create', 'gail');
    const added = await edgeCli(data, 'domains', 'add', 'App.Example.ORG', '--user', 'gail');
    expect(added.code).toBe(0);
    expect(added.stdout).toHaveLength(1);
    const [, token] = /^_burrow\.app\.example\.org TXT "([0-9A-Za-z]{32})"$/.exec(added.stdout[0]!) ?? [];
    expect(token).toBeDefined();
    expect(added.stderr[0]).toMatch(/added app\.example\.org for user "gail"/);

    const routed = await edgeCli(
      data,
      'domains',
      'add',
      'www.example.org',
      '--user',
      'gail',
      '--tunnel',
      'gails',
    );
    expect(routed.code).toBe(0);
    expect(routed.stderr[0]).toMatch(/routing to tunnel "gails"/);

    const listed = await edgeCli(data, 'domains', 'list', '--json');
    const domains = JSON.parse(listed.stdout.join('')) as {
      hostname: string;
      userName: string;
      tunnelName: string | null;
      verifiedAt: string | null;
      verificationRecord: { name: string; type: string; value: string };
    }[];
    expect(domains.map((d) => [d.hostname, d.userName, d.tunnelName, d.verifiedAt])).toEqual([
      ['app.example.org', 'gail', null, null],
      ['www.example.org', 'gail', 'gails', null],
    ]);
    expect(domains[0]?.verificationRecord).toEqual({
      name: '_burrow.app.example.org',
      type: 'TXT',
      value: token,
    });
    const text = await edgeCli(data, 'domains', 'list');
    expect(text.stdout[0]).toMatch(
      /^app\.example\.org\s+user gail\s+no tunnel\s+unverified \(_burrow\.app\.example\.org TXT "\w{32}"\)$/,
    );

    expect((await edgeCli(data, 'domains', 'route', 'app.example.org', 'gails')).code).toBe(0);
    expect((await edgeCli(data, 'domains', 'list', '--user', 'gail')).stdout[0]).toMatch(/tunnel gails/);

    const removed = await edgeCli(data, 'domains', 'remove', 'APP.example.org');
    expect(removed.code).toBe(0);
    expect(removed.stderr[0]).toBe('removed custom domain app.example.org');
    expectFailure(
      await edgeCli(data, 'domains', 'remove', 'app.example.org'),
      /no custom domain "app\.example\.org"/,
    );
  });

  it('says what to do about bad hostnames, unknown users, taken domains and names', async () => {
    const data = tempDir();
    await edgeCli(data, 'users', 'create', 'hugo');
    await edgeCli(data, 'users', 'create', 'ines');
    expectFailure(
      await edgeCli(data, 'domains', 'add', 'not a host', '--user', 'hugo'),
      /not a valid custom domain/,
    );
    expectFailure(await edgeCli(data, 'domains', 'add', '10.0.0.1', '--user', 'hugo'), /IP address/);
    expectFailure(
      await edgeCli(data, 'domains', 'add', 'x.localhost', '--user', 'hugo'),
      /inside this edge's own domain/,
    );
    expectFailure(
      await edgeCli(data, 'domains', 'add', 'a.example.org', '--user', 'nobody'),
      /no user named "nobody"/,
    );
    await edgeCli(data, 'domains', 'add', 'a.example.org', '--user', 'hugo', '--tunnel', 'hugos');
    expectFailure(
      await edgeCli(data, 'domains', 'add', 'A.example.org', '--user', 'ines'),
      /"a\.example\.org" was already added by user "hugo"/,
    );
    expectFailure(
      await edgeCli(data, 'domains', 'add', 'b.example.org', '--user', 'ines', '--tunnel', 'hugos'),
      /the name "hugos" is reserved by user "hugo"; only their keys can bind it/,
    );
    const missingUser = await edgeCli(data, 'domains', 'add', 'c.example.org');
    expect(missingUser.code).toBe(1);
    expect(missingUser.stderr[0]).toMatch(/required option '--user <name>'/);
  });

  it("reserves a name for a user: others' agents are refused naming the owner, the owner's bind it; release frees it", async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    for (const user of ['alice', 'bob'])
      expect((await edgeCli(edge.dataDir, 'users', 'create', user)).code).toBe(0);
    const reserved = await edgeCli(edge.dataDir, 'names', 'reserve', 'shop', '--user', 'alice');
    expect(reserved.code).toBe(0);
    expect(reserved.stderr.join('\n')).toMatch(/reserved for user "alice"/);
    const listed = await edgeCli(edge.dataDir, 'names', 'list', '--json');
    const rows = JSON.parse(listed.stdout.join('')) as Record<string, unknown>[];
    expect(rows).toEqual([expect.objectContaining({ name: 'shop', kind: 'named', ownerUserName: 'alice' })]);
    expect(listed.stdout.join('')).not.toContain('resumeTokenHash');
    expectFailure(
      await edgeCli(edge.dataDir, 'names', 'reserve', 'shop', '--user', 'bob'),
      /reserved by user "alice"/,
    );

    const keyOf = async (user: string): Promise<string> =>
      (await edgeCli(edge.dataDir, 'keys', 'create', '--user', user)).stdout[0]!.trim();
    const agent = async (user: string): Promise<Proc> =>
      spawnAgent(edge, String(origin.port), { name: 'shop', token: await keyOf(user) });
    const bobs = await agent('bob');
    expect(await bobs.exited).toBe(1);
    expect(bobs.output).toMatch(/TUN_ERR_NAME_TAKEN/);
    const alices = await agent('alice');
    await alices.waitFor(() => alices.json.find((l) => l.event === 'tunnel'), 15_000, 'the tunnel');
    alices.signal('SIGINT');
    await alices.exited;

    expect((await edgeCli(edge.dataDir, 'names', 'release', 'shop')).code).toBe(0);
    expectFailure(await edgeCli(edge.dataDir, 'names', 'release', 'shop'), /no tunnel name "shop"/);
    expect((await edgeCli(edge.dataDir, 'names', 'reserve', 'shop', '--user', 'bob')).code).toBe(0);
  });
});
