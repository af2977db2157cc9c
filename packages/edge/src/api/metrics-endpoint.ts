/**
 * `/metrics` on the edge's own host (where the control API lives), for when no separate
 * `metricsListen` is exposed: Prometheus sends an API key with the `admin` scope as
 * `Authorization: Bearer` (its `authorization` scrape setting). Without one it gets the
 * API's 401, with a weaker key 403, each with the API's JSON error body and code.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { TunnelError, toTunnelError } from '@burrow/protocol';
import type { Logger } from '../logger.js';
import type { RenderedMetrics } from '../observe/edge-metrics.js';
import { sendMetrics } from '../observe/metrics-listener.js';
import { ApiLockedError, authenticate, type ApiAuthDeps } from './api-auth.js';
import { errorBody, sendApiError, sendJson } from './api-http.js';

export interface MetricsEndpointDeps {
  auth: ApiAuthDeps;
  render: () => Promise<RenderedMetrics>;
  log: Logger;
}

/** Answers `/metrics` (any query) on the edge's host. */
export function serveMetricsEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  deps: MetricsEndpointDeps,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, errorBody('TUN_ERR_INVALID_INPUT', '/metrics allows GET, HEAD'), {
      Allow: 'GET, HEAD',
    });
    req.resume();
    return;
  }
  authenticate(req, deps.auth)
    .then((caller) => {
      if (!caller.admin) {
        throw new TunnelError(
          'TUN_ERR_FORBIDDEN',
          '/metrics needs a key with the "admin" scope (or scrape the metricsListen address instead)',
        );
      }
      sendMetrics(req, res, deps.render, (err) => deps.log.error({ err }, 'rendering metrics failed'));
    })
    .catch((err: unknown) => {
      const error = toTunnelError(err);
      if (error.status >= 500) deps.log.error({ err }, '/metrics failure');
      const headers: Record<string, string> =
        error instanceof ApiLockedError ? { 'Retry-After': String(error.retryAfterSeconds) } : {};
      if (error.code === 'TUN_ERR_UNAUTHORIZED') headers['WWW-Authenticate'] = 'Bearer realm="burrow"';
      sendApiError(
        res,
        error.status >= 500 ? new TunnelError(error.code, 'the edge failed; see its log') : error,
        headers,
      );
    })
    .finally(() => req.resume());
}
