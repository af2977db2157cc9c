/** How to make clients trust the development CA, one command per client; logged at start. */

export interface TrustInput {
  readonly caFile: string;
  readonly domain: string;
}

export function trustInstructions({ caFile, domain }: TrustInput): string[] {
  return [
    `curl: curl --cacert ${caFile} https://app.${domain}/`,
    `Node.js clients: NODE_EXTRA_CA_CERTS=${caFile} node your-client.js`,
    `the burrow agent: burrow http 3000 --server https://${domain} --ca ${caFile}`,
    `Debian/Ubuntu system store: sudo cp ${caFile} /usr/local/share/ca-certificates/burrow-dev-ca.crt && sudo update-ca-certificates`,
    `Chromium/Chrome on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n burrow-dev-ca -i ${caFile}`,
    `macOS: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${caFile}`,
  ];
}
