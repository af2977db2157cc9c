/**
 * `burrow-edge certs list|renew|remove`: the ACME certificates in the store, with their
 * issuer, expiry and last error (never a key). `renew` marks a certificate; the running
 * edge's renewal pass (every acme.renewIntervalMs) orders it.
 */

import type { Command } from 'commander';
import { TunnelError } from '@burrow/protocol';
import type { EdgeFlags } from '../config/index.js';
import { printable, type CertificateRecord } from '../store/index.js';
import type { CliContext } from './users-commands.js';

/** What may leave the edge: everything but the PEM and the sealed key. */
function publicView(record: CertificateRecord): Record<string, unknown> {
  const { certPem: _pem, keySealed: _key, ...rest } = record;
  return { ...rest, hasCertificate: record.certPem !== null };
}

function describe(record: CertificateRecord): string {
  const validity =
    record.notAfter === null
      ? 'no certificate'
      : `${printable(record.issuer ?? '?')}  until ${record.notAfter.toISOString()}`;
  const renew = record.renewRequested ? '  renewal requested' : '';
  const error =
    record.lastError === null
      ? ''
      : `  last error: ${printable(record.lastError)}${record.nextAttemptAt === null ? '  (not retried)' : `  retry after ${record.nextAttemptAt.toISOString()}`}`;
  return `${record.name} ${record.origin}  ${validity}${renew}${error}`;
}

function notFound(name: string): TunnelError {
  return new TunnelError(
    'TUN_ERR_NOT_FOUND',
    `no certificate for "${name}"; see the names with: burrow-edge certs list`,
  );
}

const normalize = (name: string): string => name.trim().toLowerCase().replace(/\.$/, '');

export function registerCertsCommands(program: Command, cli: CliContext): void {
  const certs = program.command('certs').description('ACME certificates kept in the store');

  cli
    .commonOptions(certs.command('list').description('list certificates: issuer, expiry, last error'))
    .option('--json', 'print JSON')
    .action((flags: EdgeFlags & { json?: boolean }) =>
      cli
        .withStore(flags, async (store) => {
          const list = await store.listCertificates();
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(list.map(publicView))}\n`);
            return;
          }
          for (const record of list) process.stdout.write(`${describe(record)}\n`);
          if (list.length === 0) process.stderr.write('no certificates yet\n');
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(
      certs.command('renew <name>').description("order a certificate again at the edge's next renewal pass"),
    )
    .action((name: string, flags: EdgeFlags) =>
      cli
        .withStore(flags, async (store) => {
          const host = normalize(name);
          if (!(await store.requestCertificateRenewal(host))) throw notFound(host);
          process.stderr.write(
            `"${host}" is marked for renewal; the running edge orders it at its next renewal pass (acme.renewIntervalMs)\n`,
          );
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(
      certs
        .command('remove <name>')
        .description(
          'delete a certificate from the store; running edges stop serving it at their next renewal pass',
        ),
    )
    .action((name: string, flags: EdgeFlags) =>
      cli
        .withStore(flags, async (store) => {
          const host = normalize(name);
          if (!(await store.removeCertificate(host))) throw notFound(host);
          process.stderr.write(
            `removed the certificate for "${host}"; running edges stop serving it at their next renewal pass (acme.renewIntervalMs), and order a new one when it is next needed\n`,
          );
        })
        .catch(cli.fail),
    );
}
