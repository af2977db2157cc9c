/** The set-up most e2e suites share: the test origin behind a real edge and agent. */

import { expect } from 'vitest';
import { startAgent, startEdge, startOrigin, tunnelRequest, type Agent, type Edge } from './harness.js';
import { originHandler } from './origin.js';

/** Starts the test origin, an edge (with `options`) and an anonymous agent tunnelling to it. */
export async function startTunnel(
  options: Parameters<typeof startEdge>[0] = {},
): Promise<{ edge: Edge; agent: Agent }> {
  const origin = await startOrigin(originHandler);
  const edge = await startEdge(options);
  const agent = await startAgent(edge, String(origin.port));
  return { edge, agent };
}

/** Asserts the tunnel still answers: what every "and nothing else broke" check needs. */
export async function expectServing(edge: Edge, agent: Agent): Promise<void> {
  const res = await tunnelRequest(edge, agent.name, '/echo?still=serving');
  expect(res.statusCode).toBe(200);
  await res.body.dump();
}
