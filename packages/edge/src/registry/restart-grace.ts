/**
 * Reconnect grace after an edge restart: requests for every name that was live when the
 * edge went down wait for its agent instead of failing with TUN_ERR_AGENT_OFFLINE.
 *
 * Two sources, because two kinds of stop leave different traces. A crash leaves the live
 * sessions' rows open (never given an end), and each name records its holding session, so
 * those names are known exactly however long ago they were bound. A clean stop ends the
 * sessions, and each marks its names active as it closes, so names active within the grace
 * (plus the shutdown allowance) are the ones it dropped.
 */

import type { Store } from '../store/index.js';
import type { Registry } from './registry.js';

/**
 * Run first at start-up, before anything records new sessions: the names held by sessions
 * a crash left open, after which those sessions are closed with reason `edge_restart`.
 */
export async function takeInterruptedNames(store: Store): Promise<string[]> {
  const names = await store.listTunnelsOfOpenSessions();
  await store.closeDanglingSessions('edge_restart');
  return names;
}

/** Marks `interrupted` and recently active names as reconnecting for `graceMs`; returns how many. */
export async function expectTunnelsBack(
  deps: { store: Store; registry: Registry; now: number },
  interrupted: readonly string[],
  windows: { graceMs: number; shutdownMs: number },
): Promise<number> {
  const { store, registry, now } = deps;
  const names = new Set(interrupted);
  const since = new Date(now - windows.graceMs - windows.shutdownMs);
  for (const tunnel of await store.listTunnelsActiveSince(since)) names.add(tunnel.name);
  for (const name of names) registry.expect(name, now + windows.graceMs);
  return names.size;
}
