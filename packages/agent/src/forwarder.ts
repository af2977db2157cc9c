/**
 * Serves the streams the edge opens on a session: picks the origin by the tunnel name in
 * the request head and hands the stream to the HTTP or the upgrade forwarder.
 */

import { TunnelError, toTunnelError, type MuxStream, type Session } from '@burrow/protocol';
import type { ForwardContext } from './forward-context.js';
import { forwardHttp } from './http-forwarder.js';
import { forwardUpgrade } from './upgrade-forwarder.js';

/** Tunnel name (as bound on this session) → origin URL. */
export type RouteTable = ReadonlyMap<string, URL>;

/**
 * Handles one stream. Never throws: the listener runs inside the session's frame dispatch,
 * where an exception would be taken for a protocol error and close the whole session.
 */
export function serveStream(stream: MuxStream, routes: RouteTable, context: ForwardContext): void {
  try {
    const head = stream.requestHead;
    if (head === null) throw new TunnelError('TUN_ERR_PROTOCOL', 'stream without a request head');
    const origin = routes.get(head.tunnel);
    if (origin === undefined) {
      stream.reset(
        new TunnelError('TUN_ERR_TUNNEL_NOT_FOUND', `this agent serves no tunnel named "${head.tunnel}"`),
      );
      return;
    }
    if (stream.upgrade) forwardUpgrade(stream, head, origin, context);
    else forwardHttp(stream, head, origin, context);
  } catch (err) {
    stream.reset(toTunnelError(err));
  }
}

/** Serves every stream `session` accepts from now on; returns a function that stops it. */
export function attachForwarder(session: Session, routes: RouteTable, context: ForwardContext): () => void {
  const onStream = (stream: MuxStream): void => serveStream(stream, routes, context);
  session.on('stream', onStream);
  return () => session.off('stream', onStream);
}
