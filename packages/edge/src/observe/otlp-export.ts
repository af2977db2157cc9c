/**
 * The OpenTelemetry SDK side of span export: an OTLP/HTTP (JSON) exporter behind the SDK's
 * BatchSpanProcessor (a bounded queue: spans beyond `maxQueue` are dropped, batches of at
 * most 512 leave every 5 s or when full), and the resource naming the service. The only
 * module that loads the SDK at run time; start-tracing.ts imports it only when an endpoint
 * is configured, so an edge without one never loads it.
 */

import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Timers } from '@burrow/protocol';
import type { Logger } from '../logger.js';
import type { SpanSource } from './edge-span.js';
import { RequestSpanExporter } from './span-exporter.js';

export interface OtlpSettings {
  /** Base URL of an OTLP/HTTP receiver (`/v1/traces` is added when it has no path), or the traces URL itself. */
  readonly endpoint: string;
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

/** The edge's span exporter over OTLP/HTTP; the caller closes it (flush, bounded). */
export function createOtlpSpanExporter(
  settings: OtlpSettings,
  deps: { log: Logger; timers: Timers },
): RequestSpanExporter {
  routeDiagnostics(deps.log, deps.timers);
  const exporter = new OTLPTraceExporter({
    url: tracesUrl(settings.endpoint),
    timeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const processor = new BatchSpanProcessor(exporter, {
    maxQueueSize: settings.maxQueue,
    maxExportBatchSize: Math.min(MAX_BATCH, settings.maxQueue),
    exportTimeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const source: SpanSource = {
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName })),
    scope: { name: '@burrow/edge' },
  };
  return new RequestSpanExporter(processor, source, deps.timers);
}

/**
 * The SDK reports dropped spans and failed exports through its global `diag` logger, silent
 * by default: send warnings and errors to the edge's log, at most one line per 10 s.
 */
function routeDiagnostics(log: Logger, timers: Timers): void {
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
  const logger: DiagLogger = {
    error: (message, ...args) => write(message, args),
    warn: (message, ...args) => write(message, args),
    info: quiet,
    debug: quiet,
    verbose: quiet,
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}
