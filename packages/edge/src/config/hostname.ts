/** Host name syntax (RFC 1123 labels), shared by the listen host and the base domain. */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** True for `localhost`, `tunnel.example.com`; false for empty labels, `_`, a trailing dot or > 253 chars. */
export function isHostname(text: string): boolean {
  return text.length > 0 && text.length <= 253 && text.split('.').every((label) => LABEL.test(label));
}
