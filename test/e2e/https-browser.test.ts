/// <reference lib="dom" />
/**
 * Chromium (playwright-core) on a tunnel over HTTPS: the page over HTTP/2, and its WebSocket
 * as a stream of that same connection (RFC 8441 extended CONNECT), not a second HTTP/1.1 one.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stopAll } from './harness.js';
import { HTTPS_DOMAIN, startHttpsTunnel, type HttpsTunnel } from './https-fixture.js';
import { launchChromium } from './test-support/chromium.js';

const PAGE = `<!doctype html><html><head><title>burrow https test</title></head><body>
<p id="status">loading</p><p id="closed"></p>
<script>
  const ws = new WebSocket('wss://' + location.host + '/ws', ['chat']);
  ws.onopen = () => ws.send('ping over tls');
  ws.onmessage = (e) => {
    document.getElementById('status').textContent = 'echo: ' + e.data + ' (' + ws.protocol + ')';
    ws.close(4001, 'done');
  };
  ws.onclose = (e) => { document.getElementById('closed').textContent = e.code + ' ' + e.wasClean; };
</script></body></html>`;

const RESOLVE = `--host-resolver-rules=MAP *.${HTTPS_DOMAIN} 127.0.0.1`;

let tunnel: HttpsTunnel;
let browser: Browser | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'burrow-netlog-'));

beforeAll(async () => {
  tunnel = await startHttpsTunnel((_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAll();
  tunnel?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * The application protocol (ALPN) of every TLS connection Chromium completed to `port`, from
 * its NetLog: each SSL_CONNECT that ended with a `next_proto`, on a socket whose TCP_CONNECT
 * reached that port.
 */
function tlsConnectionsTo(netLogFile: string, port: number): string[] {
  interface NetLogEvent {
    type: number;
    source: { id: number };
    params?: { remote_address?: string; next_proto?: string };
  }
  const log = JSON.parse(readFileSync(netLogFile, 'utf8')) as {
    constants: { logEventTypes: Record<string, number> };
    events: NetLogEvent[];
  };
  const { TCP_CONNECT, SSL_CONNECT } = log.constants.logEventTypes;
  const remote = new Map<number, string>();
  const protocols: string[] = [];
  for (const event of log.events) {
    const address = event.params?.remote_address;
    if (event.type === TCP_CONNECT && address !== undefined) remote.set(event.source.id, address);
    const protocol = event.params?.next_proto;
    if (
      event.type === SSL_CONNECT &&
      protocol !== undefined &&
      remote.get(event.source.id) === `127.0.0.1:${port}`
    )
      protocols.push(protocol);
  }
  return protocols;
}

it('loads the tunnel over HTTP/2 and runs its WebSocket on the same connection (extended CONNECT)', async () => {
  const netLog = join(scratch, 'netlog.json');
  const own = await launchChromium([RESOLVE, `--log-net-log=${netLog}`]);
  try {
    // The test CA is not in Chromium's store; the chain itself is checked by the curl tests.
    const context = await own.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    // Chromium's own account of the handshake: 101 for HTTP/1.1, 200 for an HTTP/2 stream.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const handshakes: number[] = [];
    cdp.on('Network.webSocketHandshakeResponseReceived', (event) => handshakes.push(event.response.status));
    const response = await page.goto(tunnel.printedUrl);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('burrow https test');
    const protocol = await page.evaluate(
      () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol,
    );
    expect(protocol).toBe('h2');
    await page.waitForFunction(() => document.getElementById('closed')?.textContent !== '', undefined, {
      timeout: 10_000,
    });
    expect(await page.textContent('#status')).toBe('echo: ping over tls (chat)');
    // The close code went to the origin and back; the stream ended cleanly.
    expect(await page.textContent('#closed')).toBe('4001 true');
    expect(handshakes).toEqual([200]);
    await context.close();
  } finally {
    await own.close();
  }
  // Written whole when the browser closed: one TLS connection, h2, and no HTTP/1.1 one beside it.
  expect(tlsConnectionsTo(netLog, tunnel.httpsPort)).toEqual(['h2']);
});

it('shows the error page over HTTP/2 for a tunnel that does not exist', async () => {
  browser = await launchChromium([RESOLVE]);
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const response = await page.goto(`https://nosuchtunnel.${HTTPS_DOMAIN}:${tunnel.httpsPort}/`);
  expect(response?.status()).toBe(404);
  expect(await page.textContent('h1')).toBe('Tunnel not found');
  await context.close();
});
