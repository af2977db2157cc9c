/**
 * Talks to a child started with `--inspect=127.0.0.1:0` over the DevTools protocol on
 * loopback: force a full GC, read process.memoryUsage(), run the CPU profiler. Lets the
 * harness measure another process's heap after collection, which /proc alone cannot.
 */

import WebSocket from 'ws';

/** Node flag to pass to a child that the harness will inspect; port 0 picks a free port. */
export const INSPECT_FLAG = '--inspect=127.0.0.1:0';

/**
 * @typedef {{ call: (method: string, params?: Record<string, unknown>) => Promise<Record<string, unknown>>,
 *   close: () => void }} InspectorSession
 */

/**
 * Connects to the inspector of `child` (a bench/processes.js Child).
 * @param {import('./processes.js').Child} child
 * @returns {Promise<InspectorSession>}
 */
export async function connectInspector(child) {
  const url = await child.waitForLine(
    (line) => /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1],
    10_000,
    'the inspector URL',
  );
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolveOpen, reject) => {
    ws.once('open', resolveOpen);
    ws.once('error', reject);
  });
  let nextId = 1;
  /** @type {Map<number, { resolve: (v: Record<string, unknown>) => void, reject: (e: Error) => void }>} */
  const pending = new Map();
  ws.on('message', (data) => {
    const msg =
      /** @type {{ id?: number, result?: Record<string, unknown>, error?: { message: string } }} */ (
        JSON.parse(String(data))
      );
    if (msg.id === undefined) return;
    const waiter = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) waiter?.reject(new Error(`inspector: ${msg.error.message}`));
    else waiter?.resolve(msg.result ?? {});
  });
  ws.on('close', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('inspector connection closed'));
    pending.clear();
  });
  return {
    call(method, params = {}) {
      const id = nextId++;
      return new Promise((resolveCall, reject) => {
        pending.set(id, { resolve: resolveCall, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => ws.close(),
  };
}

/**
 * Two full collections (the second picks up what finalizers released), then the heap figures.
 * @param {InspectorSession} session
 * @returns {Promise<{ rss: number, heapUsed: number, heapTotal: number, external: number, arrayBuffers: number }>}
 */
export async function collectAndMeasure(session) {
  await session.call('HeapProfiler.collectGarbage');
  await session.call('HeapProfiler.collectGarbage');
  const result = await session.call('Runtime.evaluate', {
    expression: 'JSON.stringify(process.memoryUsage())',
    returnByValue: true,
  });
  const value = /** @type {{ value: string }} */ (result.result).value;
  return JSON.parse(value);
}

/**
 * Starts the sampling CPU profiler; the returned function stops it and yields the profile.
 * @param {InspectorSession} session
 * @param {number} intervalUs
 */
export async function startProfiler(session, intervalUs = 200) {
  await session.call('Profiler.enable');
  await session.call('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.call('Profiler.start');
  return async () => {
    const { profile } = await session.call('Profiler.stop');
    await session.call('Profiler.disable');
    return profile;
  };
}
