/**
 * An `Upgrade` request (WebSocket) through a tunnel. The agent answers with the origin's
 * head; on 101 the stream becomes a raw two-way byte pipe, so frames, close codes and
 * extensions pass through untouched. Any other answer is relayed and the socket closed.
 */

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TunnelError, toTunnelError, type MuxStream, type ResponseHead } from '@burrow/protocol';
import { errorPageFor, renderErrorPage } from './error-page.js';
import { headersAreValid, requestHeadersForAgent, responseHeadersForViewer } from './headers.js';
import { normalizeHost } from './host-router.js';
import { formatResponseHead } from './raw-response.js';
import { checkResponseHead } from './response-head.js';
import { titleFor, type ProxyDeps, type TunnelRoute } from './proxy-http.js';
import { admit, refusalHeaders } from './policy-gate.js';
import { openTunnelStream, ViewerPresence } from './resolve-target.js';

function writeError(socket: Duplex, err: TunnelError, accept: string | undefined, requestId: string): void {
  if (socket.destroyed) return;
  const { body, type } = renderErrorPage(errorPageFor(err, titleFor(err), requestId), accept);
  const head = formatResponseHead(err.status, '', [
    'Content-Type',
    type,
    'Content-Length',
    String(Buffer.byteLength(body)),
    'Connection',
    'close',
    'X-Burrow-Error',
    err.code,
    'X-Request-Id',
    requestId,
  ]);
  socket.end(head + body);
}

/** Pipes bytes both ways with backpressure; either side's end half-closes the other. */
function pipeRaw(socket: Duplex, stream: MuxStream): void {
  socket.on('data', (chunk: Buffer) => {
    if (!stream.write(chunk)) socket.pause();
  });
  stream.on('drain', () => socket.resume());
  stream.on('data', (chunk: Buffer) => {
    if (!socket.write(chunk)) stream.pause();
  });
  socket.on('drain', () => stream.resume());
  stream.once('end', () => socket.end());
  socket.once('end', () => stream.end());
  socket.resume();
}

export async function proxyUpgrade(
  deps: ProxyDeps,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  route: TunnelRoute,
): Promise<void> {
  const requestId = deps.newRequestId();
  const host = req.headers.host ?? route.name;
  const accept = req.headers.accept;
  socket.on('error', () => socket.destroy());
  socket.pause();
  const viewer = new ViewerPresence(socket, () => false);
  const gate = admit(deps.policies, req, route, deps.proto === 'https', { upgrade: true });
  if ('refused' in gate) {
    const { refused } = gate;
    if (refused.delayMs > 0)
      await new Promise((r) => deps.timers.setTimeout(() => r(undefined), refused.delayMs));
    const out = [...refusalHeaders(refused, requestId), 'Connection', 'close'];
    if (!socket.destroyed) socket.end(formatResponseHead(refused.status, '', out) + refused.body);
    return;
  }
  const { admitted } = gate;

  let stream: MuxStream;
  try {
    stream = await openTunnelStream(deps, route.name, host, viewer);
  } catch (err) {
    writeError(socket, toTunnelError(err), accept, requestId);
    return;
  }
  if (viewer.gone) {
    stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'));
    return;
  }
  const remoteAddress = req.socket.remoteAddress ?? '';
  const headers = requestHeadersForAgent(admitted.headers, {
    remoteAddress,
    proto: deps.proto,
    host,
    requestId,
    prefix: route.prefix,
  });
  stream.open(
    {
      tunnel: route.name,
      method: req.method ?? 'GET',
      path: admitted.path,
      headers,
      remoteAddress,
      requestId,
    },
    { fin: false, upgrade: true },
  );
  if (head.length > 0) stream.write(head);

  const timer = deps.timers.setTimeout(() => {
    const err = new TunnelError(
      'TUN_ERR_ORIGIN_TIMEOUT',
      'the local service did not answer the upgrade in time',
    );
    stream.reset(err);
    writeError(socket, err, accept, requestId);
  }, deps.requestTimeoutMs);

  let headWritten = false;
  const cookieHost = route.prefix === null ? normalizeHost(host) : null;
  // This listener runs inside the session's frame dispatch: a throw would be taken for a
  // protocol error and close the agent's whole session, so none may escape.
  stream.once('head', (response: ResponseHead) => {
    try {
      answerHead(response);
    } catch (thrown) {
      const err = toTunnelError(thrown);
      stream.reset(err);
      if (!headWritten) writeError(socket, err, accept, requestId);
      else socket.destroy();
    }
  });
  const answerHead = (response: ResponseHead): void => {
    deps.timers.clearTimeout(timer);
    const checked = checkResponseHead(response, { method: req.method ?? 'GET', upgrade: true });
    const out = checked.ok
      ? admitted.editResponse(responseHeadersForViewer(checked.head.headers, response.status, cookieHost))
      : [];
    if (!checked.ok || !headersAreValid(out)) {
      const err = new TunnelError(
        'TUN_ERR_HEAD_INVALID',
        `the local service sent a response head that is not valid HTTP${checked.ok ? '' : `: ${checked.reason}`}`,
      );
      stream.reset(err);
      writeError(socket, err, accept, requestId);
      return;
    }
    if (response.status !== 101) out.push('Connection', 'close');
    // latin1: header values are byte strings (obs-text included), not UTF-8 text.
    socket.write(formatResponseHead(response.status, checked.head.reason, out), 'latin1');
    headWritten = true;
    pipeRaw(socket, stream);
  };
  stream.once('reset', (err: TunnelError) => {
    deps.timers.clearTimeout(timer);
    // Before the head the viewer can still get a readable error; after it, only a cut.
    if (!headWritten) writeError(socket, err, accept, requestId);
    else socket.destroy();
  });
  socket.once('close', () => {
    deps.timers.clearTimeout(timer);
    stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'));
  });
}
