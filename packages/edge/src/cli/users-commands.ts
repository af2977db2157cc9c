/**
 * `burrow-edge users create|list|disable|enable`: the accounts that own keys, tunnel names
 * and custom domains. Also the name-to-user lookup every tenancy command shares.
 */

import type { Command } from 'commander';
import { TunnelError } from '@burrow/protocol';
import type { EdgeConfig, EdgeFlags } from '../config/index.js';
import { normalizeUserName, printable, type Store, type UserRecord } from '../store/index.js';

/** What the command modules borrow from main.ts, the one place that reads argv and env. */
export interface CliContext {
  /** Opens the store of the configured data directory for one command and closes it after. */
  withStore: <T>(flags: EdgeFlags, use: (store: Store) => Promise<T>) => Promise<T>;
  /** Adds `--config` and `--data` to a command. */
  commonOptions: (cmd: Command) => Command;
  config: (flags: EdgeFlags) => EdgeConfig;
  /** Prints `burrow-edge: <message>` to stderr and exits 1. */
  fail: (err: unknown) => never;
}

/** The user called `name`, or TUN_ERR_NOT_FOUND / TUN_ERR_NAME_INVALID saying what to do. */
export async function requireUserNamed(store: Store, name: string): Promise<UserRecord> {
  const normalized = normalizeUserName(name);
  const user = await store.getUserByName(normalized);
  if (user === undefined) {
    throw new TunnelError(
      'TUN_ERR_NOT_FOUND',
      `no user named "${normalized}"; create it with "burrow-edge users create ${normalized}" or see who exists with "burrow-edge users list"`,
    );
  }
  return user;
}

function describeState(user: UserRecord): string {
  return user.disabledAt === null ? 'active' : `disabled ${user.disabledAt.toISOString()}`;
}

export function registerUsersCommands(program: Command, cli: CliContext): void {
  const users = program
    .command('users')
    .description('manage users: each owns API keys, reserved tunnel names and custom domains');

  cli
    .commonOptions(users.command('create <name>').description('create a user'))
    .option('--admin', 'the user may hold keys with the admin scope')
    .option('--json', 'print the new user as JSON')
    .action((name: string, flags: EdgeFlags & { admin?: boolean; json?: boolean }) =>
      cli
        .withStore(flags, async (store) => {
          const user = await store.createUser({ name, admin: flags.admin === true });
          if (flags.json) process.stdout.write(`${JSON.stringify(user)}\n`);
          const role = user.admin ? 'admin user' : 'user';
          process.stderr.write(
            `created ${role} "${user.name}" (${user.id}); give it a key with "burrow-edge keys create --user ${user.name}"\n`,
          );
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(users.command('list').description('list users, disabled ones included'))
    .option('--json', 'print JSON')
    .action((flags: EdgeFlags & { json?: boolean }) =>
      cli
        .withStore(flags, async (store) => {
          const list = await store.listUsers();
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(list)}\n`);
            return;
          }
          // Rows stored before names were validated may hold control characters: escaped.
          const shown = list.map((u) => ({ ...u, name: printable(u.name) }));
          const width = Math.max(0, ...shown.map((u) => u.name.length));
          for (const u of shown) {
            const role = u.admin ? 'admin' : 'user ';
            process.stdout.write(
              `${u.name.padEnd(width)}  ${u.id}  ${role}  created ${u.createdAt.toISOString()}  ${describeState(u)}\n`,
            );
          }
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(users.command('disable <name>').description('disable a user: its keys are refused'))
    .action((name: string, flags: EdgeFlags) =>
      cli
        .withStore(flags, async (store) => {
          const user = await requireUserNamed(store, name);
          if (user.disabledAt !== null) {
            process.stderr.write(`user "${user.name}" was already ${describeState(user)}\n`);
            return;
          }
          await store.disableUser(user.id);
          process.stderr.write(
            `disabled user "${user.name}": its keys are refused from now on; "burrow-edge users enable ${user.name}" undoes it\n`,
          );
        })
        .catch(cli.fail),
    );

  cli
    .commonOptions(users.command('enable <name>').description('enable a disabled user again'))
    .action((name: string, flags: EdgeFlags) =>
      cli
        .withStore(flags, async (store) => {
          const user = await requireUserNamed(store, name);
          if (user.disabledAt === null) {
            process.stderr.write(`user "${user.name}" is already active\n`);
            return;
          }
          await store.enableUser(user.id);
          process.stderr.write(`enabled user "${user.name}": its unrevoked keys work again\n`);
        })
        .catch(cli.fail),
    );
}
