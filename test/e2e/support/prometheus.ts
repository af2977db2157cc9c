/**
 * A real Prometheus server (Debian's `prometheus`) for tests: scrapes the given targets
 * every second, keeps its TSDB in a temp dir, listens on a free loopback port, and is
 * queried through its HTTP API like Grafana would. Stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { installed } from '../../../bench/test-support.js';

export const PROMETHEUS = '/usr/bin/prometheus';

const START_MS = 20_000;
const STOP_MS = 5_000;

export interface ScrapeJob {
  readonly name: string;
  /** `host:port` of each target. */
  readonly targets: readonly string[];
  /** Sent as `Authorization: Bearer` (a scrape of the edge's own host). */
  readonly bearer?: string;
}

export interface QueryResult {
  metric: Record<string, string>;
  /** [evaluation time in s, value as text] */
  value: [number, string];
}

export interface PrometheusServer {
  readonly url: string;
  /** An instant query through `/api/v1/query`; throws unless Prometheus answers `success`. */
  query(expr: string): Promise<QueryResult[]>;
  /** Waits (bounded) until every job's targets were scraped at or after `sinceMs` (epoch ms). */
  scrapedSince(sinceMs: number, timeoutMs?: number): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function config(jobs: readonly ScrapeJob[]): string {
  const lines = ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:'];
  for (const job of jobs) {
    lines.push(`  - job_name: ${JSON.stringify(job.name)}`);
    if (job.bearer !== undefined)
      lines.push(
        '    authorization:',
        '      type: Bearer',
        `      credentials: ${JSON.stringify(job.bearer)}`,
      );
    lines.push('    static_configs:', `      - targets: ${JSON.stringify(job.targets)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
  await exited;
  clearTimeout(timer);
}

/** Starts Prometheus scraping `jobs`; throws saying what to install when it is missing. */
export async function startPrometheus(jobs: readonly ScrapeJob[]): Promise<PrometheusServer> {
  if (!installed(PROMETHEUS))
    throw new Error(
      `${PROMETHEUS} is not installed: apt-get install prometheus (or run scripts/setup-test-machine.sh)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'burrow-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), config(jobs));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(
        `prometheus exited (code ${child.exitCode}) before it was ready:\n${logs.join('').slice(-3000)}`,
      );
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within ${START_MS} ms:\n${logs.join('').slice(-3000)}`);
    }
    await sleep(100);
  }

  const query = async (expr: string): Promise<QueryResult[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: QueryResult[] } };
    if (body.status !== 'success' || body.data === undefined)
      throw new Error(`query ${expr} failed (${res.status}): ${body.error ?? 'no data'}`);
    return body.data.result;
  };

  return {
    url,
    query,
    async scrapedSince(sinceMs, timeoutMs = 15_000) {
      const targets = jobs.reduce((n, job) => n + job.targets.length, 0);
      const until = Date.now() + timeoutMs;
      for (;;) {
        // `timestamp(up)` is when each target's last scrape started; `up` 1 means it succeeded.
        const fresh = await query(`timestamp(up == 1) >= ${sinceMs / 1000}`);
        if (fresh.length === targets) return;
        if (Date.now() > until)
          throw new Error(
            `prometheus did not scrape all ${targets} targets after the traffic within ${timeoutMs} ms`,
          );
        await sleep(200);
      }
    },
    output: () => logs.join(''),
    stop,
  };
}
