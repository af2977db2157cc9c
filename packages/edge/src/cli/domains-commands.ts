/**
 * `burrow-edge domains add|list|route|remove`: custom hostnames users route to their named
 * tunnels. A domain routes once the edge finds its token in a TXT record at
 * `_burrow.<hostname>`; these commands only record domains and print that record.
 */

import type { Command } from 'commander';
import { TunnelError } from '@burrow/protocol';
import type { EdgeFlags } from '../config/index.js';
import { refuseOwnDomain, reserveTunnelFor } from '../domains/domain-rules.js';
import {
  domainVerificationRecord,
  normalizeDomainHostname,
  printable,
  type DomainRecord,
  type Store,
} from '../store/index.js';
import { requireUserNamed, type CliContext } from './users-commands.js';

function txtLine(domain: DomainRecord): string {
  const record = domainVerificationRecord(domain.hostname, domain.verificationToken);
  return `${record.name} ${record.type} "${record.value}"`;
}

async function requireDomain(store: Store, hostname: string): Promise<DomainRecord> {
  const domain = await store.getDomain(hostname);
  if (domain === undefined) {
    throw new TunnelError(
      'TUN_ERR_NOT_FOUND',
      `no custom domain "${hostname}"; see them with "burrow-edge domains list"`,
    );
  }
  return domain;
}

export function registerDomainsCommands(program: Command, cli: CliContext): void {
  const domains = program
    .command('domains')
    .description('manage custom domains: they route to a named tunnel once verified by DNS');

  cli
    .commonOptions(
      domains
        .command('add <hostname>')
        .description('add a custom domain for a user and print the DNS TXT record that verifies it'),
    )
    .requiredOption('--user <name>', 'the user the domain belongs to')
    .option('--tunnel <name>', 'route it to this tunnel name, reserving the name for the user if it is free')
    .action((raw: string, flags: EdgeFlags & { user: string; tunnel?: string }) =>
      cli
        .withStore(flags, async (store) => {
          const hostname = normalizeDomainHostname(raw);
          refuseOwnDomain(hostname, cli.config(flags).domain);
          const user = await requireUserNamed(store, flags.user);
          const tunnelName =
            flags.tunnel === undefined ? null : await reserveTunnelFor(store, user.id, flags.tunnel);
          const domain = await store.addDomain({ hostname, userId: user.id, tunnelName });
          const routes = tunnelName === null ? '' : `, routing to tunnel "${tunnelName}"`;
          process.stderr.write(
            `added ${domain.hostname} for user "${user.name}"${routes}. Create this DNS record; the domain routes once the edge sees it:\n`,
          );
          process.stdout.write(`${txtLine(domain)}\n`);
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(domains.command('list').description('list custom domains and their DNS records'))
    .option('--user <name>', "only this user's domains")
    .option('--json', 'print JSON')
    .action((flags: EdgeFlags & { user?: string; json?: boolean }) =>
      cli
        .withStore(flags, async (store) => {
          const only = flags.user === undefined ? undefined : await requireUserNamed(store, flags.user);
          const list = await store.listDomains({ userId: only?.id });
          const names = new Map((await store.listUsers()).map((u) => [u.id, u.name]));
          if (flags.json) {
            const rows = list.map((d) => ({
              ...d,
              userName: names.get(d.userId) ?? null,
              verificationRecord: domainVerificationRecord(d.hostname, d.verificationToken),
            }));
            process.stdout.write(`${JSON.stringify(rows)}\n`);
            return;
          }
          const width = Math.max(0, ...list.map((d) => d.hostname.length));
          for (const d of list) {
            const state =
              d.verifiedAt === null ? `unverified (${txtLine(d)})` : `verified ${d.verifiedAt.toISOString()}`;
            const tunnel = d.tunnelName === null ? 'no tunnel' : `tunnel ${d.tunnelName}`;
            const user = printable(names.get(d.userId) ?? d.userId);
            process.stdout.write(`${d.hostname.padEnd(width)}  user ${user}  ${tunnel}  ${state}\n`);
          }
          if (list.length === 0) {
            process.stderr.write(
              'no custom domains yet: burrow-edge domains add app.example.org --user <name>\n',
            );
          }
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(
      domains
        .command('route <hostname> <tunnel>')
        .description(
          "route a custom domain to one of its user's tunnel names, reserving the name if it is free",
        ),
    )
    .action((hostname: string, tunnel: string, flags: EdgeFlags) =>
      cli
        .withStore(flags, async (store) => {
          const domain = await requireDomain(store, hostname);
          const user = await store.getUser(domain.userId);
          if (user === undefined)
            throw new TunnelError('TUN_ERR_INTERNAL', `domain ${domain.hostname} has no user`);
          const tunnelName = await reserveTunnelFor(store, user.id, tunnel);
          await store.setDomainTunnel(domain.hostname, tunnelName);
          process.stderr.write(
            `${domain.hostname} now routes to tunnel "${tunnelName}" of user "${user.name}"\n`,
          );
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(domains.command('remove <hostname>').description('remove a custom domain'))
    .action((hostname: string, flags: EdgeFlags) =>
      cli
        .withStore(flags, async (store) => {
          const domain = await requireDomain(store, hostname);
          await store.removeDomain(domain.hostname);
          process.stderr.write(`removed custom domain ${domain.hostname}\n`);
        })
        .catch(cli.fail),
    );
}
