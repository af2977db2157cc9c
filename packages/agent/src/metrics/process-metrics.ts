/**
 * prom-client's default process metrics, made once per process and shared by every
 * agent's registry (several agents in one process, as in tests and the benchmark, would
 * otherwise each install a GC observer and an event-loop monitor).
 */

import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';

let shared: Registry | null = null;

export function processMetrics(): Metric[] {
  if (shared === null) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared.getMetricsAsArray() as unknown as Metric[];
}
