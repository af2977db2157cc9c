/**
 * The OpenTelemetry SDK side of the agent's span export: an OTLP/HTTP (JSON) exporter behind
 * the SDK's BatchSpanProcessor (a bounded queue: spans beyond `maxQueue` are dropped, batches
 * of at most 512 leave every 5 s or when full) and the resource naming the service. The only
 * module that loads the SDK at run time; start-tracing.ts imports it only when an endpoint
 * is configured.
 */

import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
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

export function createOtlpTracer(
  settings: OtlpSettings & { readonly endpoint: string },
  deps: TracingDeps,
): OriginTracer {
  routeDiagnostics(deps);
  const exporter = new OTLPTraceExporter({
    url: tracesUrl(settings.endpoint),
    timeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const processor = new BatchSpanProcessor(exporter, {
    maxQueueSize: settings.maxQueue,
    maxExportBatchSize: Math.min(MAX_BATCH, settings.maxQueue),
    exportTimeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const source = {
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName })),
    scope: { name: '@burrow/agent' },
  };
  return new OriginTracer(processor, source, deps);
}

/** The SDK's global `diag` logger, silent by default, to `warn`, at most once per 10 s. */
function routeDiagnostics(deps: TracingDeps): void {
  let lastAt = -Infinity;
  const write = (message: string, args: unknown[]): void => {
    const now = deps.timers.now();
    if (now - lastAt < DIAG_EVERY_MS) return;
    lastAt = now;
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ');
    deps.warn(`span export: ${message}${detail === '' ? '' : ` ${detail}`}`);
  };
  const quiet = (): void => undefined;
  const logger: DiagLogger = {
    error: (message, ...args) => write(message, args),
    warn: (message, ...args) => write(message, args),
    info: quiet,
    debug: quiet,
    verbose: quiet,
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}
