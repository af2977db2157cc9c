/**
 * Viewer-side protections at the edge, with real processes: open connections and requests
 * per second per client address, and the phishing warning page for anonymous tunnels.
 */

import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  createApiKey,
  startAgent,
  startEdge,
  stopAll,
  tunnelRequest,
  type Agent,
  type Edge,
} from './harness.js';
import { launchChromium } from './test-support/chromium.js';

const APP_PAGE = '<!doctype html><html><head><title>the app</title></head><body>app</body></html>';
const origin = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'X-Origin-Url': req.url ?? '' });
  res.end(APP_PAGE);
});
const wss = new WebSocketServer({ server: origin });
wss.on('connection', (ws) => ws.on('message', (d) => ws.send(Buffer.from(d as Buffer).toString())));
let originPort: number;

beforeAll(async () => {
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
});

afterAll(async () => {
  await stopAll();
  wss.close();
  origin.closeAllConnections();
  origin.close();
});

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes (or `ms` passes). */
function readUntilClose(socket: Socket, ms = 5_000): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(text), ms);
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

describe('limits.connectionsPerIp', () => {
  it('refuses the connection over the limit with a readable 429 and admits again once one closes', async () => {
    // No agent: its own connection would count against the same loopback address.
    const edge = await startEdge({ env: { BURROW_LIMITS_CONNECTIONS_PER_IP: '5' } });
    const idle: Socket[] = [];
    for (let i = 0; i < 5; i++) idle.push(await openSocket(edge.port));
    const sixth = await openSocket(edge.port);
    sixth.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const refused = await readUntilClose(sixth);
    expect(refused).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused).toContain('X-Burrow-Error: EDGE_TOO_MANY_CONNECTIONS');
    expect(refused).toMatch(/at most 5 open connections from one address/);

    const closed = idle.shift()!;
    closed.destroy();
    // The edge sees the close a moment after we do; poll rather than sleep a fixed time.
    let answer = '';
    for (let i = 0; i < 50; i++) {
      const next = await openSocket(edge.port);
      next.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      answer = await readUntilClose(next);
      if (answer.startsWith('HTTP/1.1 200')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    for (const s of idle) s.destroy();
  });
});

describe('limits.requestsPerSecondPerIp', () => {
  let edge: Edge;
  let agent: Agent;

  beforeAll(async () => {
    edge = await startEdge({ env: { BURROW_LIMITS_REQUESTS_PER_SECOND_PER_IP: '5' } });
    agent = await startAgent(edge, String(originPort));
  });

  it('answers a burst past the rate with 429, Retry-After and a readable body', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => tunnelRequest(edge, agent.name, '/', { headers: { accept: '*/*' } })),
    );
    const limited = responses.filter((r) => r.statusCode === 429);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(responses.filter((r) => r.statusCode === 200).length).toBeGreaterThanOrEqual(1);
    const first = limited[0]!;
    expect(Number(first.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(first.headers['x-burrow-error']).toBe('EDGE_RATE_LIMITED');
    expect(await first.body.text()).toMatch(/5 requests per second from each address/);
    await Promise.all(responses.map((r) => r.body.dump()));
  });

  it('limits WebSocket upgrades too, before they reach the tunnel', async () => {
    for (let i = 0; i < 10; i++) await (await tunnelRequest(edge, agent.name, '/')).body.dump();
    const socket = await openSocket(edge.port);
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${edge.host(agent.name)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const answer = await readUntilClose(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(answer).toMatch(/Retry-After: \d+/);
  });

  it('never limits the edge health endpoints', async () => {
    for (let i = 0; i < 30; i++) {
      const res = await request(`${edge.url}/health/live`);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
  });
});

describe('tunnels.anonymousWarning', () => {
  let edge: Edge;
  let anonymous: Agent;
  let keyed: Agent;
  let guarded: Agent;
  const navigation = {
    accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
  };

  beforeAll(async () => {
    edge = await startEdge({ env: { BURROW_TUNNELS_ANONYMOUS_WARNING: 'true' } });
    anonymous = await startAgent(edge, String(originPort));
    keyed = await startAgent(edge, String(originPort), { token: await createApiKey(edge.dataDir) });
    guarded = await startAgent(edge, String(originPort), { args: ['--basic-auth', 'owner:pass-word'] });
  }, 30_000);

  const isApp = async (res: { statusCode: number; body: { text(): Promise<string> } }): Promise<void> => {
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe(APP_PAGE);
  };

  it('lets curl-like and API requests through', async () => {
    await isApp(await tunnelRequest(edge, anonymous.name, '/', { headers: { accept: '*/*' } }));
    await isApp(
      await tunnelRequest(edge, anonymous.name, '/api', { headers: { accept: 'application/json' } }),
    );
    await isApp(
      await tunnelRequest(edge, anonymous.name, '/hook', { method: 'POST', headers: navigation, body: 'x' }),
    );
  });

  it('shows a browser navigation the warning page, and Continue sets the cookie and returns', async () => {
    const page = await tunnelRequest(edge, anonymous.name, '/page?x=1', { headers: navigation });
    expect(page.statusCode).toBe(200);
    expect(page.headers['x-burrow-warning']).toBe('anonymous-tunnel');
    expect(page.headers['x-frame-options']).toBe('DENY');
    const html = await page.body.text();
    expect(html).toContain(`You are about to visit <strong>${edge.host(anonymous.name)}</strong>`);
    expect(html).toContain('served through a Burrow tunnel by an anonymous user');
    const action = /action="([^"]+)"/.exec(html)![1]!.replace(/&#38;/g, '&');
    expect(action).toBe('/_burrow/continue?to=%2Fpage%3Fx%3D1');

    const cont = await tunnelRequest(edge, anonymous.name, action, {
      method: 'POST',
      headers: {
        ...navigation,
        origin: `http://${edge.host(anonymous.name)}`,
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(cont.statusCode).toBe(303);
    expect(cont.headers.location).toBe('/page?x=1');
    const setCookie = String(cont.headers['set-cookie']);
    expect(setCookie).toMatch(/^burrow_warning_ok=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    await cont.body.dump();
    const cookie = setCookie.split(';')[0]!;

    const after = await tunnelRequest(edge, anonymous.name, '/page?x=1', {
      headers: { ...navigation, cookie },
    });
    expect(after.headers['x-origin-url']).toBe('/page?x=1');
    await isApp(after);
  });

  it("signs the cookie per tunnel: another tunnel's cookie, or a made-up one, still gets the warning", async () => {
    const other = await startAgent(edge, String(originPort));
    const cont = await tunnelRequest(edge, other.name, '/_burrow/continue?to=%2F', { method: 'POST' });
    expect(cont.statusCode).toBe(303);
    const otherCookie = String(cont.headers['set-cookie']).split(';')[0]!;
    await cont.body.dump();
    for (const cookie of [otherCookie, 'burrow_warning_ok=1']) {
      const page = await tunnelRequest(edge, anonymous.name, '/', { headers: { ...navigation, cookie } });
      expect(page.headers['x-burrow-warning'], cookie).toBe('anonymous-tunnel');
      await page.body.dump();
    }
    await isApp(
      await tunnelRequest(edge, other.name, '/', { headers: { ...navigation, cookie: otherCookie } }),
    );
  });

  it('refuses a cross-site Continue and an open redirect to another host', async () => {
    const cross = await tunnelRequest(edge, anonymous.name, '/_burrow/continue?to=%2F', {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(cross.headers['set-cookie']).toBeUndefined();
    expect(await cross.body.text()).toContain('anonymous user');
    const evil = await tunnelRequest(edge, anonymous.name, '/_burrow/continue?to=%2F%2Fevil.example%2F', {
      method: 'POST',
    });
    expect(evil.statusCode).toBe(303);
    expect(evil.headers.location).toBe('/');
    await evil.body.dump();
  });

  it('never shows it to fetch calls, the skip header, keyed or password-protected tunnels, or upgrades', async () => {
    await isApp(
      await tunnelRequest(edge, anonymous.name, '/', {
        headers: { ...navigation, 'sec-fetch-mode': 'cors' },
      }),
    );
    await isApp(
      await tunnelRequest(edge, anonymous.name, '/', {
        headers: { ...navigation, 'burrow-skip-warning': '1' },
      }),
    );
    await isApp(await tunnelRequest(edge, keyed.name, '/', { headers: navigation }));
    const basic = `Basic ${Buffer.from('owner:pass-word').toString('base64')}`;
    await isApp(
      await tunnelRequest(edge, guarded.name, '/', { headers: { ...navigation, authorization: basic } }),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${edge.port}/ws`, {
      headers: { host: edge.host(anonymous.name), accept: 'text/html' },
    });
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hello'));
      ws.once('message', (d) => resolve(Buffer.from(d as Buffer).toString()));
      ws.once('error', reject);
    });
    expect(echoed).toBe('hello');
    ws.close();
  });

  it('keeps path-routed tunnels (/t/<name>/) under their own prefix', async () => {
    const res = await request(`${edge.url}/t/${anonymous.name}/deep`, { headers: navigation });
    const html = await res.body.text();
    expect(html).toContain(
      `action="/t/${anonymous.name}/_burrow/continue?to=%2Ft%2F${anonymous.name}%2Fdeep"`,
    );
    const cont = await request(
      `${edge.url}/t/${anonymous.name}/_burrow/continue?to=%2Ft%2F${anonymous.name}%2Fdeep`,
      {
        method: 'POST',
      },
    );
    expect(cont.headers.location).toBe(`/t/${anonymous.name}/deep`);
    expect(String(cont.headers['set-cookie'])).toContain(`Path=/t/${anonymous.name};`);
    await cont.body.dump();
  });

  // Not skipped when Chromium is missing: .ci/run installs it, and a missing browser must fail.
  it('in Chromium, a navigation shows the page and Continue loads the app', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${anonymous.url}/hello?from=chromium`);
      expect(await page.title()).toContain('Anonymous tunnel');
      // The warning page has the app's own URL, so waiting for the URL would return at once:
      // wait for the app's document instead.
      await page.click('#burrow-continue');
      await page.waitForFunction(() => document.title === 'the app', undefined, { timeout: 15_000 });
      expect(page.url()).toMatch(/\/hello\?from=chromium$/);
      expect(await page.title()).toBe('the app');
      // The cookie holds: the next navigation goes straight to the app.
      await page.goto(`${anonymous.url}/again`);
      expect(await page.title()).toBe('the app');
    } finally {
      await browser.close();
    }
  }, 60_000);
});
