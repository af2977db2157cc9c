/** Shared by the bench smoke tests: is a program installed, and run a bench script as a child. */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

/** Whether `file` (a path, or a name looked up on PATH) is an executable. */
export function installed(file: string): boolean {
  const candidates = file.startsWith('/')
    ? [file]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, file));
  return candidates.some((f) => {
    try {
      accessSync(f, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Runs `node <script> ...args` from the repo root; resolves with its exit code and all output. */
export function runBenchScript(
  script: string,
  args: string[],
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolveRun({ code, output }));
  });
}
