/** How to make clients trust the development CA, one command per client; logged at start. */

export interface TrustInput {
  readonly caFile: string;
  /** The edge's own HTTPS URL, port included unless 443: what the agent's `--server` takes. */
  readonly edgeUrl: string;
  /** A tunnel's URL under the domain, for the curl example. */
  readonly tunnelUrl: string;
}

export function trustInstructions({ caFile, edgeUrl, tunnelUrl }: TrustInput): string[] {
  return [
    `curl: curl --cacert ${caFile} ${tunnelUrl}/`,
    `Node.js clients: NODE_EXTRA_CA_CERTS=${caFile} node your-client.js`,
    `the burrow agent: burrow http 3000 --server ${edgeUrl} --ca ${caFile}`,
    `Debian/Ubuntu system store: sudo cp ${caFile} /usr/local/share/ca-certificates/burrow-dev-ca.crt && sudo update-ca-certificates`,
    `Chromium/Chrome on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n burrow-dev-ca -i ${caFile}`,
    `macOS: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${caFile}`,
  ];
}
