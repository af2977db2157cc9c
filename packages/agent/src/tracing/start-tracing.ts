/**
 * The agent's span export, when configured: loads the OpenTelemetry SDK (otlp-export.ts)
 * only then, so an agent without `otlp.endpoint` pays nothing for it.
 */

import type { OtlpSettings } from '../config/index.js';
import type { TracingDeps } from './otlp-export.js';
import type { OriginTracer } from './origin-tracer.js';

/** Null without an endpoint; otherwise the tracer to hand to `startAgent`. Close it after the agent. */
export async function startOriginTracing(
  settings: OtlpSettings,
  deps: TracingDeps,
): Promise<OriginTracer | null> {
  const { endpoint } = settings;
  if (endpoint === null) return null;
  const { createOtlpTracer } = await import('./otlp-export.js');
  return createOtlpTracer({ ...settings, endpoint }, deps);
}
