/**
 * Span export, when configured: loads the OpenTelemetry SDK (otlp-export.ts) only then, so
 * an edge without `otlp.endpoint` pays nothing for it, neither at start-up nor per request.
 */

import type { Timers } from '@burrow/protocol';
import type { Logger } from '../logger.js';
import type { RequestSpanExporter } from './span-exporter.js';

export interface TracingSettings {
  /** Null: no export (the default). */
  readonly endpoint: string | null;
  readonly serviceName: string;
  readonly maxQueue: number;
}

/** Null without an endpoint; otherwise the exporter to add to the request observers. */
export async function startRequestTracing(
  settings: TracingSettings,
  deps: { log: Logger; timers: Timers },
): Promise<RequestSpanExporter | null> {
  const { endpoint } = settings;
  if (endpoint === null) return null;
  const { createOtlpSpanExporter } = await import('./otlp-export.js');
  return createOtlpSpanExporter({ ...settings, endpoint }, deps);
}
