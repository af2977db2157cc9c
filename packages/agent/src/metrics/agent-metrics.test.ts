import type { Session } from '@burrow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePromText, sampleValue } from '../../../../test/support/prometheus-text.js';
import type { RequestRecord } from '../request-log.js';
import { AgentMetrics } from './agent-metrics.js';
import { AgentMetricsListener } from './metrics-listener.js';

function record(
  status: number | null,
  error: RequestRecord['error'] = null,
  durationMs = 20,
  upgrade = false,
): RequestRecord {
  return {
    upgrade,
    tunnel: 'web',
    method: 'GET',
    path: '/',
    status,
    error,
    durationMs,
    originMs: null,
    requestId: 'r',
  };
}

/** The three things the metrics read from a session. */
function session(state: { isClosed: boolean; rttMs: number | null; streamCount: number }): Session {
  return state as unknown as Session;
}

async function scrape(metrics: AgentMetrics) {
  return parsePromText((await metrics.render()).body);
}

let listener: AgentMetricsListener | null = null;
afterEach(async () => {
  await listener?.close();
  listener = null;
});

describe('agent metrics', () => {
  it('counts requests by status class, origin errors by code, and times the exchange', async () => {
    const metrics = new AgentMetrics('http://edge.test');
    for (let i = 0; i < 3; i++) metrics.request(record(200));
    metrics.request(record(404));
    metrics.request(record(null, 'TUN_ERR_ORIGIN_REFUSED', 2));
    metrics.request(record(null, 'TUN_ERR_ORIGIN_TIMEOUT', 60_000));
    const s = await scrape(metrics);
    expect(sampleValue(s, 'burrow_agent_requests_total', { status_class: '2xx' })).toBe(3);
    expect(sampleValue(s, 'burrow_agent_requests_total', { status_class: '4xx' })).toBe(1);
    expect(sampleValue(s, 'burrow_agent_requests_total', { status_class: 'none' })).toBe(2);
    expect(sampleValue(s, 'burrow_agent_origin_errors_total', { code: 'TUN_ERR_ORIGIN_REFUSED' })).toBe(1);
    expect(sampleValue(s, 'burrow_agent_origin_errors_total', { code: 'TUN_ERR_ORIGIN_TIMEOUT' })).toBe(1);
    expect(sampleValue(s, 'burrow_agent_origin_duration_seconds_count')).toBe(6);
    expect(sampleValue(s, 'burrow_agent_origin_duration_seconds_bucket', { le: '0.0025' })).toBe(1);
    expect(sampleValue(s, 'burrow_agent_origin_duration_seconds_bucket', { le: '0.025' })).toBe(5);
  });

  it('counts only origin failures as origin errors, and leaves upgrades out of the origin time', async () => {
    const metrics = new AgentMetrics('http://edge.test');
    metrics.request(record(null, 'TUN_ERR_STREAM_CANCELLED'));
    metrics.request(record(null, 'TUN_ERR_SESSION_CLOSED'));
    metrics.request(record(null, 'TUN_ERR_ORIGIN_ERROR'));
    // A WebSocket open for ten minutes: its duration is the socket's life, not the origin's time.
    metrics.request(record(101, null, 600_000, true));
    metrics.request(record(null, 'TUN_ERR_STREAM_CANCELLED', 300_000, true));
    const s = await scrape(metrics);
    expect(s.filter((x) => x.name === 'burrow_agent_origin_errors_total')).toEqual([
      expect.objectContaining({ labels: { code: 'TUN_ERR_ORIGIN_ERROR' }, value: 1 }),
    ]);
    expect(sampleValue(s, 'burrow_agent_requests_total', { status_class: 'none' })).toBe(4);
    expect(sampleValue(s, 'burrow_agent_requests_total', { status_class: '1xx' })).toBe(1);
    expect(sampleValue(s, 'burrow_agent_origin_duration_seconds_count')).toBe(3);
    expect(sampleValue(s, 'burrow_agent_origin_duration_seconds_bucket', { le: '60' })).toBe(3);
  });

  it('counts reconnects, not the first connection, and reads RTT and streams at scrape time', async () => {
    const metrics = new AgentMetrics('http://edge.test');
    let s = await scrape(metrics);
    expect(sampleValue(s, 'burrow_agent_connected')).toBe(0);
    expect(s.filter((x) => x.name === 'burrow_agent_session_rtt_seconds')).toEqual([]);
    const first = { isClosed: false, rttMs: null as number | null, streamCount: 2 };
    metrics.connected(session(first), false);
    s = await scrape(metrics);
    expect(sampleValue(s, 'burrow_agent_reconnects_total')).toBe(0);
    expect(sampleValue(s, 'burrow_agent_connected')).toBe(1);
    expect(sampleValue(s, 'burrow_agent_active_streams')).toBe(2);
    expect(s.filter((x) => x.name === 'burrow_agent_session_rtt_seconds')).toEqual([]);
    first.rttMs = 250;
    expect(
      sampleValue(await scrape(metrics), 'burrow_agent_session_rtt_seconds', { server: 'http://edge.test' }),
    ).toBe(0.25);
    first.isClosed = true;
    expect(sampleValue(await scrape(metrics), 'burrow_agent_connected')).toBe(0);
    metrics.connected(session({ isClosed: false, rttMs: 3, streamCount: 0 }), true);
    s = await scrape(metrics);
    expect(sampleValue(s, 'burrow_agent_reconnects_total')).toBe(1);
    expect(sampleValue(s, 'burrow_agent_session_rtt_seconds', { server: 'http://edge.test' })).toBe(0.003);
    expect(sampleValue(s, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('serves /metrics on its listener and 404 elsewhere', async () => {
    const metrics = new AgentMetrics('http://edge.test');
    metrics.request(record(200));
    listener = await AgentMetricsListener.start({
      host: '127.0.0.1',
      port: 0,
      render: () => metrics.render(),
    });
    expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(listener.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(
      sampleValue(parsePromText(await res.text()), 'burrow_agent_requests_total', { status_class: '2xx' }),
    ).toBe(1);
    expect((await fetch(listener.url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(listener.url, { method: 'POST' })).status).toBe(405);
  });
});
