import { TunnelError } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import { createJsonOutput, createTextOutput } from './agent-output.js';
import { formatRequestLine, redactTokenParam, type RequestRecord } from './request-log.js';

function sinks() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
  };
}

const tunnel = {
  id: 'default',
  name: 'k3xnz3',
  url: 'http://k3xnz3.localhost:8080',
  origin: 'http://127.0.0.1:3000',
  access: [],
};

const ok: RequestRecord = {
  tunnel: 'k3xnz3',
  method: 'GET',
  path: '/path?q=1',
  status: 200,
  error: null,
  durationMs: 12,
  upgrade: false,
  originMs: 9.5,
  requestId: 'req-7',
};

describe('text output', () => {
  it('puts the URL alone on stdout and status lines on stderr', () => {
    const { out, stdout, stderr } = sinks();
    const output = createTextOutput({ stdout, stderr });
    output.connecting(new URL('http://localhost:8080'));
    output.connected({ sessionId: 's1', reconnected: false });
    output.tunnel(tunnel);
    output.request(ok);
    output.request({
      ...ok,
      method: 'POST',
      path: '/hook',
      status: null,
      error: 'TUN_ERR_ORIGIN_REFUSED',
      durationMs: 3,
    });
    expect(out.stdout).toBe(
      'http://k3xnz3.localhost:8080\nGET /path?q=1 200 12ms\nPOST /hook TUN_ERR_ORIGIN_REFUSED 3ms\n',
    );
    expect(out.stderr).toBe(
      'burrow: connecting to http://localhost:8080\n' +
        'burrow: connected (session s1)\n' +
        'burrow: tunnel default forwards to http://127.0.0.1:3000, public URL:\n',
    );
  });

  it('says why and when it reconnects, and how a graceful stop waits', () => {
    const { out, stdout, stderr } = sinks();
    const output = createTextOutput({ stdout, stderr });
    const refused = new TunnelError(
      'TUN_ERR_CONNECT_FAILED',
      'connection refused by the edge at localhost:8080',
    );
    output.reconnecting({ attempt: 3, delayMs: 1600, reason: refused });
    output.reconnecting({
      attempt: 1,
      delayMs: 0,
      reason: new TunnelError('TUN_ERR_GOING_AWAY', 'the edge is restarting'),
    });
    output.connected({ sessionId: 's2', reconnected: true });
    output.stopping(2, 10_000);
    output.error(
      new TunnelError('TUN_ERR_UNAUTHORIZED'),
      'the edge rejected the API key (TUN_ERR_UNAUTHORIZED).',
    );
    expect(out.stdout).toBe('');
    expect(out.stderr.split('\n')).toEqual([
      'burrow: reconnecting in 1.6s because connection refused by the edge at localhost:8080 (attempt 3)',
      'burrow: reconnecting now because the edge is restarting (attempt 1)',
      'burrow: reconnected (session s2)',
      'burrow: stopping; waiting up to 10s for 2 requests in flight',
      'burrow: the edge rejected the API key (TUN_ERR_UNAUTHORIZED).',
      '',
    ]);
  });

  it('adds the advice it is given for a retried failure, with its code', () => {
    const { out, stdout, stderr } = sinks();
    const output = createTextOutput({
      stdout,
      stderr,
      advise: (err) => (err.code === 'TUN_ERR_EDGE_TLS' ? 'Pass --ca FILE.' : undefined),
    });
    const untrusted = new TunnelError(
      'TUN_ERR_EDGE_TLS',
      'the certificate of the edge at e:443 failed verification',
    );
    output.reconnecting({ attempt: 2, delayMs: 400, reason: untrusted });
    output.reconnecting({
      attempt: 3,
      delayMs: 800,
      reason: new TunnelError('TUN_ERR_CONNECT_FAILED', 'refused'),
    });
    expect(out.stderr.split('\n')).toEqual([
      'burrow: reconnecting in 0.4s because the certificate of the edge at e:443 failed verification (TUN_ERR_EDGE_TLS, attempt 2). Pass --ca FILE.',
      'burrow: reconnecting in 0.8s because refused (attempt 3)',
      '',
    ]);
  });

  it('colours the status only when asked to, and escapes control characters in paths', () => {
    expect(formatRequestLine(ok, { color: true })).toBe('GET /path?q=1 \u001b[32m200\u001b[0m 12ms');
    expect(formatRequestLine({ ...ok, path: '/a\u001b[2Jb' }, { color: false })).toBe(
      'GET /a\\x1b[2Jb 200 12ms',
    );
  });
});

describe('access settings and secrets', () => {
  it('prints a tunnel access summary on stderr before its URL, and in the JSON tunnel event', () => {
    const { out, stdout, stderr } = sinks();
    const access = ['basic auth (alice)', 'Host header 127.0.0.1:3000'];
    createTextOutput({ stdout, stderr }).tunnel({ ...tunnel, access });
    expect(out.stderr).toBe(
      'burrow: tunnel default: basic auth (alice), Host header 127.0.0.1:3000\n' +
        'burrow: tunnel default forwards to http://127.0.0.1:3000, public URL:\n',
    );
    expect(out.stdout).toBe('http://k3xnz3.localhost:8080\n');
    const json = sinks();
    createJsonOutput({ stdout: json.stdout }).tunnel({ ...tunnel, access });
    expect(JSON.parse(json.out.stdout)).toMatchObject({ event: 'tunnel', access });
  });

  it('shows the burrow_token query parameter as ***, wherever it sits', () => {
    expect(redactTokenParam('/?burrow_token=abc')).toBe('/?burrow_token=***');
    expect(redactTokenParam('/p?a=1&burrow_token=abc&b=2#x')).toBe('/p?a=1&burrow_token=***&b=2#x');
    expect(redactTokenParam('/p?burrow_token=a&burrow_token=b')).toBe('/p?burrow_token=***&burrow_token=***');
    expect(redactTokenParam('/p?my_burrow_token=abc')).toBe('/p?my_burrow_token=abc');
  });
});

describe('json output', () => {
  it('writes one JSON object per line on stdout only', () => {
    const { out, stdout } = sinks();
    const output = createJsonOutput({ stdout });
    output.connecting(new URL('http://localhost:8080'));
    output.connected({ sessionId: 's1', reconnected: false });
    output.tunnel(tunnel);
    output.request(ok);
    output.request({ ...ok, status: null, error: 'TUN_ERR_ORIGIN_TIMEOUT', originMs: null });
    output.reconnecting({
      attempt: 2,
      delayMs: 400,
      reason: new TunnelError('TUN_ERR_SESSION_CLOSED', 'lost'),
    });
    output.error(new TunnelError('TUN_ERR_NAME_TAKEN', 'taken'), 'ignored explanation');
    const events = out.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toEqual([
      { event: 'connected', sessionId: 's1', reconnected: false },
      {
        event: 'tunnel',
        tunnel: 'default',
        name: 'k3xnz3',
        url: 'http://k3xnz3.localhost:8080',
        origin: 'http://127.0.0.1:3000',
      },
      {
        event: 'request',
        tunnel: 'k3xnz3',
        method: 'GET',
        path: '/path?q=1',
        status: 200,
        durationMs: 12,
        timing: { originMs: 9.5, totalMs: 12 },
        requestId: 'req-7',
      },
      {
        event: 'request',
        tunnel: 'k3xnz3',
        method: 'GET',
        path: '/path?q=1',
        status: null,
        error: 'TUN_ERR_ORIGIN_TIMEOUT',
        durationMs: 12,
        timing: { originMs: null, totalMs: 12 },
        requestId: 'req-7',
      },
      { event: 'reconnecting', attempt: 2, delayMs: 400, reason: 'lost', code: 'TUN_ERR_SESSION_CLOSED' },
      { event: 'error', code: 'TUN_ERR_NAME_TAKEN', message: 'taken' },
    ]);
  });
});
