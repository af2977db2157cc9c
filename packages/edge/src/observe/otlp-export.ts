/**
 * Span export over OTLP/HTTP (JSON), when configured: the SDK's OTLP exporter behind its
 * BatchSpanProcessor (a bounded queue: spans beyond `maxQueue` are dropped; batches of at
 * most 512 leave every 5 s or when full) and the resource naming the service. The SDK is
 * imported here, on demand, and nowhere else at run time: an edge without `otlp.endpoint`
 * never loads it (the CLI bundle keeps it external, scripts/bundle.js).
 */

import { TunnelError, type Timers } from '@burrow/protocol';
import type { DiagLogger } from '@opentelemetry/api';
import type { Logger } from '../logger.js';
import type { SpanSource } from './edge-span.js';
import { RequestSpanExporter } from './span-exporter.js';

export interface TracingSettings {
  /** Base URL of an OTLP/HTTP receiver (`/v1/traces` is added when it has no path), or the traces URL itself; null: no export. */
  readonly endpoint: string | null;
  readonly serviceName: string;
  /** Spans waiting to be sent at most; more are dropped. */
  readonly maxQueue: number;
}

/** Largest batch per export request (the SDK's default), never above the queue. */
const MAX_BATCH = 512;
/** A collector that does not answer an export within this is given up on for that batch. */
const EXPORT_TIMEOUT_MS = 10_000;
/** At most one SDK warning line per this many ms (a down collector fails every batch). */
const DIAG_EVERY_MS = 10_000;

/** `http://collector:4318` → `http://collector:4318/v1/traces`; a URL with a path is taken as is. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.toString();
}

/** Null without an endpoint; otherwise the exporter to add to the request observers. The caller closes it. */
export async function startRequestTracing(
  settings: TracingSettings,
  deps: { log: Logger; timers: Timers },
): Promise<RequestSpanExporter | null> {
  if (settings.endpoint === null) return null;
  const [api, core, exporters, resources, sdk] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
  ]).catch((err: unknown) => {
    // The bundle keeps the SDK external: an install without its node_modules lands here.
    throw new TunnelError(
      'TUN_ERR_CONFIG_INVALID',
      `otlp.endpoint is set but the OpenTelemetry packages could not be loaded (${err instanceof Error ? err.message : String(err)}); run "npm ci" where burrow is installed, or remove --otlp-endpoint (otlp.endpoint, BURROW_OTLP_ENDPOINT) to export no spans`,
      { cause: err },
    );
  });
  api.diag.setLogger(diagnostics(deps.log, deps.timers), {
    logLevel: api.DiagLogLevel.WARN,
    suppressOverrideMessage: true,
  });
  const exporter = new exporters.OTLPTraceExporter({
    url: tracesUrl(settings.endpoint),
    timeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const processor = new sdk.BatchSpanProcessor(exporter, {
    maxQueueSize: settings.maxQueue,
    maxExportBatchSize: Math.min(MAX_BATCH, settings.maxQueue),
    exportTimeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const source: SpanSource = {
    resource: resources
      .defaultResource()
      .merge(resources.resourceFromAttributes({ 'service.name': settings.serviceName })),
    scope: { name: '@burrow/edge' },
    traceState: (value) => new core.TraceState(value),
  };
  return new RequestSpanExporter(processor, source, deps.timers);
}

/**
 * The SDK reports dropped spans and failed exports through its global `diag` logger, silent
 * by default: warnings and errors go to the edge's log, at most one line per 10 s.
 */
function diagnostics(log: Logger, timers: Timers): DiagLogger {
  let lastAt = -Infinity;
  let suppressed = 0;
  const write = (message: string, args: unknown[]): void => {
    const now = timers.now();
    if (now - lastAt < DIAG_EVERY_MS) {
      suppressed++;
      return;
    }
    lastAt = now;
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ');
    log.warn({ suppressed }, `span export: ${message}${detail === '' ? '' : ` ${detail}`}`);
    suppressed = 0;
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
