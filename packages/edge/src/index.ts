/** @burrow/edge: the edge server, for embedding in tests and the benchmark. */

export { EdgeServer, type EdgeServerOptions } from './server.js';
export { loadEdgeConfig, tunnelUrl, edgeBaseUrl, type EdgeConfig } from './config/index.js';
export { createLogger, type Logger } from './logger.js';
