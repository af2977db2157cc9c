/**
 * `--metrics-listen`: a node:http server answering `GET /metrics` (and HEAD) with the
 * agent's metrics, 404 for every other path. Unauthenticated, so it listens on loopback
 * unless told otherwise.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RenderedMetrics } from './agent-metrics.js';

export interface AgentMetricsListenerOptions {
  host: string;
  port: number;
  render: () => Promise<RenderedMetrics>;
}

export class AgentMetricsListener {
  private constructor(private readonly server: Server) {}

  /** Listens; rejects with the listen error (address in use, not permitted). */
  static async start(options: AgentMetricsListenerOptions): Promise<AgentMetricsListener> {
    const server = createServer((req, res) => answer(req, res, options.render));
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
    return new AgentMetricsListener(server);
  }

  /** `http://host:port/metrics`, with the port actually bound. */
  get url(): string {
    const { address, port, family } = this.server.address() as AddressInfo;
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}/metrics`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function answer(req: IncomingMessage, res: ServerResponse, render: () => Promise<RenderedMetrics>): void {
  if ((req.url ?? '/').split('?')[0] !== '/metrics') return plain(res, 404, 'not found: try /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(res, 405, '/metrics answers GET and HEAD\n');
  }
  render().then(
    ({ contentType, body }) => {
      if (res.destroyed) return;
      res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    () => plain(res, 500, 'the metrics could not be rendered\n'),
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
