/**
 * DNS-01 records through a program the operator provides, for DNS hosts without RFC 2136:
 * `<hook> publish|unpublish <fqdn> <value>`, run without a shell (arguments arrive verbatim),
 * for at most `timeoutMs`. Exit 0 means done; for `publish`, done means the authoritative
 * servers answer the value (the hook waits for its provider if it must). Anything else fails
 * with the exit code or signal and the tail of what the hook printed.
 */
import { spawn } from 'node:child_process';
import { TunnelError } from '@burrow/protocol';
import type { DnsChallengePublisher } from './publisher.js';

export interface ExecHookOptions {
  /** Absolute path of the executable. */
  readonly path: string;
  readonly timeoutMs: number;
}

/** Characters of each output stream kept for the error message (the end, where errors are). */
const OUTPUT_TAIL = 2_000;

/** After the hook exits, how long its output may still arrive (from pipes a child holds). */
const OUTPUT_GRACE_MS = 100;

type Action = 'publish' | 'unpublish';

class Tail {
  private text = '';
  add(chunk: string): void {
    this.text = (this.text + chunk).slice(-OUTPUT_TAIL);
  }
  toString(): string {
    return this.text.trim();
  }
}

export class ExecHookPublisher implements DnsChallengePublisher {
  constructor(private readonly options: ExecHookOptions) {}

  publish(fqdn: string, value: string): Promise<void> {
    return this.run('publish', fqdn, value);
  }

  unpublish(fqdn: string, value: string): Promise<void> {
    return this.run('unpublish', fqdn, value);
  }

  private run(action: Action, fqdn: string, value: string): Promise<void> {
    const { path, timeoutMs } = this.options;
    const what = `DNS hook ${path} ${action} ${fqdn}`;
    return new Promise<void>((resolve, reject) => {
      // Own process group, so a timeout ends the hook's children too (a `sleep` it started
      // would otherwise hold the output pipes open past the kill).
      const child = spawn(path, [action, fqdn, value], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const stdout = new Tail();
      const stderr = new Tail();
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.add(chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.add(chunk));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone: 'close' follows.
        }
      }, timeoutMs);
      const output = (): string => {
        const err = stderr.toString();
        const out = stdout.toString();
        const parts = [err && `stderr: ${err}`, out && `stdout: ${out}`].filter((p) => p !== '');
        return parts.length === 0 ? ' (it printed nothing)' : `; ${parts.join('; ')}`;
      };
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new TunnelError(
            'TUN_ERR_DNS_HOOK_FAILED',
            `${what} could not be run (${err.code ?? err.message}): check the path exists and is executable`,
            { cause: err },
          ),
        );
      });
      // The exit decides; output may still be in the pipes, so it settles on 'close' or a
      // moment after 'exit', whichever is first (a child the hook left running may hold the
      // pipes open for good).
      let settled = false;
      const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.stdout.destroy();
        child.stderr.destroy();
        if (code === 0 && !timedOut) {
          resolve();
          return;
        }
        const why = timedOut
          ? `did not finish within ${timeoutMs} ms and was killed`
          : code !== null
            ? `exited with code ${code}`
            : `was killed by ${signal}`;
        reject(new TunnelError('TUN_ERR_DNS_HOOK_FAILED', `${what} ${why}${output()}`));
      };
      child.once('exit', (code, signal) => {
        setTimeout(() => settle(code, signal), OUTPUT_GRACE_MS);
      });
      child.once('close', (code, signal) => settle(code, signal));
    });
  }
}
