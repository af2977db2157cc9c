/**
 * The tenancy part of the Store contract: users, key scopes, user-owned tunnel names and
 * custom domains. `runStoreContract` runs it inside its own suite, with the store, clock
 * and reopen function of the current test.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from './store.js';
import {
  MINUTE,
  T0,
  expectTunnelError,
  seededRandom,
  type ContractFixture,
} from './test-support/contract-fixture.js';
import { DEFAULT_USER_ID, DEFAULT_USER_NAME } from './user-name.js';

const USER_ID = /^usr_[0-9A-Za-z]{16}$/;
const TOKEN = /^[0-9A-Za-z]{32}$/;

export function describeTenancyContract(fixture: ContractFixture): void {
  const store = (): Store => fixture.store();
  const clock = () => fixture.clock();

  describe('users', () => {
    it('has the default admin user from the start', async () => {
      const users = await store().listUsers();
      expect(users).toHaveLength(1);
      expect(users[0]).toMatchObject({
        id: DEFAULT_USER_ID,
        name: DEFAULT_USER_NAME,
        admin: true,
        disabledAt: null,
      });
      expect(await store().getUserByName('default')).toEqual(users[0]);
    });

    it('creates a user with a normalized name and times from the clock, and finds it by id and name', async () => {
      clock().advance(MINUTE);
      const alice = await store().createUser({ name: '  Alice ' });
      expect(alice).toEqual({
        id: expect.stringMatching(USER_ID) as unknown,
        name: 'alice',
        admin: false,
        createdAt: new Date(T0 + MINUTE),
        disabledAt: null,
      });
      expect(await store().getUser(alice.id)).toEqual(alice);
      expect(await store().getUserByName('ALICE')).toEqual(alice);
      expect((await store().createUser({ name: 'root', admin: true })).admin).toBe(true);
    });

    it('refuses invalid names with TUN_ERR_NAME_INVALID and taken ones with TUN_ERR_NAME_TAKEN', async () => {
      for (const name of ['', ' ', 'a b', '-x', 'x-', '.x', 'é', 'a/b', 'x'.repeat(65), 42, null]) {
        await expectTunnelError(
          store().createUser({ name: name as string }),
          'TUN_ERR_NAME_INVALID',
          /user name/,
        );
      }
      await store().createUser({ name: 'bob' });
      await expectTunnelError(
        store().createUser({ name: 'Bob' }),
        'TUN_ERR_NAME_TAKEN',
        /"bob" already exists/,
      );
      await expectTunnelError(store().createUser({ name: 'default' }), 'TUN_ERR_NAME_TAKEN');
      expect((await store().listUsers()).map((u) => u.name).sort()).toEqual(['bob', 'default']);
      expect((await store().createUser({ name: 'a.b_c-9' })).name).toBe('a.b_c-9');
    });

    it('lets exactly one of many concurrent creations of a name win', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => store().createUser({ name: 'carol' })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await store().listUsers()).filter((u) => u.name === 'carol')).toHaveLength(1);
    });

    it('fails with TUN_ERR_INTERNAL instead of looping when user ids keep colliding', async () => {
      const stuck = await fixture.openStore({ random: (size) => Buffer.alloc(size, 7) });
      await stuck.createUser({ name: 'first' });
      await expectTunnelError(stuck.createUser({ name: 'second' }), 'TUN_ERR_INTERNAL');
    });

    it('answers undefined, without throwing, for unknown ids and unknown or malformed names', async () => {
      expect(await store().getUser('usr_nobody')).toBeUndefined();
      expect(await store().getUserByName('nobody')).toBeUndefined();
      for (const name of ['', 'a b', 'x'.repeat(1000), undefined, 7]) {
        expect(await store().getUserByName(name as string)).toBeUndefined();
      }
    });

    it('lists users oldest first, disabled ones included', async () => {
      const a = await store().createUser({ name: 'zed' });
      clock().advance(1_000);
      const b = await store().createUser({ name: 'amy' });
      await store().disableUser(a.id);
      // The default user was made when the database was migrated, by the real clock.
      const ids = (await store().listUsers()).map((u) => u.id).filter((id) => id !== DEFAULT_USER_ID);
      expect(ids).toEqual([a.id, b.id]);
    });

    it('disables and enables a user: the first disabledAt wins, unknown ids give null', async () => {
      const dave = await store().createUser({ name: 'dave' });
      expect(await store().isUserActive(dave.id)).toBe(true);
      clock().advance(MINUTE);
      expect((await store().disableUser(dave.id))?.disabledAt).toEqual(new Date(T0 + MINUTE));
      clock().advance(MINUTE);
      expect((await store().disableUser(dave.id))?.disabledAt).toEqual(new Date(T0 + MINUTE));
      expect(await store().isUserActive(dave.id)).toBe(false);
      expect((await store().enableUser(dave.id))?.disabledAt).toBeNull();
      expect(await store().isUserActive(dave.id)).toBe(true);
      expect(await store().disableUser('usr_nobody')).toBeNull();
      expect(await store().enableUser('usr_nobody')).toBeNull();
      expect(await store().isUserActive('usr_nobody')).toBe(false);
    });
  });

  describe('api keys with users and scopes', () => {
    it('gives a key without user or scopes the default user and agent,api', async () => {
      const { record } = await store().createApiKey({ label: 'old style' });
      expect(record.userId).toBe(DEFAULT_USER_ID);
      expect(record.scopes).toEqual(['agent', 'api']);
    });

    it('creates a key for a user with the scopes given, deduplicated in canonical order', async () => {
      const erin = await store().createUser({ name: 'erin' });
      const { record } = await store().createApiKey({
        label: 'ci',
        userId: erin.id,
        scopes: ['api', 'agent', 'api'],
      });
      expect(record.userId).toBe(erin.id);
      expect(record.scopes).toEqual(['agent', 'api']);
      clock().advance(1_000);
      const agentOnly = await store().createApiKey({ label: 'a', userId: erin.id, scopes: ['agent'] });
      expect(agentOnly.record.scopes).toEqual(['agent']);
      clock().advance(1_000);
      const admin = await store().createApiKey({ label: 'ops', scopes: ['admin', 'agent'] });
      expect(admin.record.scopes).toEqual(['agent', 'admin']);
      expect((await store().listApiKeys()).map((k) => k.scopes)).toEqual([
        ['agent', 'api'],
        ['agent'],
        ['agent', 'admin'],
      ]);
    });

    it('refuses unknown users, bad scopes and the admin scope for non-admins, creating nothing', async () => {
      const frank = await store().createUser({ name: 'frank' });
      await expectTunnelError(
        store().createApiKey({ label: 'x', userId: 'usr_nobody' }),
        'TUN_ERR_NOT_FOUND',
      );
      await expectTunnelError(store().createApiKey({ label: 'x', scopes: [] }), 'TUN_ERR_NAME_INVALID');
      await expectTunnelError(
        store().createApiKey({ label: 'x', scopes: ['agent', 'root' as 'api'] }),
        'TUN_ERR_NAME_INVALID',
        /"root" is not a scope/,
      );
      await expectTunnelError(
        store().createApiKey({ label: 'x', userId: frank.id, scopes: ['admin'] }),
        'TUN_ERR_UNAUTHORIZED',
        /"frank" is not an admin/,
      );
      expect(await store().listApiKeys()).toEqual([]);
    });

    it("lists one user's keys", async () => {
      const gina = await store().createUser({ name: 'gina' });
      await store().createApiKey({ label: 'default one' });
      const mine = await store().createApiKey({ label: 'gina one', userId: gina.id });
      expect((await store().listApiKeys({ userId: gina.id })).map((k) => k.id)).toEqual([mine.record.id]);
      expect(await store().listApiKeys({ userId: 'usr_nobody' })).toEqual([]);
    });

    it('verifies a key with its user id, scopes and user record', async () => {
      const hank = await store().createUser({ name: 'hank' });
      const { record, secret } = await store().createApiKey({
        label: 'k',
        userId: hank.id,
        scopes: ['agent'],
      });
      const verified = await store().verifyApiKey(secret);
      expect(verified).toMatchObject({ id: record.id, userId: hank.id, scopes: ['agent'] });
      expect(verified?.user).toEqual(hank);
    });

    it("refuses a disabled user's keys without marking them used, and accepts them again once enabled", async () => {
      const ivy = await store().createUser({ name: 'ivy' });
      const { secret } = await store().createApiKey({ label: 'k', userId: ivy.id });
      const other = await store().createApiKey({ label: 'other' });
      await store().disableUser(ivy.id);
      clock().advance(MINUTE);
      expect(await store().verifyApiKey(secret)).toBeNull();
      expect((await store().listApiKeys({ userId: ivy.id }))[0]?.lastUsedAt).toBeNull();
      expect(await store().verifyApiKey(other.secret)).not.toBeNull();
      await store().enableUser(ivy.id);
      expect((await store().verifyApiKey(secret))?.lastUsedAt).toEqual(new Date(T0 + MINUTE));
    });

    it('gives a disabled user keys that work once the user is enabled', async () => {
      const jo = await store().createUser({ name: 'jo' });
      await store().disableUser(jo.id);
      const { secret } = await store().createApiKey({ label: 'later', userId: jo.id });
      expect(await store().verifyApiKey(secret)).toBeNull();
      await store().enableUser(jo.id);
      expect((await store().verifyApiKey(secret))?.userId).toBe(jo.id);
    });
  });

  describe('user-owned tunnel names', () => {
    it("gives a tunnel created with a key to the key's user, and an anonymous one to nobody", async () => {
      const kim = await store().createUser({ name: 'kim' });
      const { record: key } = await store().createApiKey({ label: 'k', userId: kim.id });
      await store().createTunnel({ name: 'kims', kind: 'named', ownerKeyId: key.id, resumeTokenHash: null });
      await store().createTunnel({
        name: 'anon',
        kind: 'temporary',
        ownerKeyId: null,
        resumeTokenHash: null,
      });
      expect(await store().getTunnel('kims')).toMatchObject({
        ownerKeyId: key.id,
        ownerUserId: kim.id,
        ownerUserName: 'kim',
      });
      expect(await store().getTunnel('anon')).toMatchObject({
        ownerKeyId: null,
        ownerUserId: null,
        ownerUserName: null,
      });
    });

    it('reserves a name for a user, with times from the clock, and is idempotent for that user', async () => {
      const lee = await store().createUser({ name: 'lee' });
      clock().advance(MINUTE);
      const reserved = await store().reserveName({ name: 'myapp', userId: lee.id });
      expect(reserved).toEqual({
        name: 'myapp',
        kind: 'named',
        ownerKeyId: null,
        ownerUserId: lee.id,
        ownerUserName: 'lee',
        resumeTokenHash: null,
        createdAt: new Date(T0 + MINUTE),
        lastActiveAt: new Date(T0 + MINUTE),
        policy: null,
      });
      clock().advance(MINUTE);
      expect(await store().reserveName({ name: 'myapp', userId: lee.id })).toEqual(reserved);
      expect(await store().getTunnel('myapp')).toEqual(reserved);
    });

    it('refuses a name held by another user with TUN_ERR_NAME_TAKEN naming that user and no secret', async () => {
      const mia = await store().createUser({ name: 'mia' });
      const ned = await store().createUser({ name: 'ned' });
      const { record: key, secret } = await store().createApiKey({ label: 'mia key', userId: mia.id });
      await store().createTunnel({ name: 'shop', kind: 'named', ownerKeyId: key.id, resumeTokenHash: null });
      const err = await expectTunnelError(
        store().reserveName({ name: 'shop', userId: ned.id }),
        'TUN_ERR_NAME_TAKEN',
        /"shop" is reserved by user "mia".*release it/,
      );
      for (const secretPart of [key.id, key.prefix, secret]) expect(err.message).not.toContain(secretPart);
      expect((await store().getTunnel('shop'))?.ownerUserId).toBe(mia.id);
    });

    it("turns the user's own temporary tunnel into a named one the janitor keeps", async () => {
      const ola = await store().createUser({ name: 'ola' });
      const { record: key } = await store().createApiKey({ label: 'k', userId: ola.id });
      await store().createTunnel({
        name: 'k3xnz3',
        kind: 'temporary',
        ownerKeyId: key.id,
        resumeTokenHash: 'h',
      });
      const reserved = await store().reserveName({ name: 'k3xnz3', userId: ola.id });
      expect(reserved).toMatchObject({
        kind: 'named',
        ownerKeyId: key.id,
        ownerUserId: ola.id,
        resumeTokenHash: 'h',
      });
      clock().advance(60 * MINUTE);
      expect(await store().deleteTemporaryTunnelsIdleSince(new Date(T0 + 30 * MINUTE))).toEqual([]);
    });

    it("refuses other agents' temporary names and names that belong to nobody", async () => {
      const pat = await store().createUser({ name: 'pat' });
      await store().createTunnel({
        name: 'tmp123',
        kind: 'temporary',
        ownerKeyId: null,
        resumeTokenHash: null,
      });
      await store().createTunnel({ name: 'legacy', kind: 'named', ownerKeyId: null, resumeTokenHash: null });
      await expectTunnelError(
        store().reserveName({ name: 'tmp123', userId: pat.id }),
        'TUN_ERR_NAME_TAKEN',
        /temporary name/,
      );
      await expectTunnelError(
        store().reserveName({ name: 'legacy', userId: pat.id }),
        'TUN_ERR_NAME_TAKEN',
        /edge admin can release it/,
      );
      expect((await store().getTunnel('tmp123'))?.kind).toBe('temporary');
    });

    it('refuses to reserve for an unknown user with TUN_ERR_NOT_FOUND', async () => {
      await expectTunnelError(
        store().reserveName({ name: 'ghost', userId: 'usr_nobody' }),
        'TUN_ERR_NOT_FOUND',
      );
      expect(await store().getTunnel('ghost')).toBeUndefined();
    });

    it('lets exactly one of two users racing for a name win', async () => {
      const [a, b] = await Promise.all([
        store().createUser({ name: 'quin' }),
        store().createUser({ name: 'rae' }),
      ]);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, n) =>
          store().reserveName({ name: 'race', userId: n % 2 ? a.id : b.id }),
        ),
      );
      const winner = (await store().getTunnel('race'))?.ownerUserId;
      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      // Every call by the winner succeeds (idempotent), every call by the other fails.
      expect(fulfilled).toHaveLength(5);
      expect([a.id, b.id]).toContain(winner);
    });

    it('refuses a reserved name past maxNamedPerUser, says how to free one, and counts a release', async () => {
      const vic = await store().createUser({ name: 'vic' });
      for (const name of ['cap1', 'cap2', 'cap3']) {
        await store().reserveName({ name, userId: vic.id, maxNamedPerUser: 3 });
      }
      await expectTunnelError(
        store().reserveName({ name: 'cap4', userId: vic.id, maxNamedPerUser: 3 }),
        'TUN_ERR_NAME_LIMIT',
        /3 reserved names.*limit is 3.*release/,
      );
      expect(await store().getTunnel('cap4')).toBeUndefined();
      // A name already theirs is not a new one: reserving it again still answers.
      expect((await store().reserveName({ name: 'cap2', userId: vic.id, maxNamedPerUser: 3 })).name).toBe(
        'cap2',
      );
      expect(await store().releaseName({ name: 'cap1', userId: vic.id })).toBe(true);
      await store().reserveName({ name: 'cap4', userId: vic.id, maxNamedPerUser: 3 });
    });

    it('holds maxNamedPerUser exactly when many reservations and BIND claims race', async () => {
      const wes = await store().createUser({ name: 'wes' });
      const { record: key } = await store().createApiKey({ label: 'w', userId: wes.id, scopes: ['agent'] });
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, n) =>
          n % 2
            ? store().reserveName({ name: `burst${n}`, userId: wes.id, maxNamedPerUser: 7 })
            : store().createTunnel({
                name: `burst${n}`,
                kind: 'named',
                ownerKeyId: key.id,
                resumeTokenHash: null,
                maxNamedPerUser: 7,
              }),
        ),
      );
      const refused = results.filter(
        (r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'TUN_ERR_NAME_LIMIT',
      );
      expect(refused).toHaveLength(33);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7);
      expect(await store().listTunnelsOwnedByUser(wes.id)).toHaveLength(7);
    });

    it('releases a name only for its owner, freeing it for others', async () => {
      const sam = await store().createUser({ name: 'sam' });
      const tia = await store().createUser({ name: 'tia' });
      await store().reserveName({ name: 'blog', userId: sam.id });
      expect(await store().releaseName({ name: 'blog', userId: tia.id })).toBe(false);
      expect(await store().getTunnel('blog')).toBeDefined();
      expect(await store().releaseName({ name: 'blog', userId: sam.id })).toBe(true);
      expect(await store().releaseName({ name: 'blog', userId: sam.id })).toBe(false);
      expect((await store().reserveName({ name: 'blog', userId: tia.id })).ownerUserName).toBe('tia');
    });

    it("lists a user's tunnels from all their keys and reservations", async () => {
      const uma = await store().createUser({ name: 'uma' });
      const k1 = await store().createApiKey({ label: '1', userId: uma.id });
      const k2 = await store().createApiKey({ label: '2', userId: uma.id });
      await store().createTunnel({
        name: 'zulu',
        kind: 'named',
        ownerKeyId: k1.record.id,
        resumeTokenHash: null,
      });
      await store().createTunnel({
        name: 'tmp999',
        kind: 'temporary',
        ownerKeyId: k2.record.id,
        resumeTokenHash: null,
      });
      await store().reserveName({ name: 'alpha', userId: uma.id });
      await store().reserveName({ name: 'theirs', userId: DEFAULT_USER_ID });
      expect((await store().listTunnelsOwnedByUser(uma.id)).map((t) => t.name)).toEqual([
        'alpha',
        'tmp999',
        'zulu',
      ]);
      expect(await store().listTunnelsOwnedByUser('usr_nobody')).toEqual([]);
    });

    it('carries the owner name in every tunnel list', async () => {
      const vic = await store().createUser({ name: 'vic' });
      const { record: key } = await store().createApiKey({ label: 'k', userId: vic.id });
      await store().createTunnel({
        name: 'listed',
        kind: 'named',
        ownerKeyId: key.id,
        resumeTokenHash: null,
      });
      expect((await store().listTunnelsOwnedBy(key.id))[0]?.ownerUserName).toBe('vic');
      expect((await store().listTunnelsActiveSince(new Date(T0)))[0]?.ownerUserName).toBe('vic');
    });
  });

  describe('custom domains', () => {
    it('adds a domain with a normalized hostname, a fresh token and times from the clock', async () => {
      const wes = await store().createUser({ name: 'wes' });
      clock().advance(MINUTE);
      const domain = await store().addDomain({ hostname: ' App.Example.ORG. ', userId: wes.id });
      expect(domain).toEqual({
        hostname: 'app.example.org',
        userId: wes.id,
        verificationToken: expect.stringMatching(TOKEN) as unknown,
        tunnelName: null,
        createdAt: new Date(T0 + MINUTE),
        verifiedAt: null,
      });
      for (const lookup of ['app.example.org', 'APP.example.org', 'app.example.org.']) {
        expect(await store().getDomain(lookup)).toEqual(domain);
      }
      expect(await store().getDomain('other.example.org')).toBeUndefined();
      expect(await store().getDomain('')).toBeUndefined();
      expect(await store().getDomain(undefined as unknown as string)).toBeUndefined();
      const second = await store().addDomain({ hostname: 'www.example.org', userId: wes.id });
      expect(second.verificationToken).not.toBe(domain.verificationToken);
    });

    it('stores international names in punycode', async () => {
      const domain = await store().addDomain({ hostname: 'Bücher.example', userId: DEFAULT_USER_ID });
      expect(domain.hostname).toBe('xn--bcher-kva.example');
    });

    it('draws tokens from the injected randomness', async () => {
      const a = await fixture.openStore({ database: 'tokens-a', random: seededRandom('t') });
      const b = await fixture.openStore({ database: 'tokens-b', random: seededRandom('t') });
      const [da, db] = await Promise.all(
        [a, b].map((s) => s.addDomain({ hostname: 'x.example.com', userId: DEFAULT_USER_ID })),
      );
      expect(da?.verificationToken).toBe(db?.verificationToken);
    });

    it('refuses bad hostnames, unknown users and taken hostnames, storing nothing', async () => {
      const xia = await store().createUser({ name: 'xia' });
      const bad = [
        '',
        'localhost',
        '1.2.3.4',
        '[::1]',
        '*.example.org',
        'a..b.com',
        '-a.example.org',
        'a_b.example.org',
        'app.example.org:8080',
        'https://app.example.org',
        'ex ample.com',
        `${'a'.repeat(64)}.com`,
        'example.123',
        `${'abcdefghi.'.repeat(26)}com`,
      ];
      for (const hostname of bad) {
        await expectTunnelError(
          store().addDomain({ hostname, userId: xia.id }),
          'TUN_ERR_NAME_INVALID',
          /custom domain/,
        );
      }
      await expectTunnelError(
        store().addDomain({ hostname: 'ok.example.org', userId: 'usr_nobody' }),
        'TUN_ERR_NOT_FOUND',
      );
      expect(await store().listDomains()).toEqual([]);
      await store().addDomain({ hostname: 'ok.example.org', userId: xia.id });
      await expectTunnelError(
        store().addDomain({ hostname: 'OK.example.org', userId: DEFAULT_USER_ID }),
        'TUN_ERR_NAME_TAKEN',
        /already added by user "xia"/,
      );
      expect((await store().listDomains()).map((d) => d.userId)).toEqual([xia.id]);
    });

    it("routes a domain only to a named tunnel of the domain's own user", async () => {
      const yan = await store().createUser({ name: 'yan' });
      const zoe = await store().createUser({ name: 'zoe' });
      const { record: key } = await store().createApiKey({ label: 'k', userId: yan.id });
      await store().reserveName({ name: 'yans', userId: yan.id });
      await store().reserveName({ name: 'zoes', userId: zoe.id });
      await store().createTunnel({
        name: 'tmp777',
        kind: 'temporary',
        ownerKeyId: key.id,
        resumeTokenHash: null,
      });
      const routed = await store().addDomain({
        hostname: 'a.example.org',
        userId: yan.id,
        tunnelName: 'yans',
      });
      expect(routed.tunnelName).toBe('yans');
      await expectTunnelError(
        store().addDomain({ hostname: 'b.example.org', userId: yan.id, tunnelName: 'nothing' }),
        'TUN_ERR_NOT_FOUND',
      );
      for (const tunnelName of ['zoes', 'tmp777']) {
        await expectTunnelError(
          store().addDomain({ hostname: 'b.example.org', userId: yan.id, tunnelName }),
          'TUN_ERR_UNAUTHORIZED',
        );
      }
      expect(await store().getDomain('b.example.org')).toBeUndefined();
    });

    it('sets and clears the tunnel a domain routes to', async () => {
      const ann = await store().createUser({ name: 'ann' });
      await store().reserveName({ name: 'one', userId: ann.id });
      await store().reserveName({ name: 'other', userId: DEFAULT_USER_ID });
      await store().addDomain({ hostname: 'c.example.org', userId: ann.id });
      expect((await store().setDomainTunnel('C.example.org', 'one'))?.tunnelName).toBe('one');
      await expectTunnelError(store().setDomainTunnel('c.example.org', 'other'), 'TUN_ERR_UNAUTHORIZED');
      await expectTunnelError(store().setDomainTunnel('c.example.org', 'missing'), 'TUN_ERR_NOT_FOUND');
      expect((await store().getDomain('c.example.org'))?.tunnelName).toBe('one');
      expect((await store().setDomainTunnel('c.example.org', null))?.tunnelName).toBeNull();
      expect(await store().setDomainTunnel('unknown.example.org', 'one')).toBeNull();
    });

    it('stops routing a domain whose tunnel is released or deleted, and keeps the domain', async () => {
      const ben = await store().createUser({ name: 'ben' });
      await store().reserveName({ name: 'site', userId: ben.id });
      await store().reserveName({ name: 'site2', userId: ben.id });
      await store().addDomain({ hostname: 'd.example.org', userId: ben.id, tunnelName: 'site' });
      await store().addDomain({ hostname: 'e.example.org', userId: ben.id, tunnelName: 'site2' });
      await store().releaseName({ name: 'site', userId: ben.id });
      await store().deleteTunnel('site2');
      expect((await store().getDomain('d.example.org'))?.tunnelName).toBeNull();
      expect((await store().getDomain('e.example.org'))?.tunnelName).toBeNull();
    });

    it('marks a domain verified once: the first time wins, unknown hostnames give null', async () => {
      await store().addDomain({ hostname: 'f.example.org', userId: DEFAULT_USER_ID });
      clock().advance(MINUTE);
      expect((await store().markDomainVerified('F.example.org.'))?.verifiedAt).toEqual(new Date(T0 + MINUTE));
      clock().advance(MINUTE);
      expect((await store().markDomainVerified('f.example.org'))?.verifiedAt).toEqual(new Date(T0 + MINUTE));
      expect(await store().markDomainVerified('nope.example.org')).toBeNull();
    });

    it('lists domains by hostname, filtered by user and verification', async () => {
      const cy = await store().createUser({ name: 'cy' });
      await store().addDomain({ hostname: 'z.example.org', userId: cy.id });
      await store().addDomain({ hostname: 'm.example.org', userId: DEFAULT_USER_ID });
      await store().addDomain({ hostname: 'a.example.org', userId: cy.id });
      await store().markDomainVerified('z.example.org');
      const names = (list: { hostname: string }[]) => list.map((d) => d.hostname);
      expect(names(await store().listDomains())).toEqual(['a.example.org', 'm.example.org', 'z.example.org']);
      expect(names(await store().listDomains({ userId: cy.id }))).toEqual(['a.example.org', 'z.example.org']);
      expect(names(await store().listDomains({ verified: true }))).toEqual(['z.example.org']);
      expect(names(await store().listDomains({ userId: cy.id, verified: false }))).toEqual(['a.example.org']);
    });

    it('removes a domain (only for its user when one is given); adding it again gives a new token', async () => {
      const dee = await store().createUser({ name: 'dee' });
      const first = await store().addDomain({ hostname: 'g.example.org', userId: dee.id });
      expect(await store().removeDomain('g.example.org', { userId: DEFAULT_USER_ID })).toBe(false);
      expect(await store().removeDomain('G.example.org.', { userId: dee.id })).toBe(true);
      expect(await store().removeDomain('g.example.org')).toBe(false);
      const again = await store().addDomain({ hostname: 'g.example.org', userId: DEFAULT_USER_ID });
      expect(again.verificationToken).not.toBe(first.verificationToken);
      expect(await store().removeDomain('g.example.org')).toBe(true);
    });
  });

  describe('sessions by user', () => {
    it("lists only sessions authenticated with the user's keys", async () => {
      const eve = await store().createUser({ name: 'eve' });
      const mine = await store().createApiKey({ label: 'm', userId: eve.id });
      const theirs = await store().createApiKey({ label: 't' });
      await store().recordSessionStart({ id: 's1', keyId: mine.record.id, agent: 'a', remoteAddress: '::1' });
      await store().recordSessionStart({
        id: 's2',
        keyId: theirs.record.id,
        agent: 'a',
        remoteAddress: '::1',
      });
      await store().recordSessionStart({ id: 's3', keyId: null, agent: 'a', remoteAddress: '::1' });
      expect((await store().listSessions({ userId: eve.id })).map((s) => s.id)).toEqual(['s1']);
      expect(await store().listSessions({ userId: 'usr_nobody' })).toEqual([]);
    });
  });

  describe('tenancy across reopen', () => {
    it('keeps users, scopes, reservations and domains', async () => {
      const fay = await store().createUser({ name: 'fay', admin: true });
      const { secret } = await store().createApiKey({ label: 'k', userId: fay.id, scopes: ['admin'] });
      await store().reserveName({ name: 'kept', userId: fay.id });
      await store().addDomain({ hostname: 'h.example.org', userId: fay.id, tunnelName: 'kept' });
      await store().disableUser(fay.id);
      await store().close();
      const reopened = await fixture.openStore();
      expect(await reopened.getUserByName('fay')).toMatchObject({
        admin: true,
        disabledAt: expect.any(Date) as unknown,
      });
      await reopened.enableUser(fay.id);
      expect((await reopened.verifyApiKey(secret))?.scopes).toEqual(['admin']);
      expect((await reopened.getTunnel('kept'))?.ownerUserName).toBe('fay');
      expect((await reopened.getDomain('h.example.org'))?.tunnelName).toBe('kept');
    });
  });
}
