#!/usr/bin/env node
/** The `burrow` executable: the only place that touches the real process. */

import process from 'node:process';
import { BatchedSink } from './batched-sink.js';
import { runCli } from './run-cli.js';

/** How long stdout/stderr get to flush before a forced exit, in ms. */
const EXIT_GRACE_MS = 2000;

const stdout = new BatchedSink(process.stdout);
process.on('exit', () => stdout.flush());

const code = await runCli({
  args: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: Object.assign(stdout, { isTTY: process.stdout.isTTY }),
  stderr: process.stderr,
  onSignal: (handler) => {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  },
  exit: (exitCode) => process.exit(exitCode),
});
process.exitCode = code;
// Exiting naturally lets piped output flush; a handle someone forgot must not keep us alive.
setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
