/**
 * Decides, per viewer request, whether the anonymous-tunnel warning answers it instead of
 * the agent: only when the setting is on, the request is a navigation without the cookie
 * (or the Continue POST), the tunnel's policy has no auth, and the bound session is anonymous.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  isContinueRequest,
  sendContinue,
  sendWarningPage,
  wantsWarning,
  type WarningCookies,
} from './anonymous-warning.js';
import { normalizeHost } from './host-router.js';
import { resolveTarget, type ResolveDeps, type ViewerPresence } from './resolve-target.js';
import type { TunnelRequest } from './tunnel-request.js';

export interface WarningGateDeps extends ResolveDeps {
  proto: 'http' | 'https';
  /** Signs the Continue cookie per tunnel and host with the edge secret. */
  warningCookies: WarningCookies;
}

/**
 * True when the edge answered (warning page or Continue). Cheap for everything else: the
 * live target is only waited for when a request would get the page. Throws the TunnelError
 * to show when the tunnel has no live agent (the same one the proxy would have shown).
 */
export async function answeredByWarning(
  deps: WarningGateDeps,
  req: IncomingMessage,
  res: ServerResponse,
  request: TunnelRequest,
  viewer: ViewerPresence,
): Promise<boolean> {
  const { route, method } = request;
  const continuing = isContinueRequest(method, route.path);
  const cookie = deps.warningCookies.value(route.name, normalizeHost(request.host));
  if (!continuing && !wantsWarning({ method, headers: req.rawHeaders, cookie })) return false;
  // Basic auth or a token means the owner chose who may look: nothing anonymous to warn about.
  if (request.policy?.auth) return false;
  // Waits through a reconnect like the proxy would; the usual case is the request's own target.
  const target = await resolveTarget(deps, request, viewer);
  if (!target.anonymous) return false;
  if (viewer.gone) return true;
  req.resume();
  if (continuing)
    sendContinue(req, res, {
      routePath: route.path,
      prefix: route.prefix,
      secure: request.secure || deps.proto === 'https',
      cookie,
    });
  else sendWarningPage(req, res, route.prefix);
  return true;
}
