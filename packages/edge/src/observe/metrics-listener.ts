/**
 * `metricsListen`: a node:http server of its own that answers `GET /metrics` (and HEAD)
 * with the edge's metrics, unauthenticated, and 404 for every other path. Kept apart from
 * the public listener so Prometheus can scrape from a private network without an API key,
 * and scrapes never count against viewers' limits. Started and stopped with the edge.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RenderedMetrics } from './edge-metrics.js';

export const METRICS_PATH = '/metrics';

/** A host only this machine reaches; anything else exposes the unauthenticated listener. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface MetricsListenerOptions {
  host: string;
  port: number;
  render: () => Promise<RenderedMetrics>;
  /** A scrape that failed to render (answered 500); never expected. */
  onError: (err: unknown) => void;
}

export class MetricsListener {
  private constructor(private readonly server: Server) {}

  /** Listens; rejects with the listen error (address in use, not permitted). */
  static async start(options: MetricsListenerOptions): Promise<MetricsListener> {
    const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => answer(req, res, options));
    // Prometheus scrapes a few times a minute; a handful of connections is plenty.
    server.maxConnections = 64;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MetricsListener(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and ends open scrape connections; resolves when closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function answer(req: IncomingMessage, res: ServerResponse, options: MetricsListenerOptions): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== METRICS_PATH)
    return void plain(res, 404, `not found: this listener serves only ${METRICS_PATH}\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return void plain(res, 405, `${METRICS_PATH} answers GET and HEAD\n`);
  }
  sendMetrics(req, res, options.render, options.onError);
}

/** Answers a scrape with the rendered exposition; 500 (logged through onError) if rendering fails. */
export function sendMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  render: () => Promise<RenderedMetrics>,
  onError: (err: unknown) => void,
): void {
  render().then(
    ({ contentType, body, length }) => {
      if (res.destroyed) return;
      res.writeHead(200, {
        'Content-Type': contentType,
        'Content-Length': length,
        'Cache-Control': 'no-store',
      });
      // The render's chunks as they are (shared with other scrapes, never copied or joined).
      if (req.method !== 'HEAD') for (const chunk of body) res.write(chunk);
      res.end();
    },
    (err: unknown) => {
      onError(err);
      plain(res, 500, 'the metrics could not be rendered; see the edge log\n');
    },
  );
}

function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
