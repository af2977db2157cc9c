/**
 * Metrics as operators see them: a real edge (`--metrics-listen`) and a real `burrow http`
 * agent (`--metrics-listen`) in front of the test origin, scraped by Debian's real Prometheus
 * every second; after known traffic its HTTP API must answer exactly those counts. The
 * agent's listener is read with fetch too, and the edge's host serves /metrics to admin keys.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePromText, sampleValue, samplesOf } from '../support/prometheus-text.js';
import {
  createApiKey,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  type Edge,
} from './harness.js';
import { originHandler } from './origin.js';
import { startPrometheus, type PrometheusServer } from './support/prometheus.js';

let prometheus: PrometheusServer | null = null;

afterEach(async () => {
  await prometheus?.stop();
  prometheus = null;
  await stopAll();
});

async function edgeMetricsPort(edge: Edge): Promise<number> {
  return edge.proc.waitFor(
    () => edge.proc.json.find((l) => typeof l.metricsPort === 'number')?.metricsPort as number | undefined,
    5_000,
    'the edge to report its metrics port',
  );
}

async function scrape(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  expect(res.status).toBe(200);
  return parsePromText(await res.text());
}

/** Waits (bounded) until the edge has recorded `total` requests; more than that fails at once. */
async function recorded(url: string, total: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const seen = samplesOf(await scrape(url), 'burrow_requests_total').reduce((n, s) => n + s.value, 0);
    if (seen > total) throw new Error(`the edge counted ${seen} requests, more than the ${total} sent`);
    if (seen === total) return;
    await sleep(100);
  }
  throw new Error(`the edge did not count ${total} requests within 5 s`);
}

function valueOf(results: { metric: Record<string, string>; value: [number, string] }[]): number[] {
  return results.map((r) => Number(r.value[1]));
}

describe('Prometheus metrics', () => {
  it('Prometheus reads exactly the requests sent through a real agent, by status class', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ args: ['--metrics-listen', '127.0.0.1:0'] });
    const edgeTarget = `127.0.0.1:${await edgeMetricsPort(edge)}`;
    const agent = await startAgent(edge, String(origin.port), { args: ['--metrics-listen', '127.0.0.1:0'] });
    const agentUrl = await agent.proc.waitFor(
      () => agent.proc.json.find((l) => l.event === 'metrics')?.url as string | undefined,
      5_000,
      'the agent to report its metrics URL',
    );
    prometheus = await startPrometheus([
      { name: 'burrow-edge', targets: [edgeTarget] },
      { name: 'burrow-agent', targets: [new URL(agentUrl).host] },
    ]);

    for (let i = 0; i < 37; i++) {
      const res = await tunnelRequest(edge, agent.name, `/echo?i=${i}`);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    for (let i = 0; i < 5; i++) {
      const res = await tunnelRequest(edge, agent.name, `/no-such-page-${i}`);
      expect(res.statusCode).toBe(404);
      await res.body.dump();
    }
    await recorded(`http://${edgeTarget}/metrics`, 42);
    await prometheus.scrapedSince(Date.now());

    // A temporary (anonymous) tunnel has no label of its own: it is _other.
    const ok = await prometheus.query('burrow_requests_total{job="burrow-edge",status_class="2xx"}');
    expect(ok.map((r) => r.metric.tunnel)).toEqual(['_other']);
    expect(valueOf(ok)).toEqual([37]);
    expect(valueOf(await prometheus.query('burrow_requests_total{status_class="4xx"}'))).toEqual([5]);
    expect(valueOf(await prometheus.query('sum(burrow_requests_total)'))).toEqual([42]);
    expect(valueOf(await prometheus.query('sum(burrow_request_duration_seconds_count)'))).toEqual([42]);
    expect(valueOf(await prometheus.query('burrow_sessions'))).toEqual([1]);
    expect(valueOf(await prometheus.query('burrow_tunnels'))).toEqual([1]);
    expect(valueOf(await prometheus.query('burrow_agent_requests_total{status_class="2xx"}'))).toEqual([37]);
    expect(valueOf(await prometheus.query('burrow_agent_requests_total{status_class="4xx"}'))).toEqual([5]);
    expect(valueOf(await prometheus.query('burrow_agent_connected'))).toEqual([1]);

    // The agent's own listener, read directly.
    const agentSamples = await scrape(agentUrl);
    expect(sampleValue(agentSamples, 'burrow_agent_requests_total', { status_class: '2xx' })).toBe(37);
    expect(sampleValue(agentSamples, 'burrow_agent_origin_duration_seconds_count')).toBe(42);
    expect(sampleValue(agentSamples, 'burrow_agent_reconnects_total')).toBe(0);
    expect((await fetch(agentUrl.replace('/metrics', '/'))).status).toBe(404);
  });

  it("labels a named tunnel by its name, on the edge's host for an admin key", async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const token = await createApiKey(edge.dataDir);
    const admin = await createApiKey(edge.dataDir, undefined, 'agent,api,admin');
    const agent = await startAgent(edge, String(origin.port), { name: 'shop', token });
    for (let i = 0; i < 3; i++) {
      const res = await tunnelRequest(edge, agent.name, '/echo');
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    const url = `${edge.url}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
    let samples = await scrape(url, { headers: { authorization: `Bearer ${admin}` } });
    for (
      let i = 0;
      i < 50 && sampleValue(samples, 'burrow_requests_total', { status_class: '2xx', tunnel: 'shop' }) !== 3;
      i++
    ) {
      await sleep(100);
      samples = await scrape(url, { headers: { authorization: `Bearer ${admin}` } });
    }
    expect(sampleValue(samples, 'burrow_requests_total', { status_class: '2xx', tunnel: 'shop' })).toBe(3);
    expect(samplesOf(samples, 'burrow_requests_total').filter((s) => s.labels.tunnel === '_other')).toEqual(
      [],
    );
  });
});
