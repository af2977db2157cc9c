/**
 * prom-client's default process metrics (CPU, memory, heap, event-loop lag, GC, handles,
 * file descriptors). They describe the process, not an edge, so they are made once per
 * process and shared by every edge's registry: several edges in one process (tests, the
 * benchmark) would otherwise each install their own GC observer and event-loop monitor.
 */

import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';

let shared: Registry | null = null;

/** The process metrics, created on first use; register them into any number of registries. */
export function processMetrics(): Metric[] {
  if (shared === null) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared.getMetricsAsArray() as unknown as Metric[];
}
