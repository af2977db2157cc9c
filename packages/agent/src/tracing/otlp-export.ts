/**
 * The agent's span export over OTLP/HTTP (JSON), when configured: the SDK's OTLP exporter
 * behind its BatchSpanProcessor (a bounded queue: spans beyond `maxQueue` are dropped;
 * batches of at most 512 leave every 5 s or when full) and the resource naming the service.
 * The SDK is imported here, on demand, and nowhere else at run time: an agent without
 * `otlp.endpoint` never loads it (the CLI bundle keeps it external, scripts/bundle.js).
 */

import type { DiagLogger } from '@opentelemetry/api';
import type { OtlpSettings } from '../config/index.js';
import { OriginTracer, type OriginTracerDeps } from './origin-tracer.js';

/** Largest batch per export request (the SDK's default), never above the queue. */
const MAX_BATCH = 512;
/** A collector that does not answer an export within this is given up on for that batch. */
const EXPORT_TIMEOUT_MS = 10_000;
/** At most one SDK warning per this many ms (a down collector fails every batch). */
const DIAG_EVERY_MS = 10_000;

export interface TracingDeps extends OriginTracerDeps {
  /** Where export problems (dropped spans, a collector that fails) are reported. */
  readonly warn: (message: string) => void;
}

/** `http://collector:4318` → `http://collector:4318/v1/traces`; a URL with a path is taken as is. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.toString();
}

/** Null without an endpoint; otherwise the tracer to hand to `startAgent`. Close it after the agent. */
export async function startOriginTracing(
  settings: OtlpSettings,
  deps: TracingDeps,
): Promise<OriginTracer | null> {
  if (settings.endpoint === null) return null;
  const [api, exporters, resources, sdk] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  api.diag.setLogger(diagnostics(deps), { logLevel: api.DiagLogLevel.WARN, suppressOverrideMessage: true });
  const exporter = new exporters.OTLPTraceExporter({
    url: tracesUrl(settings.endpoint),
    timeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const processor = new sdk.BatchSpanProcessor(exporter, {
    maxQueueSize: settings.maxQueue,
    maxExportBatchSize: Math.min(MAX_BATCH, settings.maxQueue),
    exportTimeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const source = {
    resource: resources
      .defaultResource()
      .merge(resources.resourceFromAttributes({ 'service.name': settings.serviceName })),
    scope: { name: '@burrow/agent' },
  };
  return new OriginTracer(processor, source, deps);
}

/** The SDK's global `diag` logger, silent by default, to `warn`, at most once per 10 s. */
function diagnostics(deps: TracingDeps): DiagLogger {
  let lastAt = -Infinity;
  const write = (message: string, args: unknown[]): void => {
    const now = deps.timers.now();
    if (now - lastAt < DIAG_EVERY_MS) return;
    lastAt = now;
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ');
    deps.warn(`span export: ${message}${detail === '' ? '' : ` ${detail}`}`);
  };
  const quiet = (): void => undefined;
  return {
    error: (message, ...args) => write(message, args),
    warn: (message, ...args) => write(message, args),
    info: quiet,
    debug: quiet,
    verbose: quiet,
  };
}
