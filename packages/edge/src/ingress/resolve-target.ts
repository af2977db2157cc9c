/**
 * Finds the live session for a tunnel name, waiting through a reconnect when the name's
 * agent just left (grace period), and says precisely why when there is none.
 */

import type { EventEmitter } from 'node:events';
import { TunnelError, type MuxStream, type Timers } from '@burrow/protocol';
import type { Registry, TunnelTarget } from '../registry/registry.js';
import type { TunnelRequest } from './tunnel-request.js';

export interface ResolveDeps {
  registry: Registry;
  timers: Timers;
  /** Whether the name is known at all (decides between "offline" and "not found"). */
  tunnelExists(name: string): Promise<boolean>;
  maxPendingRequests: number;
}

/**
 * Whether the viewer left before its request finished. The AbortSignal is built only when
 * a request has to wait: aborting one costs an exception object with a stack trace, too
 * much to pay on every request. Given an emitter it watches its 'close' itself; without
 * one, its owner (the HTTP exchange, which listens to 'close' anyway) calls `leave`.
 */
export class ViewerPresence {
  gone = false;
  private controller: AbortController | null = null;

  constructor(emitter?: EventEmitter, finished: () => boolean = () => false) {
    emitter?.once('close', () => {
      if (!finished()) this.leave();
    });
  }

  /** The viewer closed before its answer was complete. */
  leave(): void {
    this.gone = true;
    this.controller?.abort();
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.gone) this.controller.abort();
    return this.controller.signal;
  }
}

/**
 * The live, accepting target serving the request's tunnel, waiting (once) through a
 * reconnect grace period; throws the TunnelError to show the viewer when there is none.
 * `known` is what the request's one lookup found: the usual case returns it untouched.
 */
export async function resolveTarget(
  deps: ResolveDeps,
  request: TunnelRequest,
  viewer: ViewerPresence,
  known: TunnelTarget | undefined = request.target,
): Promise<TunnelTarget> {
  const { name } = request.route;
  const { host } = request;
  // The slow path only: what the request found on arrival may be stale by now (a caller
  // that already waited through a reconnect, like the warning gate), so look once more.
  let live = known?.accepting ? known : (deps.registry.lookup(name) ?? known);
  for (let pass = 0; pass < 2; pass++) {
    if (live?.accepting) return live;
    const until = deps.registry.graceUntil(name);
    const now = deps.timers.now();
    if (until <= now) break;
    if (deps.registry.waiting >= deps.maxPendingRequests) {
      throw new TunnelError(
        'TUN_ERR_AGENT_OFFLINE',
        `the agent serving ${host} is reconnecting; try again shortly`,
      );
    }
    live = await deps.registry.waitFor(name, until - now, viewer.signal);
    if (viewer.gone) throw new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away');
    if (!live) {
      throw new TunnelError(
        'TUN_ERR_AGENT_OFFLINE',
        `the agent serving ${host} went offline and did not reconnect in time`,
      );
    }
  }
  if (await deps.tunnelExists(name)) {
    throw new TunnelError('TUN_ERR_AGENT_OFFLINE', `the agent serving ${host} is offline`);
  }
  throw new TunnelError('TUN_ERR_TUNNEL_NOT_FOUND', `no tunnel is bound to ${host}`);
}

/** A stream to the request's live target, or null when there is none ready (use openTunnelStream). */
export function openLiveStream(request: TunnelRequest): MuxStream | null {
  const live = request.target;
  if (!live?.accepting) return null;
  try {
    return live.openStream();
  } catch (err) {
    if (err instanceof TunnelError && err.code === 'TUN_ERR_GOING_AWAY') return null;
    throw err;
  }
}

/**
 * Opens a stream to the agent serving the request's tunnel, or throws the TunnelError to show
 * the viewer. Answers the target too: after a wait it may not be the one found on arrival
 * (whose request history this is, whose origin may get this request).
 */
export async function openTunnelStream(
  deps: ResolveDeps,
  request: TunnelRequest,
  viewer: ViewerPresence,
): Promise<{ stream: MuxStream; target: TunnelTarget }> {
  // Two tries: a session can start going away between lookup and open; then we look again,
  // which waits for the reconnect if the name is in its grace period.
  let known = request.target;
  for (let attempt = 0; ; attempt++) {
    const target = await resolveTarget(deps, request, viewer, known);
    try {
      return { stream: target.openStream(), target };
    } catch (err) {
      if (!(err instanceof TunnelError) || err.code !== 'TUN_ERR_GOING_AWAY') throw err;
      if (attempt > 0) {
        throw new TunnelError('TUN_ERR_AGENT_OFFLINE', `the agent serving ${request.host} is going away`);
      }
      known = deps.registry.lookup(request.route.name);
    }
  }
}
