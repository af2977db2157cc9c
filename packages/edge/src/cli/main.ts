#!/usr/bin/env node
/**
 * burrow-edge: `start` runs the edge; `keys create|list|revoke` manage API keys, `users …`
 * users (users-commands.ts), `domains …` custom domains (domains-commands.ts).
 * The only module that reads argv and process.env; everything else gets a typed config.
 */

import { Command } from 'commander';
import { TunnelError } from '@burrow/protocol';
import { loadEdgeConfig, type EdgeConfig, type EdgeFlags } from '../config/index.js';
import { EdgeServer } from '../server.js';
import { openConfiguredStore, parseApiKeyScopes, printable, type Store } from '../store/index.js';
import { registerDomainsCommands } from './domains-commands.js';
import { registerCertsCommands } from './certs-commands.js';
import { registerNamesCommands } from './names-commands.js';
import { registerUsersCommands, requireUserNamed, type CliContext } from './users-commands.js';

function fail(err: unknown): never {
  const message =
    err instanceof TunnelError
      ? `${err.message} (${err.code})`
      : err instanceof Error
        ? err.message
        : String(err);
  // Messages may quote stored or typed text: never let it drive the terminal.
  process.stderr.write(`burrow-edge: ${printable(message)}\n`);
  process.exit(1);
}

function config(flags: EdgeFlags): EdgeConfig {
  return loadEdgeConfig({ flags, env: process.env, cwd: process.cwd() });
}

async function withStore<T>(flags: EdgeFlags, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await openConfiguredStore(config(flags));
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'YAML or JSON config file (env BURROW_CONFIG)')
    .option('--data <dir>', 'data directory holding burrow.db (env BURROW_DATA_DIR)')
    .option(
      '--database-url <url>',
      'PostgreSQL URL instead of SQLite in the data directory (env BURROW_DATABASE_URL or DATABASE_URL)',
    );
}

async function start(flags: EdgeFlags): Promise<void> {
  const edge = await EdgeServer.start({ config: config(flags) });
  let stopping = false;
  const stop = (): void => {
    if (stopping) {
      edge.destroy();
      process.exit(1);
    }
    stopping = true;
    edge.close().then(
      () => process.exit(0),
      (err: unknown) => fail(err),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const program = new Command('burrow-edge')
  .description('The public side of Burrow tunnels.')
  .showHelpAfterError();

commonOptions(program.command('start').description('run the edge'))
  .option('--listen <host:port>', 'address to listen on (env BURROW_LISTEN, default 0.0.0.0:8080)')
  .option(
    '--domain <name>',
    'base domain; tunnels are <name>.<domain> (env BURROW_DOMAIN, default localhost)',
  )
  .option(
    '--https-listen <host:port>',
    'also serve viewers over HTTPS (TLS, HTTP/2) on this address (env BURROW_HTTPS_LISTEN)',
  )
  .option(
    '--https-redirect <tunnels|all|off>',
    'what the plain listener redirects to HTTPS with 308 (env BURROW_HTTPS_REDIRECT, default tunnels)',
  )
  .option(
    '--hsts <seconds>',
    'Strict-Transport-Security max-age on tunnel responses over HTTPS; 0 = off (env BURROW_HSTS_MAX_AGE_S)',
  )
  .option(
    '--public-scheme <http|https>',
    'scheme printed in tunnel URLs (env BURROW_PUBLIC_SCHEME; https when --https-listen is set)',
  )
  .option('--public-port <port>', 'port printed in tunnel URLs (env BURROW_PUBLIC_PORT)')
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env BURROW_LOG_LEVEL)')
  .option(
    '--access-log <format>',
    'one line per tunnel request: json (pino), combined (Apache/nginx) or off (env BURROW_ACCESS_LOG, default json)',
  )
  .option('--history', 'keep request records in the store (the default)')
  .option('--no-history', 'keep no request records (env BURROW_HISTORY_ENABLED=false)')
  .option('--allow-anonymous', 'let agents without an API key open temporary tunnels (the default)')
  .option(
    '--no-allow-anonymous',
    'require an API key from every agent (env BURROW_TUNNELS_ALLOW_ANONYMOUS=false)',
  )
  .option(
    '--acme-email <address>',
    'order certificates by ACME: HTTP-01 on demand, and the *.<domain> wildcard by DNS-01 with --acme-dns-server or --acme-dns-hook (env BURROW_ACME_EMAIL)',
  )
  .option(
    '--acme-directory <url>',
    "ACME directory (env BURROW_ACME_DIRECTORY, default Let's Encrypt production)",
  )
  .option('--acme-ca-file <file>', "PEM CA to trust for the directory's TLS (env BURROW_ACME_CA_FILE)")
  .option(
    '--acme-on-demand-temporary',
    'order HTTP-01 certificates for temporary tunnels too; otherwise they get the DNS-01 wildcard or the default certificate (env BURROW_ACME_ON_DEMAND_TEMPORARY)',
  )
  .option(
    '--tls-cert <file>',
    'PEM certificate to serve (e.g. the *.<domain> wildcard), reloaded on change (env BURROW_TLS_CERT_FILE)',
  )
  .option('--tls-key <file>', 'PEM private key of --tls-cert (env BURROW_TLS_KEY_FILE)')
  .option(
    '--tls <self-signed|off>',
    'self-signed: a local development CA in <data>/tls and a certificate for <domain> (env BURROW_TLS_GENERATE)',
  )
  .option(
    '--acme-dns-server <ip[:port]>',
    'DNS-01 via RFC 2136: the zone primary taking signed updates (env BURROW_ACME_DNS_SERVER)',
  )
  .option('--acme-dns-zone <zone>', 'DNS-01 zone to update; unset finds it by SOA (env BURROW_ACME_DNS_ZONE)')
  .option(
    '--acme-dns-tsig-key-name <name>',
    'TSIG key name for the updates (env BURROW_ACME_DNS_TSIG_KEY_NAME); the secret only from env BURROW_ACME_DNS_TSIG_SECRET or the config file',
  )
  .option(
    '--acme-dns-tsig-algorithm <alg>',
    'hmac-sha256|hmac-sha512|hmac-sha1 (env BURROW_ACME_DNS_TSIG_ALGORITHM)',
  )
  .option(
    '--acme-dns-hook <path>',
    'DNS-01 via a program: <path> publish|unpublish <fqdn> <value> (env BURROW_ACME_DNS_HOOK)',
  )
  .option(
    '--proxy-protocol',
    'read a PROXY protocol v1/v2 header (haproxy, AWS NLB) on every connection (env BURROW_PROXY_PROTOCOL)',
  )
  .option(
    '--proxy-protocol-from <cidrs>',
    'only these peers must send the PROXY header, comma-separated (env BURROW_PROXY_PROTOCOL_FROM; default every peer)',
  )
  .option(
    '--trust-proxy <cidrs>',
    'believe X-Forwarded-For / Forwarded only from these peers, comma-separated (env BURROW_PROXY_TRUST)',
  )
  .option(
    '--otlp-endpoint <url>',
    'export a span per request to this OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (env BURROW_OTLP_ENDPOINT; default off)',
  )
  .option(
    '--metrics-listen <host:port>',
    'serve Prometheus /metrics here too, without authentication; keep it private; a bare port means 127.0.0.1 (env BURROW_METRICS_LISTEN)',
  )
  .option(
    '--metrics-enabled <true|false>',
    'false: no metrics at all, no /metrics anywhere (env BURROW_METRICS_ENABLED, default true)',
  )
  .action((flags: EdgeFlags) => start(flags).catch(fail));

const keys = program.command('keys').description('manage API keys (shown once, stored hashed)');

commonOptions(keys.command('create').description('create an API key and print it once'))
  .option('--label <text>', 'a label to recognise the key by', '')
  .option('--user <name>', 'the user the key acts for (default: the "default" admin user)')
  .option(
    '--scope <scopes>',
    'comma-separated: agent (bind tunnels), api (manage own resources), admin (everything); default agent,api',
  )
  .action((flags: EdgeFlags & { label: string; user?: string; scope?: string }) =>
    withStore(flags, async (store) => {
      const scopes = flags.scope === undefined ? undefined : parseApiKeyScopes(flags.scope);
      const user = flags.user === undefined ? undefined : await requireUserNamed(store, flags.user);
      const { record, secret } = await store.createApiKey({ label: flags.label, userId: user?.id, scopes });
      process.stdout.write(`${secret}\n`);
      const owner = user ?? (await store.getUser(record.userId));
      process.stderr.write(
        `created key ${record.id} (prefix ${record.prefix}) for user "${owner?.name ?? record.userId}" with scopes ${record.scopes.join(',')}; it is shown only this once\n`,
      );
      if (owner?.disabledAt) {
        process.stderr.write(
          `note: user "${owner.name}" is disabled; the key works once "burrow-edge users enable ${owner.name}" runs\n`,
        );
      }
    }).catch(fail),
  );

commonOptions(keys.command('list').description('list API keys (never the secrets)'))
  .option('--user <name>', "only this user's keys")
  .option('--json', 'print JSON')
  .action((flags: EdgeFlags & { json?: boolean; user?: string }) =>
    withStore(flags, async (store) => {
      const only = flags.user === undefined ? undefined : await requireUserNamed(store, flags.user);
      const list = await store.listApiKeys({ userId: only?.id });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(list)}\n`);
        return;
      }
      const userNames = new Map((await store.listUsers()).map((u) => [u.id, u.name]));
      for (const k of list) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        const used = k.lastUsedAt ? k.lastUsedAt.toISOString() : 'never';
        const user = printable(userNames.get(k.userId) ?? k.userId);
        process.stdout.write(
          `${k.id}  ${k.prefix}  ${state}  last used ${used}  user ${user}  ${k.scopes.join(',')}  ${printable(k.label)}\n`,
        );
      }
      if (list.length === 0) process.stderr.write('no API keys yet: burrow-edge keys create --label me\n');
    }).catch(fail),
  );

commonOptions(keys.command('revoke <idOrPrefix>').description('revoke an API key by id or prefix')).action(
  (idOrPrefix: string, flags: EdgeFlags) =>
    withStore(flags, async (store) => {
      const revoked = await store.revokeApiKey(idOrPrefix);
      if (!revoked) fail(new TunnelError('TUN_ERR_NOT_FOUND', `no API key has id or prefix "${idOrPrefix}"`));
      process.stderr.write(`revoked key ${revoked.id} (prefix ${revoked.prefix})\n`);
    }).catch(fail),
);

const cli: CliContext = { withStore, commonOptions, config, fail };
registerUsersCommands(program, cli);
registerDomainsCommands(program, cli);
registerNamesCommands(program, cli);
registerCertsCommands(program, cli);

program.parseAsync(process.argv).catch(fail);
