/**
 * The control API at `/api/v1` on the edge's own host: authenticate, route, answer JSON.
 * Every failure is a TunnelError answered with its status and code; anything else is a 500
 * that is logged, never shown.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { TunnelError, toTunnelError } from '@burrow/protocol';
import type { Logger } from '../logger.js';
import { ApiLockedError, authenticate, type ApiAuthDeps } from './api-auth.js';
import type { ApiDeps } from './api-deps.js';
import { errorBody, readJsonObject, sendApiError, sendJson } from './api-http.js';
import { ApiRouter, type ApiRoute } from './api-router.js';
import { domainRoutes } from './domains-api.js';
import { accountRoutes } from './keys-api.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import { requestRoutes } from './requests-api.js';
import { statsRoutes } from './stats-api.js';
import { tunnelRoutes } from './tunnels-api.js';

export const API_PREFIX = '/api/v1';
const DOCUMENT_PATH = '/openapi.json';

export interface ControlApiOptions extends ApiDeps {
  auth: ApiAuthDeps;
  log: Logger;
}

/** Every authenticated route; the document route is answered before authentication. */
export function apiRoutes(deps: ApiDeps): ApiRoute[] {
  return [
    ...accountRoutes(deps),
    ...tunnelRoutes(deps),
    ...domainRoutes(deps),
    ...statsRoutes(deps),
    ...requestRoutes(deps),
  ];
}

export class ControlApi {
  readonly router: ApiRouter;

  constructor(private readonly options: ControlApiOptions) {
    this.router = new ApiRouter(apiRoutes(options));
  }

  /** True for paths under /api/v1 (and /api/v1 itself), which `handle` answers. */
  static owns(path: string): boolean {
    const bare = path.split('?')[0]!;
    return bare === API_PREFIX || bare.startsWith(`${API_PREFIX}/`);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    this.answer(req, res, path).catch((err: unknown) => {
      const error = toTunnelError(err);
      if (error.status >= 500) this.options.log.error({ err }, 'control API failure');
      const headers: Record<string, string> =
        error instanceof ApiLockedError ? { 'Retry-After': String(error.retryAfterSeconds) } : {};
      if (error.code === 'TUN_ERR_UNAUTHORIZED') headers['WWW-Authenticate'] = 'Bearer realm="burrow"';
      // Internal details stay in the log.
      const shown = error.status >= 500 ? new TunnelError(error.code, 'the edge failed; see its log') : error;
      sendApiError(res, shown, headers);
      // Drain what is left of the body so the connection can be reused.
      req.resume();
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const url = new URL(path, 'http://edge');
    const relative = url.pathname.slice(API_PREFIX.length) || '/';
    if (relative === DOCUMENT_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      sendJson(res, 200, OPENAPI_DOCUMENT);
      return;
    }
    const match = this.router.match(req.method ?? 'GET', relative);
    if (match.kind === 'none') {
      throw new TunnelError(
        'TUN_ERR_NOT_FOUND',
        `no API endpoint ${req.method ?? 'GET'} ${url.pathname}; see ${API_PREFIX}${DOCUMENT_PATH}`,
      );
    }
    if (match.kind === 'wrong-method') {
      const allowed = match.allowed.join(', ');
      sendJson(res, 405, errorBody('TUN_ERR_INVALID_INPUT', `${url.pathname} allows ${allowed}`), {
        Allow: allowed,
      });
      req.resume();
      return;
    }
    const caller = await authenticate(req, this.options.auth);
    const answer = await match.route.handle({
      req,
      res,
      caller,
      params: match.params,
      query: url.searchParams,
      readBody: () => readJsonObject(req),
    });
    if ('start' in answer) answer.start(res);
    else sendJson(res, answer.status, answer.body);
    req.resume();
  }
}
