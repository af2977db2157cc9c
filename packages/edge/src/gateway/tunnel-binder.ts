/**
 * BIND: decides whether a session may have a name, and hands it over. Ownership lives in
 * the store (who may ever hold the name), liveness in the registry (who holds it now).
 * A resume token from an earlier BIND_ACK proves a reconnecting agent is the same one,
 * so it gets its name back at once even while its old session still looks alive.
 */

import { randomBytes } from 'node:crypto';
import { TunnelError } from '@burrow/protocol';
import type { Registry, TunnelTarget } from '../registry/registry.js';
import {
  hashesEqual,
  hashSecret,
  nameTakenError,
  type Store,
  type TunnelKind,
  type TunnelRecord,
} from '../store/index.js';
import type { RandomBytes } from '../random-text.js';
import { randomName, validateName } from './names.js';

export interface BindRequest {
  name: string | null;
  resumeToken: string | null;
  keyId: string | null;
  /** The key's user: names belong to users, so any of a user's keys may bind them. */
  userId: string | null;
  /** Take the name over from another live session, if the name is the caller's user's. */
  force: boolean;
}

export interface BindResult {
  name: string;
  resumeToken: string;
  /** The policy the name's owner stored through the control API, or null. */
  storedPolicy: Record<string, unknown> | null;
  /** When the name was first claimed (now, when this bind claimed it). */
  createdAt: Date;
}

export interface TunnelBinderOptions {
  store: Store;
  registry: Registry;
  /** Named tunnels a user may hold (limits.reservedNamesPerUser); claiming one more is TUN_ERR_NAME_LIMIT. */
  reservedNamesPerUser: number;
  random?: RandomBytes;
  newToken?: () => string;
  /** A name went live in the registry, with its stored kind (metrics label named tunnels); must not throw. */
  onBound?: (name: string, kind: TunnelKind) => void;
}

const RANDOM_NAME_ATTEMPTS = 32;

export class TunnelBinder {
  private readonly store: Store;
  private readonly registry: Registry;
  private readonly random: RandomBytes | undefined;
  private readonly newToken: () => string;
  /** Names whose BIND is between its check and its registry bind. */
  private readonly handingOver = new Set<string>();
  private readonly reservedNamesPerUser: number;
  private readonly onBound: ((name: string, kind: TunnelKind) => void) | undefined;

  constructor(options: TunnelBinderOptions) {
    this.onBound = options.onBound;
    this.store = options.store;
    this.registry = options.registry;
    this.reservedNamesPerUser = options.reservedNamesPerUser;
    this.random = options.random;
    this.newToken = options.newToken ?? (() => randomBytes(24).toString('base64url'));
  }

  /**
   * Binds a name to `target` or throws a TunnelError saying why not. `announce` runs just
   * before the name goes live, synchronously with it: the agent must hear BIND_ACK before
   * any request for the name can reach it.
   */
  async bind(
    request: BindRequest,
    target: TunnelTarget,
    announce: (result: BindResult) => void,
  ): Promise<BindResult> {
    if (request.name === null) return this.bindRandom(request, target, announce);
    const name = validateName(request.name);
    const record = await this.store.getTunnel(name);
    // A matching resume token, or --force on a name of the caller's own, may replace a live holder.
    const proven =
      this.tokenMatches(record, request.resumeToken) ||
      (request.force && record !== undefined && this.owns(record, request));
    if (!record) {
      await this.claimNew(name, request);
    } else if (!proven && !this.owns(record, request)) {
      throw nameTakenError(record);
    }
    return this.handOver(name, target, announce, proven);
  }

  private async bindRandom(
    request: BindRequest,
    target: TunnelTarget,
    announce: (result: BindResult) => void,
  ): Promise<BindResult> {
    for (let attempt = 0; attempt < RANDOM_NAME_ATTEMPTS; attempt++) {
      const name = randomName(this.random);
      if (this.registry.lookup(name) || this.registry.graceUntil(name) > 0) continue;
      const created = await this.store.createTunnel({
        name,
        kind: 'temporary',
        ownerKeyId: request.keyId,
        resumeTokenHash: null,
      });
      if (created) return this.handOver(name, target, announce, true);
    }
    throw new TunnelError('TUN_ERR_INTERNAL', 'could not find a free temporary name; try again');
  }

  private async claimNew(name: string, request: BindRequest): Promise<void> {
    if (request.keyId === null) {
      throw new TunnelError(
        'TUN_ERR_NAME_REQUIRES_KEY',
        `choosing the name "${name}" needs an API key (--token); without --name you get a random temporary name`,
      );
    }
    const created = await this.store.createTunnel({
      name,
      kind: 'named',
      ownerKeyId: request.keyId,
      resumeTokenHash: null,
      maxNamedPerUser: this.reservedNamesPerUser,
    });
    if (created) return;
    // Someone created it between our read and insert: decide again against their row.
    const record = await this.store.getTunnel(name);
    if (!record)
      throw new TunnelError('TUN_ERR_INTERNAL', `the name "${name}" vanished while binding; try again`);
    if (!this.owns(record, request)) throw nameTakenError(record);
  }

  /** `proven`: the caller may replace a live holder (resume token, or a name just created). */
  private async handOver(
    name: string,
    target: TunnelTarget,
    announce: (result: BindResult) => void,
    proven: boolean,
  ): Promise<BindResult> {
    // Refused before the token is replaced, so a losing BIND leaves the holder's token working.
    this.refuseIfHeld(name, target, proven);
    // Two BINDs of one name in flight at once would both write their token, and the loser's
    // could land last: the first one in holds the name until it is decided.
    if (this.handingOver.has(name)) this.refuseIfHeld(name, target, false, true);
    this.handingOver.add(name);
    try {
      return await this.handOverHeld(name, target, announce, proven);
    } finally {
      this.handingOver.delete(name);
    }
  }

  private async handOverHeld(
    name: string,
    target: TunnelTarget,
    announce: (result: BindResult) => void,
    proven: boolean,
  ): Promise<BindResult> {
    const resumeToken = this.newToken();
    // Also marks the name active and records its holder (so a crash knows it was live), and
    // reads the row back: a policy stored meanwhile applies.
    const record = await this.store.setTunnelResumeToken(name, hashSecret(resumeToken), target.sessionId);
    const result = { name, resumeToken, storedPolicy: record.policy, createdAt: record.createdAt };
    let live: TunnelTarget | undefined;
    try {
      // Checked again after the last await so no other BIND can slip in between check and bind.
      live = this.refuseIfHeld(name, target, proven);
      announce(result);
    } catch (err) {
      // Recorded as the holder, but the name is not served here: the live holder (if any) is.
      await this.store
        .releaseTunnelHolder(name, target.sessionId, this.registry.lookup(name)?.sessionId ?? null)
        .catch(() => undefined);
      throw err;
    }
    // The session that held it hears it lost the name, rather than waiting for requests that no longer come.
    if (live && live !== target) live.displaced(name);
    this.registry.bind(name, target);
    this.onBound?.(name, record.kind);
    return result;
  }

  /** The name's live holder, if any; TUN_ERR_NAME_IN_USE when another one holds it and `proven` is false. */
  private refuseIfHeld(
    name: string,
    target: TunnelTarget,
    proven: boolean,
    beingBound = false,
  ): TunnelTarget | undefined {
    const live = this.registry.lookup(name);
    if (beingBound || (live && live !== target && live.accepting && !proven)) {
      throw new TunnelError(
        'TUN_ERR_NAME_IN_USE',
        `"${name}" is already served by another live agent session; stop that agent, wait for it to time out, or if it is a stale session of yours take the name over with --force`,
      );
    }
    return live;
  }

  private owns(record: TunnelRecord, request: BindRequest): boolean {
    if (request.userId !== null && record.ownerUserId !== null) return record.ownerUserId === request.userId;
    return request.keyId !== null && record.ownerKeyId === request.keyId;
  }

  private tokenMatches(record: TunnelRecord | undefined, token: string | null): boolean {
    if (!record?.resumeTokenHash || !token) return false;
    return hashesEqual(hashSecret(token), record.resumeTokenHash);
  }
}
