/** The agent's configuration: burrow.yml, env and flags merged once at startup into one frozen object. */
export type {
  AdHocTunnel,
  AgentConfig,
  AgentFlags,
  Env,
  HostHeader,
  LoadAgentConfigOptions,
  LogFormat,
  OriginTls,
  OtlpSettings,
  ReconnectPolicy,
  TunnelPolicy,
  TunnelSpec,
} from './agent-config.js';
export { LOG_FORMATS } from './agent-config.js';
export { AD_HOC_TUNNEL_ID } from './ad-hoc-tunnel.js';
export { AGENT_OVERRIDES, loadAgentConfig } from './load-agent-config.js';
export { TUNNEL_ACCESS_FLAGS, type TunnelAccessKey } from './tunnel-access.js';
export { parseTarget } from './target.js';
