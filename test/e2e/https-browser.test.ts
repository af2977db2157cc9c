/// <reference lib="dom" />
/** Chromium (playwright-core) on a tunnel over HTTPS: the page over HTTP/2, a WebSocket over wss. */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stopAll } from './harness.js';
import { HTTPS_DOMAIN, startHttpsTunnel, type HttpsTunnel } from './https-fixture.js';
import { launchChromium } from './test-support/chromium.js';

const PAGE = `<!doctype html><html><head><title>burrow https test</title></head><body>
<p id="status">loading</p>
<script>
  const ws = new WebSocket('wss://' + location.host + '/ws');
  ws.onopen = () => ws.send('ping over tls');
  ws.onmessage = (e) => { document.getElementById('status').textContent = 'echo: ' + e.data; };
</script></body></html>`;

let tunnel: HttpsTunnel;
let browser: Browser;

beforeAll(async () => {
  tunnel = await startHttpsTunnel((_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  browser = await launchChromium([`--host-resolver-rules=MAP *.${HTTPS_DOMAIN} 127.0.0.1`]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAll();
  tunnel?.stop();
});

it('loads the tunnel over HTTP/2 and talks WebSocket over wss', async () => {
  // The test CA is not in Chromium's store; the chain itself is checked by the curl tests.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const response = await page.goto(tunnel.printedUrl);
  expect(response?.status()).toBe(200);
  expect(await page.title()).toBe('burrow https test');
  const protocol = await page.evaluate(
    () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol,
  );
  expect(protocol).toBe('h2');
  await page.waitForFunction(
    () => document.getElementById('status')?.textContent?.startsWith('echo:'),
    undefined,
    {
      timeout: 10_000,
    },
  );
  expect(await page.textContent('#status')).toBe('echo: ping over tls');
  await context.close();
});

it('shows the error page over HTTP/2 for a tunnel that does not exist', async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const response = await page.goto(`https://nosuchtunnel.${HTTPS_DOMAIN}:${tunnel.httpsPort}/`);
  expect(response?.status()).toBe(404);
  expect(await page.textContent('h1')).toBe('Tunnel not found');
  await context.close();
});
