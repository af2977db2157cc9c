/** Health endpoints: live (the process answers), ready (store reachable, not draining). */

import type { ServerResponse } from 'node:http';

export interface HealthState {
  draining(): boolean;
  storeOk(): Promise<boolean>;
  sessions(): number;
  tunnels(): number;
}

function json(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** Answers /health, /health/live and /health/ready; false for any other path. */
export function handleHealth(path: string, res: ServerResponse, state: HealthState): boolean {
  const bare = path.split('?')[0];
  if (bare === '/health/live') {
    json(res, 200, { status: 'ok' });
    return true;
  }
  if (bare !== '/health' && bare !== '/health/ready') return false;
  state.storeOk().then(
    (ok) => {
      const ready = ok && !state.draining();
      json(res, ready ? 200 : 503, {
        status: ready ? 'ok' : 'unavailable',
        store: ok ? 'ok' : 'unreachable',
        draining: state.draining(),
        sessions: state.sessions(),
        tunnels: state.tunnels(),
      });
    },
    () => json(res, 503, { status: 'unavailable', store: 'unreachable' }),
  );
  return true;
}
