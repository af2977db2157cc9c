/**
 * `burrow-edge names reserve|list|release`: tunnel names that belong to a user, so only
 * that user's keys can bind them. (Users can do the same with their own key through the
 * control API, `PUT /api/v1/tunnels/{name}`.)
 */

import type { Command } from 'commander';
import { TunnelError } from '@burrow/protocol';
import type { EdgeFlags } from '../config/index.js';
import { reserveTunnelFor } from '../domains/domain-rules.js';
import { parseStoredPolicySpec, redactPolicySpec } from '../policy/index.js';
import { printable, type TunnelRecord } from '../store/index.js';
import { requireUserNamed, type CliContext } from './users-commands.js';

function describe(tunnel: TunnelRecord): string {
  const owner = tunnel.ownerUserName === null ? 'no owner' : `user ${printable(tunnel.ownerUserName)}`;
  const policy = tunnel.policy === null ? '' : '  stored policy';
  return `${tunnel.name}  ${tunnel.kind}  ${owner}  last active ${tunnel.lastActiveAt.toISOString()}${policy}`;
}

export function registerNamesCommands(program: Command, cli: CliContext): void {
  const names = program
    .command('names')
    .description("reserve tunnel names for users: only the owner's keys can bind them");

  cli
    .commonOptions(names.command('reserve <name>').description('reserve a tunnel name for a user'))
    .requiredOption('--user <name>', 'the user the name belongs to')
    .action((name: string, flags: EdgeFlags & { user: string }) =>
      cli
        .withStore(flags, async (store) => {
          const user = await requireUserNamed(store, flags.user);
          const reserved = await reserveTunnelFor(store, user.id, name);
          process.stderr.write(
            `"${reserved}" is reserved for user "${user.name}"; their agents bind it with: burrow http <port> --name ${reserved} --token <key>\n`,
          );
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(names.command('list').description('list tunnel names and who owns them'))
    .option('--user <name>', "only this user's names")
    .option('--json', 'print JSON')
    .action((flags: EdgeFlags & { user?: string; json?: boolean }) =>
      cli
        .withStore(flags, async (store) => {
          const only = flags.user === undefined ? undefined : await requireUserNamed(store, flags.user);
          const list =
            only === undefined
              ? await store.listTunnelsActiveSince(new Date(0))
              : await store.listTunnelsOwnedByUser(only.id);
          list.sort((a, b) => (a.name < b.name ? -1 : 1));
          if (flags.json) {
            // The resume token hash stays inside the edge.
            const rows = list.map(({ resumeTokenHash: _hidden, policy, ...rest }) => ({
              ...rest,
              // Passwords and tokens are never printed, as the control API never answers them.
              policy: policy === null ? null : redactPolicySpec(parseStoredPolicySpec(policy)),
            }));
            process.stdout.write(`${JSON.stringify(rows)}\n`);
            return;
          }
          for (const tunnel of list) process.stdout.write(`${describe(tunnel)}\n`);
          if (list.length === 0) process.stderr.write('no tunnel names yet\n');
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(
      names
        .command('release <name>')
        .description('give a name back: it can be taken by anyone; domains routed to it stop routing'),
    )
    .action((name: string, flags: EdgeFlags) =>
      cli
        .withStore(flags, async (store) => {
          const released = await store.deleteTunnel(name.trim().toLowerCase());
          if (!released) {
            throw new TunnelError(
              'TUN_ERR_NOT_FOUND',
              `no tunnel name "${name}"; see them with "burrow-edge names list"`,
            );
          }
          process.stderr.write(`released "${name}"\n`);
        })
        .catch(cli.fail),
    );
}
