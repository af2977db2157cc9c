/**
 * The control API's route table: method + path template -> handler. Templates are the
 * OpenAPI paths (`/tunnels/{name}`), so the document and the router are checked against
 * each other by a test instead of being kept in step by hand.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiCaller } from './api-auth.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  caller: ApiCaller;
  /** Template parameters, percent-decoded. */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The JSON object body (`{}` when empty); TUN_ERR_INVALID_INPUT or 413 when malformed. */
  readBody: () => Promise<Record<string, unknown>>;
}

/** What a handler answers: a status and a JSON body (none for 204), or a streamed answer. */
export type ApiAnswer = JsonAnswer | StreamedAnswer;

export interface JsonAnswer {
  status: number;
  body?: unknown;
}

/**
 * An answer written over time (Server-Sent Events): `start` takes the response over once the
 * handler has checked everything. It may still throw before writing anything, and the throw
 * is answered as JSON like any other failure.
 */
export interface StreamedAnswer {
  start(res: ServerResponse): void;
}

export interface ApiRoute {
  method: HttpMethod;
  /** Relative to `/api/v1`, OpenAPI style: `/tunnels/{name}/policy`. */
  path: string;
  handle(request: ApiRequest): Promise<ApiAnswer>;
}

interface CompiledRoute {
  route: ApiRoute;
  pattern: RegExp;
  params: string[];
}

export type RouteMatch =
  | { kind: 'found'; route: ApiRoute; params: Record<string, string> }
  | { kind: 'wrong-method'; allowed: HttpMethod[] }
  | { kind: 'none' };

function compile(route: ApiRoute): CompiledRoute {
  const params: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param === null) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(param[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), params };
}

export class ApiRouter {
  private readonly compiled: CompiledRoute[];

  constructor(readonly routes: readonly ApiRoute[]) {
    this.compiled = routes.map(compile);
  }

  /** `path` is relative to `/api/v1`, without the query string. */
  match(method: string, path: string): RouteMatch {
    const allowed: HttpMethod[] = [];
    for (const { route, pattern, params } of this.compiled) {
      const found = pattern.exec(path);
      if (found === null) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const values: Record<string, string> = {};
      let decodable = true;
      params.forEach((name, i) => {
        try {
          values[name] = decodeURIComponent(found[i + 1]!);
        } catch {
          decodable = false;
        }
      });
      if (!decodable) return { kind: 'none' };
      return { kind: 'found', route, params: values };
    }
    return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'none' };
  }
}
