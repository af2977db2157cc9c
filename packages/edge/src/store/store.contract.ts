/**
 * The behaviour every Store backend must have. A backend's test calls `runStoreContract`
 * with a function that opens its store; nothing here knows which backend it is.
 *
 * `open` receives a `database` name that is fresh for each test and the same for every
 * call within one test: opening it again must reach the same data (that is how the
 * reopen and migration tests work). Stores the suite opens are closed after each test.
 * No test is skipped for any backend. Users, scopes, name ownership and custom domains are
 * in tenancy.contract.ts, certificates in certificates.contract.ts and request history in
 * request-records.contract.ts, which this suite runs.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTimers } from '../test-support/fake-timers.js';
import { hashSecret } from './secret-hash.js';
import type { Store } from './store.js';
import { describeCertificatesContract } from './certificates.contract.js';
import { describeRequestRecordsContract } from './request-records.contract.js';
import { describeTenancyContract } from './tenancy.contract.js';
import {
  MINUTE,
  T0,
  expectTunnelError,
  seededRandom,
  type StoreContractContext,
} from './test-support/contract-fixture.js';
import { DEFAULT_USER_ID, DEFAULT_USER_NAME } from './user-name.js';

export { seededRandom, type StoreContractContext } from './test-support/contract-fixture.js';

export type OpenStoreForContract = (context: StoreContractContext) => Promise<Store>;

const SECRET_FORMAT = /^bk_([0-9A-Za-z]{8})_([0-9A-Za-z]{32,})$/;

export function runStoreContract(name: string, open: OpenStoreForContract): void {
  describe(`Store contract: ${name}`, () => {
    let sequence = 0;
    let database = '';
    let clock = new FakeTimers(T0);
    let store: Store;
    const opened: Store[] = [];

    async function openStore(overrides: Partial<StoreContractContext> = {}): Promise<Store> {
      const s = await open({ database, clock, random: randomBytes, ...overrides });
      opened.push(s);
      return s;
    }

    beforeEach(async () => {
      sequence += 1;
      database = `contract-${sequence}`;
      clock = new FakeTimers(T0);
      store = await openStore();
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    describe('api keys', () => {
      it('creates a key whose secret has the bk_<prefix>_<secret> format and matches the record', async () => {
        const { record, secret } = await store.createApiKey({ label: 'laptop' });
        const match = SECRET_FORMAT.exec(secret);
        expect(match).not.toBeNull();
        expect(match?.[1]).toBe(record.prefix);
        expect(record.prefix).toHaveLength(8);
        expect(record.label).toBe('laptop');
        expect(record.id).toMatch(/^key_[0-9A-Za-z]{16}$/);
        expect(record.createdAt).toEqual(new Date(T0));
        expect(record.lastUsedAt).toBeNull();
        expect(record.revokedAt).toBeNull();
      });

      it('never exposes the secret or its hash in records', async () => {
        const { record, secret } = await store.createApiKey({ label: 'ci' });
        const [listed] = await store.listApiKeys();
        for (const r of [record, listed]) {
          expect(Object.keys(r ?? {}).sort()).toEqual(
            ['createdAt', 'id', 'label', 'lastUsedAt', 'prefix', 'revokedAt', 'scopes', 'userId'].sort(),
          );
          const serialised = JSON.stringify(r);
          expect(serialised).not.toContain(secret.slice(12));
          expect(serialised).not.toContain(hashSecret(secret));
        }
      });

      it('gives every key a distinct id, prefix and secret', async () => {
        const keys = await Promise.all([1, 2, 3, 4, 5].map((n) => store.createApiKey({ label: `k${n}` })));
        expect(new Set(keys.map((k) => k.record.id)).size).toBe(5);
        expect(new Set(keys.map((k) => k.record.prefix)).size).toBe(5);
        expect(new Set(keys.map((k) => k.secret)).size).toBe(5);
      });

      it('draws keys from the injected randomness', async () => {
        const a = await openStore({ database: `${database}-a`, random: seededRandom('same') });
        const b = await openStore({ database: `${database}-b`, random: seededRandom('same') });
        const c = await openStore({ database: `${database}-c`, random: seededRandom('other') });
        const [ka, kb, kc] = await Promise.all([a, b, c].map((s) => s.createApiKey({ label: 'x' })));
        expect(ka?.secret).toBe(kb?.secret);
        expect(ka?.record.id).toBe(kb?.record.id);
        expect(kc?.secret).not.toBe(ka?.secret);
      });

      it('fails with TUN_ERR_INTERNAL instead of looping when the randomness keeps colliding', async () => {
        const stuck = await openStore({ random: (size) => Buffer.alloc(size, 7) });
        await stuck.createApiKey({ label: 'first' });
        await expectTunnelError(stuck.createApiKey({ label: 'second' }), 'TUN_ERR_INTERNAL');
        expect(await stuck.listApiKeys()).toHaveLength(1);
      });

      it('lists all keys oldest first, revoked ones included', async () => {
        const first = await store.createApiKey({ label: 'first' });
        clock.advance(1_000);
        const second = await store.createApiKey({ label: 'second' });
        await store.revokeApiKey(first.record.id);
        const list = await store.listApiKeys();
        expect(list.map((k) => k.label)).toEqual(['first', 'second']);
        expect(list[0]?.revokedAt).not.toBeNull();
        expect(list[1]?.id).toBe(second.record.id);
      });

      it('verifies the right secret and records lastUsedAt from the clock', async () => {
        const { record, secret } = await store.createApiKey({ label: 'agent' });
        clock.advance(5 * MINUTE);
        const verified = await store.verifyApiKey(secret);
        expect(verified?.id).toBe(record.id);
        expect(verified?.lastUsedAt).toEqual(new Date(T0 + 5 * MINUTE));
        const [listed] = await store.listApiKeys();
        expect(listed?.lastUsedAt).toEqual(new Date(T0 + 5 * MINUTE));
      });

      it('rejects a wrong secret with a valid prefix and does not mark the key used', async () => {
        const { secret } = await store.createApiKey({ label: 'agent' });
        const last = secret.at(-1) === 'a' ? 'b' : 'a';
        expect(await store.verifyApiKey(secret.slice(0, -1) + last)).toBeNull();
        expect(await store.verifyApiKey(`${secret}x`)).toBeNull();
        const [listed] = await store.listApiKeys();
        expect(listed?.lastUsedAt).toBeNull();
      });

      it("rejects another key's secret body under this key's prefix", async () => {
        const a = await store.createApiKey({ label: 'a' });
        const b = await store.createApiKey({ label: 'b' });
        const forged = `bk_${a.record.prefix}_${b.secret.slice(12)}`;
        expect(await store.verifyApiKey(forged)).toBeNull();
      });

      it('rejects malformed secrets without throwing', async () => {
        const { secret, record } = await store.createApiKey({ label: 'agent' });
        const body = secret.slice(12);
        const malformed: unknown[] = [
          '',
          'bk_',
          'nope',
          secret.toUpperCase() === secret ? 'x' : secret.toUpperCase(),
          ` ${secret}`,
          `${secret}\n`,
          secret.slice(3),
          `bk_${record.prefix}_`,
          `bk_${record.prefix}_${body.slice(0, 31)}`,
          `bk_${record.prefix}_${body}_extra`,
          `bk_${record.prefix.slice(0, 7)}_${body}`,
          `bk_${record.prefix}_${'é'.repeat(40)}`,
          `bk_${record.prefix}_${body}${'a'.repeat(200)}`,
          'x'.repeat(1_000_000),
          `bk_zzzzzzzz_${body}`,
          "bk_' OR 1=1 --_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          undefined,
          null,
          42,
          { toString: () => secret },
        ];
        for (const input of malformed) {
          expect(await store.verifyApiKey(input as string)).toBeNull();
        }
        expect(await store.verifyApiKey(secret)).not.toBeNull();
      });

      it('revokes by id and by prefix, and refuses revoked keys', async () => {
        const byId = await store.createApiKey({ label: 'by-id' });
        const byPrefix = await store.createApiKey({ label: 'by-prefix' });
        clock.advance(MINUTE);
        const revokedById = await store.revokeApiKey(byId.record.id);
        const revokedByPrefix = await store.revokeApiKey(byPrefix.record.prefix);
        expect(revokedById?.id).toBe(byId.record.id);
        expect(revokedById?.revokedAt).toEqual(new Date(T0 + MINUTE));
        expect(revokedByPrefix?.id).toBe(byPrefix.record.id);
        expect(await store.verifyApiKey(byId.secret)).toBeNull();
        expect(await store.verifyApiKey(byPrefix.secret)).toBeNull();
      });

      it('revoking twice keeps the first revokedAt; unknown keys give null', async () => {
        const { record } = await store.createApiKey({ label: 'k' });
        await store.revokeApiKey(record.id);
        clock.advance(MINUTE);
        const again = await store.revokeApiKey(record.prefix);
        expect(again?.revokedAt).toEqual(new Date(T0));
        expect(await store.revokeApiKey('key_doesnotexist0000')).toBeNull();
        expect(await store.revokeApiKey('')).toBeNull();
      });

      it('revoking one key leaves the others valid', async () => {
        const a = await store.createApiKey({ label: 'a' });
        const b = await store.createApiKey({ label: 'b' });
        await store.revokeApiKey(a.record.id);
        expect((await store.verifyApiKey(b.secret))?.id).toBe(b.record.id);
      });
    });

    describe('tunnels', () => {
      it('creates a tunnel with times from the clock and reads it back', async () => {
        const { record: key } = await store.createApiKey({ label: 'owner' });
        clock.advance(MINUTE);
        const created = await store.createTunnel({
          name: 'myapp',
          kind: 'named',
          ownerKeyId: key.id,
          resumeTokenHash: hashSecret('resume'),
        });
        expect(created).toBe(true);
        expect(await store.getTunnel('myapp')).toEqual({
          name: 'myapp',
          kind: 'named',
          ownerKeyId: key.id,
          ownerUserId: DEFAULT_USER_ID,
          ownerUserName: DEFAULT_USER_NAME,
          resumeTokenHash: hashSecret('resume'),
          createdAt: new Date(T0 + MINUTE),
          lastActiveAt: new Date(T0 + MINUTE),
          policy: null,
        });
      });

      it('returns undefined for an unknown name', async () => {
        expect(await store.getTunnel('nothing-here')).toBeUndefined();
      });

      it('refuses a name that exists, whatever the kind, without throwing or changing it', async () => {
        expect(
          await store.createTunnel({
            name: 'k3xnz3',
            kind: 'temporary',
            ownerKeyId: null,
            resumeTokenHash: 'h1',
          }),
        ).toBe(true);
        clock.advance(MINUTE);
        expect(
          await store.createTunnel({
            name: 'k3xnz3',
            kind: 'temporary',
            ownerKeyId: null,
            resumeTokenHash: 'h2',
          }),
        ).toBe(false);
        expect(
          await store.createTunnel({
            name: 'k3xnz3',
            kind: 'named',
            ownerKeyId: null,
            resumeTokenHash: null,
          }),
        ).toBe(false);
        const tunnel = await store.getTunnel('k3xnz3');
        expect(tunnel?.kind).toBe('temporary');
        expect(tunnel?.resumeTokenHash).toBe('h1');
        expect(tunnel?.createdAt).toEqual(new Date(T0));
      });

      it('lets exactly one of many concurrent claims on a name win', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.createTunnel({ name: 'race', kind: 'temporary', ownerKeyId: null, resumeTokenHash: null }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('rejects an owner key that does not exist with TUN_ERR_NOT_FOUND', async () => {
        await expectTunnelError(
          store.createTunnel({
            name: 'orphan',
            kind: 'named',
            ownerKeyId: 'key_missing',
            resumeTokenHash: null,
          }),
          'TUN_ERR_NOT_FOUND',
        );
        expect(await store.getTunnel('orphan')).toBeUndefined();
      });

      it('sets and clears the resume token hash, marking the tunnel active', async () => {
        await store.createTunnel({
          name: 'resumable',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        clock.advance(MINUTE);
        await store.setTunnelResumeToken('resumable', hashSecret('t1'));
        expect((await store.getTunnel('resumable'))?.resumeTokenHash).toBe(hashSecret('t1'));
        expect((await store.getTunnel('resumable'))?.lastActiveAt).toEqual(new Date(T0 + MINUTE));
        await store.setTunnelResumeToken('resumable', null);
        expect((await store.getTunnel('resumable'))?.resumeTokenHash).toBeNull();
      });

      it('fails to set a resume token on an unknown tunnel with TUN_ERR_TUNNEL_NOT_FOUND', async () => {
        await expectTunnelError(store.setTunnelResumeToken('ghost', 'h'), 'TUN_ERR_TUNNEL_NOT_FOUND');
      });

      it('stores, replaces and clears a policy; null for an unknown tunnel', async () => {
        await store.createTunnel({
          name: 'guarded',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        const policy = {
          basicAuth: ['ann:secret'],
          allowIp: ['10.0.0.0/8', '2001:db8::/32'],
          rateLimit: '5/s',
        };
        expect((await store.setTunnelPolicy('guarded', policy))?.policy).toEqual(policy);
        expect((await store.getTunnel('guarded'))?.policy).toEqual(policy);
        await store.setTunnelPolicy('guarded', { authToken: 'tok' });
        expect((await store.getTunnel('guarded'))?.policy).toEqual({ authToken: 'tok' });
        expect((await store.setTunnelPolicy('guarded', null))?.policy).toBeNull();
        expect((await store.getTunnel('guarded'))?.policy).toBeNull();
        expect(await store.setTunnelPolicy('ghost', { authToken: 'tok' })).toBeNull();
        // Handing the name over reads the row back, so a policy stored meanwhile is seen.
        await store.setTunnelPolicy('guarded', { rateLimit: '1/s' });
        expect((await store.setTunnelResumeToken('guarded', hashSecret('r')))?.policy).toEqual({
          rateLimit: '1/s',
        });
      });

      it('touch moves lastActiveAt to now and leaves createdAt; unknown names are ignored', async () => {
        await store.createTunnel({
          name: 'busy',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        clock.advance(10 * MINUTE);
        await store.touchTunnel('busy');
        const tunnel = await store.getTunnel('busy');
        expect(tunnel?.createdAt).toEqual(new Date(T0));
        expect(tunnel?.lastActiveAt).toEqual(new Date(T0 + 10 * MINUTE));
        await expect(store.touchTunnel('ghost')).resolves.toBeUndefined();
        expect(await store.getTunnel('ghost')).toBeUndefined();
      });

      it('deletes a tunnel by name and says whether it existed', async () => {
        await store.createTunnel({ name: 'gone', kind: 'named', ownerKeyId: null, resumeTokenHash: null });
        expect(await store.deleteTunnel('gone')).toBe(true);
        expect(await store.deleteTunnel('gone')).toBe(false);
        expect(await store.getTunnel('gone')).toBeUndefined();
        expect(
          await store.createTunnel({
            name: 'gone',
            kind: 'temporary',
            ownerKeyId: null,
            resumeTokenHash: null,
          }),
        ).toBe(true);
      });

      it('lists tunnels active since a time (inclusive), most recent first', async () => {
        await store.createTunnel({ name: 'old', kind: 'named', ownerKeyId: null, resumeTokenHash: null });
        clock.advance(MINUTE);
        await store.createTunnel({
          name: 'edge',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        clock.advance(MINUTE);
        await store.createTunnel({ name: 'new', kind: 'temporary', ownerKeyId: null, resumeTokenHash: null });
        const active = await store.listTunnelsActiveSince(new Date(T0 + MINUTE));
        expect(active.map((t) => t.name)).toEqual(['new', 'edge']);
        expect(await store.listTunnelsActiveSince(new Date(T0 + 3 * MINUTE))).toEqual([]);
      });

      it('lists the tunnels a key owns', async () => {
        const { record: a } = await store.createApiKey({ label: 'a' });
        const { record: b } = await store.createApiKey({ label: 'b' });
        await store.createTunnel({ name: 'zeta', kind: 'named', ownerKeyId: a.id, resumeTokenHash: null });
        await store.createTunnel({ name: 'alpha', kind: 'named', ownerKeyId: a.id, resumeTokenHash: null });
        await store.createTunnel({ name: 'other', kind: 'named', ownerKeyId: b.id, resumeTokenHash: null });
        await store.createTunnel({
          name: 'anon',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        expect((await store.listTunnelsOwnedBy(a.id)).map((t) => t.name)).toEqual(['alpha', 'zeta']);
        expect(await store.listTunnelsOwnedBy('key_nobody')).toEqual([]);
      });

      it('janitor deletes only temporary tunnels idle before the cutoff, never named ones', async () => {
        await store.createTunnel({
          name: 'idle-temp',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        await store.createTunnel({
          name: 'idle-temp2',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        await store.createTunnel({
          name: 'idle-named',
          kind: 'named',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        await store.createTunnel({
          name: 'boundary',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        await store.createTunnel({
          name: 'live-temp',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        clock.advance(30 * MINUTE);
        await store.touchTunnel('live-temp');
        // 'boundary' was last active exactly at the cutoff: not idle *before* it, so kept.
        await store.touchTunnel('boundary');
        const cutoff = new Date(T0 + 30 * MINUTE);
        clock.advance(MINUTE);

        expect(await store.deleteTemporaryTunnelsIdleSince(cutoff)).toEqual(['idle-temp', 'idle-temp2']);
        expect(await store.getTunnel('idle-temp')).toBeUndefined();
        expect(await store.getTunnel('idle-temp2')).toBeUndefined();
        expect(await store.getTunnel('idle-named')).toBeDefined();
        expect(await store.getTunnel('boundary')).toBeDefined();
        expect(await store.getTunnel('live-temp')).toBeDefined();
        expect(await store.deleteTemporaryTunnelsIdleSince(cutoff)).toEqual([]);
        // Even a cutoff far in the future never reaps a named tunnel.
        expect(await store.deleteTemporaryTunnelsIdleSince(new Date(T0 + 1e9))).toEqual([
          'boundary',
          'live-temp',
        ]);
        expect(await store.getTunnel('idle-named')).toBeDefined();
      });
    });

    describe('sessions', () => {
      it('records a session start with connectedAt from the clock', async () => {
        const { record: key } = await store.createApiKey({ label: 'agent' });
        clock.advance(MINUTE);
        await store.recordSessionStart({
          id: 's1',
          keyId: key.id,
          agent: 'burrow/0.1.0',
          remoteAddress: '203.0.113.7',
        });
        expect(await store.listSessions()).toEqual([
          {
            id: 's1',
            keyId: key.id,
            agent: 'burrow/0.1.0',
            remoteAddress: '203.0.113.7',
            connectedAt: new Date(T0 + MINUTE),
            disconnectedAt: null,
            reason: null,
          },
        ]);
      });

      it('rejects a duplicate session id with TUN_ERR_INTERNAL and an unknown key with TUN_ERR_NOT_FOUND', async () => {
        await store.recordSessionStart({ id: 'dup', keyId: null, agent: 'a', remoteAddress: '::1' });
        await expectTunnelError(
          store.recordSessionStart({ id: 'dup', keyId: null, agent: 'b', remoteAddress: '::1' }),
          'TUN_ERR_INTERNAL',
        );
        await expectTunnelError(
          store.recordSessionStart({ id: 'nokey', keyId: 'key_missing', agent: 'a', remoteAddress: '::1' }),
          'TUN_ERR_NOT_FOUND',
        );
        const sessions = await store.listSessions();
        expect(sessions.map((s) => [s.id, s.agent])).toEqual([['dup', 'a']]);
      });

      it('records the end once: the first reason and time win, unknown ids are ignored', async () => {
        await store.recordSessionStart({ id: 's1', keyId: null, agent: 'a', remoteAddress: '::1' });
        clock.advance(MINUTE);
        await store.recordSessionEnd('s1', 'agent closed');
        clock.advance(MINUTE);
        await store.recordSessionEnd('s1', 'second end');
        await expect(store.recordSessionEnd('ghost', 'x')).resolves.toBeUndefined();
        const [session] = await store.listSessions();
        expect(session?.disconnectedAt).toEqual(new Date(T0 + MINUTE));
        expect(session?.reason).toBe('agent closed');
        expect(await store.listSessions()).toHaveLength(1);
      });

      it('closes dangling sessions at boot and leaves ended ones alone', async () => {
        await store.recordSessionStart({ id: 'open1', keyId: null, agent: 'a', remoteAddress: '::1' });
        await store.recordSessionStart({ id: 'open2', keyId: null, agent: 'a', remoteAddress: '::1' });
        await store.recordSessionStart({ id: 'ended', keyId: null, agent: 'a', remoteAddress: '::1' });
        await store.recordSessionEnd('ended', 'agent closed');
        clock.advance(MINUTE);
        expect(await store.closeDanglingSessions('edge restarted')).toBe(2);
        const byId = new Map((await store.listSessions()).map((s) => [s.id, s]));
        expect(byId.get('open1')?.reason).toBe('edge restarted');
        expect(byId.get('open1')?.disconnectedAt).toEqual(new Date(T0 + MINUTE));
        expect(byId.get('open2')?.reason).toBe('edge restarted');
        expect(byId.get('ended')?.reason).toBe('agent closed');
        expect(byId.get('ended')?.disconnectedAt).toEqual(new Date(T0));
        expect(await store.closeDanglingSessions('again')).toBe(0);
      });

      it('lists the names held by sessions that never closed, for recovery after a crash', async () => {
        for (const id of ['live', 'left', 'crashed']) {
          await store.recordSessionStart({ id, keyId: null, agent: 'a', remoteAddress: '::1' });
        }
        for (const [name, holder] of [
          ['held1', 'live'],
          ['held2', 'live'],
          ['gone1', 'left'],
          ['moved', 'left'],
          ['ghost1', 'crashed'],
        ] as const) {
          await store.createTunnel({ name, kind: 'temporary', ownerKeyId: null, resumeTokenHash: null });
          await store.setTunnelResumeToken(name, null, holder);
        }
        // Taken over by the live session: its holder is the live one now.
        await store.setTunnelResumeToken('moved', null, 'live');
        await store.recordSessionEnd('left', 'agent closed');
        // A token update without a holder leaves the holder as it was.
        await store.setTunnelResumeToken('held1', hashSecret('x'));
        await store.createTunnel({
          name: 'never',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        expect(await store.listTunnelsOfOpenSessions()).toEqual(['ghost1', 'held1', 'held2', 'moved']);
        await store.closeDanglingSessions('edge restarted');
        expect(await store.listTunnelsOfOpenSessions()).toEqual([]);
      });

      it('forgets the holder of a name its still-open session gave up, and no later holder', async () => {
        for (const id of ['live', 'other']) {
          await store.recordSessionStart({ id, keyId: null, agent: 'a', remoteAddress: '::1' });
        }
        for (const [name, holder] of [
          ['kept', 'live'],
          ['unbound', 'live'],
          ['moved', 'other'],
          ['handed', 'live'],
        ] as const) {
          await store.createTunnel({ name, kind: 'temporary', ownerKeyId: null, resumeTokenHash: null });
          await store.setTunnelResumeToken(name, null, holder);
        }
        await store.releaseTunnelHolder('unbound', 'live');
        // Not the holder (any more): nothing changes.
        await store.releaseTunnelHolder('moved', 'live');
        await store.releaseTunnelHolder('handed', 'live', 'other');
        await store.releaseTunnelHolder('no-such-name', 'live');
        expect(await store.listTunnelsOfOpenSessions()).toEqual(['handed', 'kept', 'moved']);
        await store.recordSessionEnd('other', 'agent closed');
        expect(await store.listTunnelsOfOpenSessions()).toEqual(['kept']);
        // The name itself is untouched: still there, bindable again.
        expect((await store.getTunnel('unbound'))?.name).toBe('unbound');
      });

      it('lists newest first, honours the limit and filters by key', async () => {
        const { record: key } = await store.createApiKey({ label: 'k' });
        for (let n = 0; n < 5; n++) {
          await store.recordSessionStart({
            id: `s${n}`,
            keyId: n % 2 === 0 ? key.id : null,
            agent: 'a',
            remoteAddress: '::1',
          });
          clock.advance(1_000);
        }
        expect((await store.listSessions()).map((s) => s.id)).toEqual(['s4', 's3', 's2', 's1', 's0']);
        expect((await store.listSessions({ limit: 2 })).map((s) => s.id)).toEqual(['s4', 's3']);
        expect((await store.listSessions({ limit: 0 })).map((s) => s.id)).toEqual(['s4']);
        expect(await store.listSessions({ limit: Number.NaN })).toHaveLength(5);
        expect((await store.listSessions({ keyId: key.id })).map((s) => s.id)).toEqual(['s4', 's2', 's0']);
      });
    });

    describeTenancyContract({ store: () => store, clock: () => clock, openStore });
    describeCertificatesContract({ store: () => store, clock: () => clock, openStore });
    describeRequestRecordsContract({ store: () => store, clock: () => clock, openStore });

    describe('lifecycle and migrations', () => {
      it('keeps data across close and reopen, migrating idempotently', async () => {
        const { secret } = await store.createApiKey({ label: 'persist' });
        await store.createTunnel({ name: 'kept', kind: 'named', ownerKeyId: null, resumeTokenHash: null });
        await store.close();
        const reopened = await openStore();
        const again = await openStore();
        expect((await reopened.verifyApiKey(secret))?.label).toBe('persist');
        expect(await again.getTunnel('kept')).toBeDefined();
        expect(await again.listApiKeys()).toHaveLength(1);
      });

      it('opens the same database from two stores at once', async () => {
        const other = await openStore();
        await store.createTunnel({
          name: 'shared',
          kind: 'temporary',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        expect(
          await other.createTunnel({
            name: 'shared',
            kind: 'named',
            ownerKeyId: null,
            resumeTokenHash: null,
          }),
        ).toBe(false);
        expect((await other.getTunnel('shared'))?.kind).toBe('temporary');
      });

      it('migrates a fresh database opened by several stores at the same time', async () => {
        const fresh = `${database}-fresh`;
        const stores = await Promise.all([1, 2, 3].map(() => openStore({ database: fresh })));
        await stores[0]?.createTunnel({
          name: 'one',
          kind: 'named',
          ownerKeyId: null,
          resumeTokenHash: null,
        });
        for (const s of stores) expect(await s.getTunnel('one')).toBeDefined();
      });

      it('close is idempotent and later calls fail with TUN_ERR_INTERNAL', async () => {
        await store.close();
        await store.close();
        await expectTunnelError(store.listApiKeys(), 'TUN_ERR_INTERNAL');
        await expectTunnelError(store.getTunnel('x'), 'TUN_ERR_INTERNAL');
      });
    });
  });
}
