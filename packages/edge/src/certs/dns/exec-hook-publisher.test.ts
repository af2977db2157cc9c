// The exec hook runs a real script from a temp dir: arguments, no shell, exit codes, output, time limit.
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { useScratchDir } from '../../../../../test/support/scratch-dir.js';
import { ExecHookPublisher } from './exec-hook-publisher.js';

const scratch = useScratchDir('burrow-dns-hook-');

function script(name: string, body: string): string {
  const file = scratch.write(name, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

async function rejection(action: Promise<unknown>): Promise<TunnelError> {
  const err = await action.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TunnelError);
  return err as TunnelError;
}

describe('ExecHookPublisher', () => {
  it('runs the script with publish|unpublish, the name and the value as separate arguments', async () => {
    const log = join(scratch.path, 'calls.log');
    const hook = script(
      'record.sh',
      `for a in "$@"; do printf '[%s]' "$a" >> '${log}'; done; echo >> '${log}'`,
    );
    const publisher = new ExecHookPublisher({ path: hook, timeoutMs: 5_000 });
    // A value with shell syntax in it reaches the script verbatim: no shell in between.
    await publisher.publish('_acme-challenge.tunnel.test.', 'a b;$(touch pwned)');
    await publisher.unpublish('_acme-challenge.tunnel.test.', 'v2');
    expect(readFileSync(log, 'utf8')).toBe(
      '[publish][_acme-challenge.tunnel.test.][a b;$(touch pwned)]\n[unpublish][_acme-challenge.tunnel.test.][v2]\n',
    );
  });

  it('a non-zero exit fails naming the exit code, with the script output', async () => {
    const hook = script('fail.sh', 'echo "zone is locked" >&2; echo "tried" ; exit 3');
    const err = await rejection(
      new ExecHookPublisher({ path: hook, timeoutMs: 5_000 }).publish('_acme-challenge.x.', 'v'),
    );
    expect(err.code).toBe('TUN_ERR_DNS_HOOK_FAILED');
    expect(err.message).toContain('exited with code 3');
    expect(err.message).toContain('zone is locked');
    expect(err.message).toContain('tried');
    expect(err.message).toContain(hook);
    expect(err.message).toContain('publish');
  });

  it('succeeds when the script exits 0 though a child it left running holds its output open', async () => {
    const pidFile = join(scratch.path, 'child.pid');
    const hook = script('daemon.sh', `sleep 30 & echo $! > '${pidFile}'; echo published; exit 0`);
    const started = performance.now();
    try {
      await new ExecHookPublisher({ path: hook, timeoutMs: 3_000 }).publish('_acme-challenge.x.', 'v');
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    }
  });

  it('a script that runs too long is killed and fails saying so', async () => {
    const hook = script('slow.sh', 'sleep 30');
    const started = performance.now();
    const err = await rejection(
      new ExecHookPublisher({ path: hook, timeoutMs: 300 }).publish('_acme-challenge.x.', 'v'),
    );
    expect(err.code).toBe('TUN_ERR_DNS_HOOK_FAILED');
    expect(err.message).toContain('300 ms');
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('a missing or non-executable script fails saying it could not be run', async () => {
    const missing = await rejection(
      new ExecHookPublisher({ path: join(scratch.path, 'nope.sh'), timeoutMs: 1_000 }).publish(
        '_acme-challenge.x.',
        'v',
      ),
    );
    expect(missing.code).toBe('TUN_ERR_DNS_HOOK_FAILED');
    expect(missing.message).toMatch(/could not be run.*ENOENT/);
    const plain = scratch.write('plain.sh', '#!/bin/sh\nexit 0\n');
    chmodSync(plain, 0o644);
    const denied = await rejection(
      new ExecHookPublisher({ path: plain, timeoutMs: 1_000 }).publish('_acme-challenge.x.', 'v'),
    );
    expect(denied.message).toMatch(/could not be run.*EACCES/);
  });

  it('keeps only the tail of very long output', async () => {
    const hook = script(
      'noisy.sh',
      'i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done >&2; exit 1',
    );
    const err = await rejection(
      new ExecHookPublisher({ path: hook, timeoutMs: 5_000 }).publish('_acme-challenge.x.', 'v'),
    );
    expect(err.message).toContain('line 4999');
    expect(err.message.length).toBeLessThan(5_000);
  });
});
