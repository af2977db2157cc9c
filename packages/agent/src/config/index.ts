/** The agent's configuration: burrow.yml, env and flags merged once at startup into one frozen object. */
export type {
  AdHocTunnel,
  AgentConfig,
  AgentFlags,
  Env,
  LoadAgentConfigOptions,
  LogFormat,
  ReconnectPolicy,
  TunnelSpec,
} from './agent-config.js';
export { LOG_FORMATS } from './agent-config.js';
export { AD_HOC_TUNNEL_ID, AGENT_OVERRIDES, loadAgentConfig } from './load-agent-config.js';
export { parseTarget } from './target.js';
