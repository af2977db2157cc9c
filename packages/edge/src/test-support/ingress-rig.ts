/**
 * The edge's data path in-process: a loopback HTTP server with the real ingress, and the
 * gateway rig's real AgentSessions, store, registry and policy book behind it. The registry
 * and the policy book ingress reads are wrapped in counters, so tests can see how often a
 * request looks anything up. Agents are FakeAgents over the memory transport. Test-only.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { realTimers } from '@burrow/protocol';
import { startRig, type Rig } from '../gateway/test-support/gateway-rig.js';
import { WarningCookies } from '../ingress/anonymous-warning.js';
import { attachIngress, type IngressOptions } from '../ingress/ingress.js';
import type { PolicySource } from '../ingress/tunnel-request.js';
import type { RecordOptions } from '../ingress/exchange-record.js';
import type { RequestObserver } from '../observe/request-observer.js';
import type { Registry } from '../registry/registry.js';
import { FakeAgent } from './fake-agent.js';

export const RIG_DOMAIN = 'burrow.test';

/** How often ingress asked the registry and the policy book. */
export interface LookupCounts {
  registry: number;
  policies: number;
}

function countingRegistry(inner: Registry, counts: LookupCounts): Registry {
  return {
    lookup: (name) => {
      counts.registry++;
      return inner.lookup(name);
    },
    bind: (name, target) => inner.bind(name, target),
    unbind: (name, target, graceUntil) => inner.unbind(name, target, graceUntil),
    expect: (name, graceUntil) => inner.expect(name, graceUntil),
    graceUntil: (name) => inner.graceUntil(name),
    waitFor: (name, timeoutMs, signal) => inner.waitFor(name, timeoutMs, signal),
    names: () => inner.names(),
    get waiting() {
      return inner.waiting;
    },
  };
}

function countingPolicies(inner: PolicySource, counts: LookupCounts): PolicySource {
  return {
    get: (name) => {
      counts.policies++;
      return inner.get(name);
    },
  };
}

export interface IngressRigOptions {
  anonymousWarning?: boolean;
  requestTimeoutMs?: number;
  bodyIdleMs?: number;
  responseIdleMs?: number;
  /** Hears each request's record. */
  observer?: RequestObserver;
  recordOptions?: RecordOptions;
  /** The ingress's own limits; default 8 KiB targets, 100 header fields, no per-address limits. */
  limits?: Partial<
    Pick<IngressOptions, 'maxUrlBytes' | 'maxHeaderCount' | 'connectionsPerIp' | 'requestsPerSecondPerIp'>
  >;
}

export interface RigResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface IngressRig {
  readonly gateway: Rig;
  readonly port: number;
  readonly counts: LookupCounts;
  readonly errors: unknown[];
  /** A FakeAgent with a finished handshake and one tunnel bound (anonymous: a random name, unless a token is given). */
  agent(options?: {
    name?: string;
    policy?: Record<string, unknown>;
    token?: string;
  }): Promise<{ agent: FakeAgent; name: string }>;
  /** One request on a fresh connection, Host `<name>.burrow.test` unless `host` is given. */
  send(
    name: string,
    options?: {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
      host?: string;
    },
  ): Promise<RigResponse>;
  close(): Promise<void>;
}

export async function startIngressRig(options: IngressRigOptions = {}): Promise<IngressRig> {
  const gateway = await startRig();
  const counts: LookupCounts = { registry: 0, policies: 0 };
  const errors: unknown[] = [];
  const server: Server = createServer({ requireHostHeader: false });
  attachIngress(server, {
    domain: RIG_DOMAIN,
    maxUrlBytes: 8192,
    maxHeaderCount: 100,
    ...options.limits,
    onError: (err) => errors.push(err),
    proxy: {
      registry: countingRegistry(gateway.registry, counts),
      policies: countingPolicies(gateway.deps.policies, counts),
      timers: realTimers,
      tunnelExists: async (name) => (await gateway.store.getTunnel(name)) !== undefined,
      maxPendingRequests: 100,
      proto: 'http',
      hsts: null,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
      bodyIdleMs: options.bodyIdleMs ?? 5000,
      responseIdleMs: options.responseIdleMs ?? 5000,
      anonymousWarning: options.anonymousWarning ?? false,
      warningCookies: new WarningCookies(randomBytes(32)),
      newRequestId: randomUUID,
      observer: options.observer ?? null,
      recordOptions: options.recordOptions,
    },
    edge: {
      request: (_req, res) => res.writeHead(200).end('edge'),
      upgrade: () => false,
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agents: FakeAgent[] = [];
  return {
    gateway,
    port,
    counts,
    errors,
    async agent(agentOptions = {}) {
      const agent = new FakeAgent((edgeEnd) => gateway.attach(edgeEnd));
      agents.push(agent);
      await agent.hello(agentOptions.token ?? null);
      const ack = await agent.bind(agentOptions.name ?? null, agentOptions.policy ?? null);
      if (!ack.ok) throw new Error(`BIND refused: ${ack.code ?? ''} ${ack.message ?? ''}`);
      return { agent, name: ack.name };
    },
    send(name, request = {}) {
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: request.method ?? 'GET',
            path: request.path ?? '/',
            headers: { host: request.host ?? `${name}.${RIG_DOMAIN}`, ...request.headers },
            agent: false,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString(),
              }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(request.body);
      });
    },
    async close() {
      for (const a of agents) a.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
    },
  };
}
