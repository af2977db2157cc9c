/**
 * Request history and the live feed: `GET /tunnels/{name}/requests` (filtered pages, newest
 * first), `GET /requests/{id}` (one record with its capture) and
 * `GET /tunnels/{name}/requests/stream` (Server-Sent Events of new records), and
 * `POST /requests/{id}/replay` (the record's request sent through its tunnel again, owner only). A caller sees
 * the records of their own tunnels made while they owned them; an admin key sees all.
 * Someone else's tunnel or record answers 404, as a missing one does.
 */

import { TunnelError } from '@burrow/protocol';
import { viewerGone } from '../ingress/http2-request.js';
import { clientAddressOf } from '../listeners/client-address.js';
import { mayAccess, notYours, type ApiDeps } from './api-deps.js';
import type { ApiCaller } from './api-auth.js';
import type { ApiRequest, ApiRoute, StreamedAnswer } from './api-router.js';
import { EventStream } from './event-stream.js';
import { parseRequestFilters } from './request-filters.js';
import { requestView } from './request-view.js';
import { ownTunnel } from './tunnels-api.js';

/** Request ids are the edge's UUIDs: visible ASCII, not much longer (a NUL would be an encoding error in PostgreSQL). */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** Only the caller's own records, unless the key is an admin's. */
function visibleTo(caller: ApiCaller): string | undefined {
  return caller.admin ? undefined : caller.userId;
}

export function requestRoutes(deps: ApiDeps): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/tunnels/{name}/requests',
      async handle({ caller, params, query }: ApiRequest) {
        const filters = parseRequestFilters(query);
        const tunnel = await ownTunnel(deps, caller, params.name!);
        let page;
        try {
          page = await deps.store.listRequestRecords({
            ...filters,
            tunnel: tunnel.name,
            userId: visibleTo(caller),
          });
        } catch (err) {
          // The store names the field of a cursor it did not make; to the API that is bad input.
          if (err instanceof TunnelError && err.code === 'TUN_ERR_BAD_REQUEST')
            throw new TunnelError('TUN_ERR_INVALID_INPUT', err.message);
          throw err;
        }
        return {
          status: 200,
          body: { requests: page.records.map((r) => requestView(r)), nextCursor: page.nextCursor },
        };
      },
    },
    {
      method: 'GET',
      path: '/requests/{id}',
      async handle({ caller, params }: ApiRequest) {
        const id = params.id!;
        const record = !REQUEST_ID.test(id) ? null : await deps.store.getRequestRecord(id);
        if (record === null || !mayAccess(caller, record.userId)) throw notYours('request', id);
        return { status: 200, body: requestView(record, true) };
      },
    },
    {
      method: 'POST',
      path: '/requests/{id}/replay',
      async handle({ caller, params, req, res }: ApiRequest) {
        const id = params.id!;
        const record = !REQUEST_ID.test(id) ? null : await deps.store.getRequestRecord(id);
        // Owner only, admins included: a replay acts on the owner's origin with the owner's data.
        if (record === null || record.userId === null || record.userId !== caller.userId)
          throw notYours('request', id);
        // A caller that leaves stops the replay (its tunnel stream) instead of leaving it to run.
        const left = new AbortController();
        const onClose = (): void => {
          if (!res.writableEnded) left.abort();
        };
        res.once('close', onClose);
        let result;
        try {
          result = await deps.replay(record, clientAddressOf(req), left.signal);
        } finally {
          res.off('close', onClose);
        }
        return {
          status: 201,
          body: { id: result.id, replayOf: record.id, status: result.status, errorCode: result.errorCode },
        };
      },
    },
    {
      method: 'GET',
      path: '/tunnels/{name}/requests/stream',
      async handle({ caller, params }: ApiRequest): Promise<StreamedAnswer> {
        const tunnel = await ownTunnel(deps, caller, params.name!);
        return {
          start(res) {
            const stream = new EventStream(res, deps.timers);
            // Subscribed before the head is written: a refusal (429) is still a JSON answer.
            const subscription = deps.feed.subscribe({
              tunnel: tunnel.name,
              caller: caller.userId,
              visibleUserId: visibleTo(caller),
              sink: stream,
              stillAllowed: async () => {
                if (!(await deps.store.isUserActive(caller.userId))) return false;
                const keys = await deps.store.listApiKeys({ userId: caller.userId });
                const key = keys.find((k) => k.id === caller.key.id);
                return key !== undefined && key.revokedAt === null;
              },
            });
            // The caller may have left during the ownership lookup: its 'close' has fired already.
            if (viewerGone(res)) {
              subscription.close();
              return;
            }
            stream.open();
            res.once('close', () => subscription.close());
          },
        };
      },
    },
  ];
}
