/**
 * @burrow/agent: run Burrow agents in-process. The `burrow` CLI is one user of this API;
 * tests and the benchmark start many agents in one process through it.
 *
 * @example
 *   const agent = startAgent(loadAgentConfig({ env: {}, cwd, tunnel: { target: '3000' } }), { output: silentOutput });
 *   const [tunnel] = await agent.tunnels; // tunnel.url
 *   await agent.close();
 */

export { startAgent, type AgentDependencies, type AgentHandle } from './agent.js';
export {
  createJsonOutput,
  createTextOutput,
  silentOutput,
  type AgentOutput,
  type ConnectedEvent,
  type TextOutputOptions,
  type TextSink,
} from './agent-output.js';
export { Backoff, DEFAULT_BACKOFF, type BackoffPolicy, type RandomSource } from './backoff.js';
export { connectUrl, dialWebSocket, type EdgeDialer, type EdgeDialOptions } from './edge-dialer.js';
export { formatRequestLine, requestEvent, type RequestRecord } from './request-log.js';
export { PolicyRefusedError } from './policy-refusal.js';
export type { RetryInfo } from './reconnect.js';
export type { BoundTunnel } from './tunnel-binder.js';
export { AGENT_NAME, AGENT_SESSION_LIMITS } from './session-client.js';
export * from './config/index.js';
