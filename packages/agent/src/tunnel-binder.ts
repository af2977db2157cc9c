/**
 * BIND for every tunnel of the agent, correlated to BIND_ACK by id. Each tunnel remembers
 * the name and resume token the edge gave it, so the BIND after a reconnect asks for the
 * same name with proof it was ours and gets the same URL back, random names included. Each
 * BIND carries the tunnel's access policy; a refusal over it is a PolicyRefusedError.
 */

import {
  ERROR_CATALOG,
  FrameType,
  TunnelError,
  decodeBindAck,
  type Bind,
  type BindAck,
  type ErrorCode,
  type Session,
  type Timers,
} from '@burrow/protocol';
import { describeAccess } from './access-summary.js';
import type { TunnelSpec } from './config/agent-config.js';
import { awaitControl } from './control-exchange.js';
import { PolicyRefusedError, policySecrets, redactSecrets } from './policy-refusal.js';

/** A tunnel the edge accepted. */
export interface BoundTunnel {
  /** The spec's id: the key under `tunnels:` in burrow.yml, or `default`. */
  readonly id: string;
  /** The public name the edge granted. */
  readonly name: string;
  /** Public URL, e.g. `http://k3xnz3.localhost:8080`. */
  readonly url: string;
  /** Where its requests go, e.g. `http://127.0.0.1:3000`. */
  readonly origin: string;
  /** Its access settings in words, without secrets (see describeAccess); empty when none. */
  readonly access: readonly string[];
}

/**
 * Per-tunnel state that outlives sessions. Owned by one agent; mutated only by
 * `bindTunnels` when an ack arrives.
 */
export class TunnelBinding {
  readonly spec: TunnelSpec;
  /** Name to ask for: the configured one, then whatever the edge granted last. */
  name: string | null;
  resumeToken: string | null = null;
  /** Last URL the edge gave, to tell a re-bind that changed the URL from one that kept it. */
  url: string | null = null;
  /** Ask the edge to take the name over from a stale session; cleared once a bind succeeds. */
  force: boolean;

  constructor(spec: TunnelSpec, force = false) {
    this.spec = spec;
    this.name = spec.name;
    this.force = force;
  }
}

export interface BindOptions {
  readonly timeoutMs: number;
  readonly timers: Timers;
  readonly signal: AbortSignal;
  /**
   * Called synchronously as each BIND_ACK arrives. The edge may send a request for the name
   * in the very next frame, before any promise continuation runs, so routes go live here.
   */
  readonly onBound?: (binding: TunnelBinding, name: string) => void;
}

/**
 * Binds all tunnels over `session`, in parallel. Resolves in spec order once every tunnel is
 * bound; rejects with the first refusal (the caller drops the session, so a half-bound
 * session never serves).
 */
export async function bindTunnels(
  session: Session,
  bindings: readonly TunnelBinding[],
  options: BindOptions,
): Promise<BoundTunnel[]> {
  if (bindings.length === 0) return [];
  let nextId = 1;
  const pending = new Map<number, TunnelBinding>();
  const acks = new Map<TunnelBinding, Extract<BindAck, { ok: true }>>();
  const send = (binding: TunnelBinding): void => {
    const bind: Bind = {
      id: nextId,
      proto: 'http',
      name: binding.name,
      resumeToken: binding.resumeToken,
      policy: binding.spec.policy,
      force: binding.force,
    };
    pending.set(nextId, binding);
    nextId += 1;
    session.sendControl(FrameType.BIND, bind);
  };
  const done = awaitControl<true>(session, {
    timers: options.timers,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    what: 'BIND',
    timeoutError: () =>
      new TunnelError(
        'TUN_ERR_HANDSHAKE_TIMEOUT',
        `the edge did not answer BIND within ${options.timeoutMs} ms`,
      ),
    onControl: (type, payload) => {
      if (type !== FrameType.BIND_ACK) {
        throw new TunnelError('TUN_ERR_PROTOCOL', `expected BIND_ACK, the edge sent control frame ${type}`);
      }
      const ack = decodeBindAck(payload);
      const binding = pending.get(ack.id);
      if (binding === undefined)
        throw new TunnelError('TUN_ERR_PROTOCOL', `BIND_ACK for unknown bind id ${ack.id}`);
      pending.delete(ack.id);
      if (!ack.ok) {
        const err = refusal(ack, binding);
        // A random name we only asked back for (the edge forgot it, e.g. after losing its state)
        // is not worth stopping for: take a fresh random name and a new URL instead. A refused
        // policy would be refused again under any name.
        const nameRefused = !err.retryable && !(err instanceof PolicyRefusedError);
        if (nameRefused && binding.spec.name === null && binding.name !== null) {
          binding.name = null;
          binding.resumeToken = null;
          send(binding);
          return undefined;
        }
        throw err;
      }
      acks.set(binding, ack);
      options.onBound?.(binding, ack.name);
      return acks.size === bindings.length ? true : undefined;
    },
  });
  for (const binding of bindings) send(binding);
  await done;
  return bindings.map((binding) => {
    const ack = acks.get(binding)!;
    binding.name = ack.name;
    binding.resumeToken = ack.resumeToken;
    binding.url = ack.url;
    binding.force = false;
    return {
      id: binding.spec.id,
      name: ack.name,
      url: ack.url,
      origin: binding.spec.origin.origin,
      access: describeAccess(binding.spec),
    };
  });
}

function refusal(ack: Extract<BindAck, { ok: false }>, binding: TunnelBinding): TunnelError {
  // decodeBindAck passes the code through unchecked; an unknown one must not crash TunnelError.
  const code: ErrorCode = Object.hasOwn(ERROR_CATALOG, ack.code) ? ack.code : 'TUN_ERR_PROTOCOL';
  const reason = redactSecrets(ack.message, policySecrets(binding.spec.policy));
  if (code === 'TUN_ERR_BAD_MESSAGE' && binding.spec.policy !== null) {
    return new PolicyRefusedError(binding.spec.id, reason);
  }
  const which = binding.name === null ? `tunnel "${binding.spec.id}"` : `the name "${binding.name}"`;
  return new TunnelError(code, `the edge refused ${which}: ${reason}`);
}
