/** Formats the URLs the edge prints: its own base URL and each tunnel's public URL. */
import type { EdgeConfig } from './edge-config.js';

type UrlSettings = Pick<EdgeConfig, 'domain' | 'publicUrl'>;

const DEFAULT_PORTS = { http: 80, https: 443 } as const;

/** `:PORT`, or nothing when the port is the scheme's default (browsers hide it too). */
function portSuffix(config: UrlSettings, actualPort: number): string {
  const port = config.publicUrl.port ?? actualPort;
  return port === DEFAULT_PORTS[config.publicUrl.scheme] ? '' : `:${port}`;
}

/**
 * The public URL of tunnel `name`, e.g. `http://k3xnz3.localhost:8080`. `name` must already
 * be a validated DNS label. `actualPort` is the port the listener got (it differs from
 * `listen.port` when that is 0) and is used unless `publicUrl.port` is set. No trailing slash.
 */
export function tunnelUrl(config: UrlSettings, name: string, actualPort: number): string {
  return `${config.publicUrl.scheme}://${name}.${config.domain}${portSuffix(config, actualPort)}`;
}

/** The edge's own base URL (API, dashboard, agent endpoint), e.g. `http://localhost:8080`. No trailing slash. */
export function edgeBaseUrl(config: UrlSettings, actualPort: number): string {
  return `${config.publicUrl.scheme}://${config.domain}${portSuffix(config, actualPort)}`;
}
