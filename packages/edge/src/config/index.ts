/** The edge's configuration: load it once at startup, pass the frozen object down. */
export type {
  AccessLogFormat,
  EdgeConfig,
  EdgeFlags,
  Env,
  ListenAddress,
  LoadEdgeConfigOptions,
  LogLevel,
  PublicScheme,
} from './edge-config.js';
export { LOG_LEVELS, PUBLIC_SCHEMES } from './edge-config.js';
export { CONFIG_PATH_ENV, loadEdgeConfig } from './load-edge-config.js';
export { edgeBaseUrl, tunnelUrl } from './public-url.js';
export { EDGE_SETTINGS, type SettingInfo } from './setting-list.js';
