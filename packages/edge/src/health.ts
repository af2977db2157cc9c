/**
 * Health endpoints: live (the process answers), ready (the store is reachable and is the
 * file the CLI sees, and the edge is not draining). Not ready answers 503 with the reason
 * and its stable code, in the body and in `X-Burrow-Error`.
 */

import type { ServerResponse } from 'node:http';
import { toTunnelError, type ErrorCode, type TunnelError } from '@burrow/protocol';

export interface HealthState {
  draining(): boolean;
  /** Null when the store is usable; otherwise why not (a rejection counts as unreachable). */
  storeProblem(): Promise<TunnelError | null>;
  sessions(): number;
  tunnels(): number;
}

function json(res: ServerResponse, status: number, body: object, code?: ErrorCode): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...(code === undefined ? {} : { 'X-Burrow-Error': code }),
  });
  res.end(text);
}

/** The `store` field: what a dashboard shows without parsing the reason. */
function storeState(problem: TunnelError | null): string {
  if (problem === null) return 'ok';
  return problem.code === 'TUN_ERR_STORE_REPLACED' ? 'replaced' : 'unreachable';
}

/** Answers /health, /health/live and /health/ready; false for any other path. */
export function handleHealth(path: string, res: ServerResponse, state: HealthState): boolean {
  const bare = path.split('?')[0];
  if (bare === '/health/live') {
    json(res, 200, { status: 'ok' });
    return true;
  }
  if (bare !== '/health' && bare !== '/health/ready') return false;
  state
    .storeProblem()
    .catch((err: unknown) => toTunnelError(err))
    .then((problem) => {
      const draining = state.draining();
      const counts = { draining, sessions: state.sessions(), tunnels: state.tunnels() };
      if (problem === null && !draining) {
        json(res, 200, { status: 'ok', store: 'ok', ...counts });
        return;
      }
      // The store's problem comes first: draining ends by itself, a lost store file does not.
      const code = problem?.code ?? 'TUN_ERR_GOING_AWAY';
      const reason = problem?.message ?? 'the edge is shutting down and takes no new agents';
      json(res, 503, { status: 'unavailable', store: storeState(problem), code, reason, ...counts }, code);
    })
    .catch(() => {
      // Only writing the answer can fail here (the client went away): nothing left to tell.
    });
  return true;
}
