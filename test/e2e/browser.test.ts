/// <reference lib="dom" />
/** A real browser (Debian's Chromium through playwright-core) on a tunnel URL, WebSocket included. */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { startAgent, startEdge, stopAll, type Agent, type Edge } from './harness.js';
import { launchChromium } from './test-support/chromium.js';

const PAGE = `<!doctype html><html><head><title>burrow browser test</title></head><body>
<p id="status">loading</p>
<script>
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.onopen = () => ws.send('ping from the page');
  ws.onmessage = (e) => { document.getElementById('status').textContent = 'echo: ' + e.data + ' cookie: ' + document.cookie; };
</script></body></html>`;

let edge: Edge;
let agent: Agent;
let browser: Browser;
const origin = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Set-Cookie': 'seen=yes; Path=/' });
  res.end(PAGE);
});
const wss = new WebSocketServer({ server: origin });
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(Buffer.from(data as Buffer).toString())));

beforeAll(async () => {
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  edge = await startEdge();
  agent = await startAgent(edge, String((origin.address() as AddressInfo).port));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAll();
  wss.close();
  origin.closeAllConnections();
  origin.close();
});

it('loads the tunnel URL in Chromium and talks WebSocket through it', async () => {
  const page = await browser.newPage();
  const response = await page.goto(agent.url);
  expect(response?.status()).toBe(200);
  expect(await page.title()).toBe('burrow browser test');
  await page.waitForFunction(
    () => document.getElementById('status')?.textContent?.startsWith('echo:'),
    undefined,
    {
      timeout: 10_000,
    },
  );
  expect(await page.textContent('#status')).toBe('echo: ping from the page cookie: seen=yes');
  await page.close();
});

it('shows a readable error page for a tunnel that does not exist', async () => {
  const page = await browser.newPage();
  const response = await page.goto(`http://nosuchtunnel.localhost:${edge.port}/`);
  expect(response?.status()).toBe(404);
  expect(await page.textContent('h1')).toBe('Tunnel not found');
  expect(await page.textContent('body')).toContain(`nosuchtunnel.localhost:${edge.port}`);
  await page.close();
});
