/**
 * The `burrow` command line: parses arguments, loads the config, runs the agent until a
 * signal or a fatal error, and returns the exit code. Every process-level thing (argv, env,
 * streams, signals, exit) comes in through `CliIo`, so tests drive it without a process.
 *
 *   burrow http <target> [--name n] [access flags] [--server url] [--token key] [--log text|json]
 *               [--config file] [--otlp-endpoint url] [--metrics-listen host:port]
 *   burrow start [--config burrow.yml] [--server url] [--token key] [--log text|json] [--otlp-endpoint url]
 *               [--metrics-listen host:port]
 *
 * The access flags (--basic-auth, --allow-ip, --host-header, ...) describe the one tunnel of
 * `burrow http`; tunnels of burrow.yml carry the same settings as keys.
 */

import { Command, CommanderError, Option } from 'commander';
import { TunnelError, toTunnelError } from '@burrow/protocol';
import { agentTimers, startAgent, type AgentDependencies } from '../agent.js';
import { createJsonOutput, createTextOutput, type AgentOutput, type TextSink } from '../agent-output.js';
import {
  LOG_FORMATS,
  TUNNEL_ACCESS_FLAGS,
  loadAgentConfig,
  type AgentConfig,
  type AgentFlags,
  type Env,
} from '../config/index.js';
import { startOriginTracing } from '../tracing/otlp-export.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { AgentMetricsListener } from '../metrics/metrics-listener.js';
import { adviceFor, explainError } from './explain-error.js';

export interface CliIo {
  /** Arguments after the program name (process.argv.slice(2)). */
  readonly args: readonly string[];
  readonly env: Env;
  readonly cwd: string;
  readonly stdout: TextSink & { readonly isTTY?: boolean };
  readonly stderr: TextSink;
  /** Calls `handler` on every SIGINT and SIGTERM. */
  onSignal(handler: () => void): void;
  /** Ends the process at once (second Ctrl-C). */
  exit(code: number): void;
}

/** The config file read when --config is not given; it may be missing. */
const DEFAULT_CONFIG_FILE = 'burrow.yml';
/** Exit code for a second Ctrl-C, the shell convention for "killed by SIGINT". */
const EXIT_INTERRUPTED = 130;
/** Longest the CLI waits, once the agent stopped, for its last spans to reach the collector. */
const SPAN_FLUSH_MS = 5_000;

interface CommonOptions {
  server?: string;
  token?: string;
  log?: string;
  config?: string;
  otlpEndpoint?: string;
}

type AgentRunner = (config: AgentConfig) => Promise<number>;

/** Repeated list flags accumulate in order: `--allow-ip a --allow-ip b`. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Flag names come from TUNNEL_ACCESS_FLAGS, so the CLI, the loader's problems and the docs
 * cannot disagree; commander hands each back under its setting key (camelCase).
 */
function withAccessOptions(command: Command): Command {
  const flag = TUNNEL_ACCESS_FLAGS;
  return command
    .option(`--${flag.basicAuth} <user:pass>`, 'require HTTP basic auth; repeat for more users', collect)
    .option(
      `--${flag.authToken} <token>`,
      'require this token (Authorization: Bearer, ?burrow_token= or the cookie the edge sets)',
    )
    .option(
      `--${flag.allowIp} <cidr>`,
      'only these client IPs or CIDR blocks may connect; repeatable',
      collect,
    )
    .option(`--${flag.denyIp} <cidr>`, 'refuse these client IPs or CIDR blocks; repeatable', collect)
    .option(`--${flag.rateLimit} <rate>`, 'requests per client IP: N/s or N/m, e.g. 10/s')
    .option(
      `--${flag.hostHeader} <host>`,
      "Host sent to the local service: preserve (default), rewrite (the service's host:port) or a value",
    )
    .option(`--${flag.requestHeaderAdd} <header>`, '"Name: value" added to each request; repeatable', collect)
    .option(`--${flag.requestHeaderRemove} <name>`, 'header removed from each request; repeatable', collect)
    .option(
      `--${flag.responseHeaderAdd} <header>`,
      '"Name: value" added to each response; repeatable',
      collect,
    )
    .option(`--${flag.responseHeaderRemove} <name>`, 'header removed from each response; repeatable', collect)
    .option(
      `--${flag.capture} <what>`,
      "keep each request's headers (headers) or headers and bodies (bodies) in the edge's request history",
    )
    .option(
      `--${flag.captureMaxBytes} <bytes>`,
      'body bytes kept per direction (default 65536; implies bodies)',
    )
    .option(`--${flag.serverTiming}`, 'add Server-Timing (edge, tunnel, origin times) to responses')
    .option(
      `--${flag.originCa} <file>`,
      "PEM file of CA certificates to trust for an https:// origin, added to Node's roots",
    )
    .option(
      `--${flag.originServerName} <name>`,
      "SNI and certificate name for an https:// origin (default: the origin's host)",
    )
    .option(
      `--${flag.originTlsVerify}`,
      "verify the https:// origin's certificate (default, except for loopback origins)",
    )
    .option(`--no-${flag.originTlsVerify}`, "do not verify the https:// origin's certificate");
}

function withCommonOptions(command: Command): Command {
  return command
    .option('--server <url>', 'edge to connect to (env BURROW_SERVER; default http://localhost:8080)')
    .option('--token <key>', 'API key (env BURROW_TOKEN); without one, tunnels get temporary random names')
    .option(
      '--ca <file>',
      "PEM file of CA certificates to trust for an https:// edge, added to Node's roots (env BURROW_CA)",
    )
    .addOption(
      new Option('--log <format>', 'output: text lines or JSON lines on stdout').choices([...LOG_FORMATS]),
    )
    .option('--config <file>', `config file (default ./${DEFAULT_CONFIG_FILE} when present)`)
    .option(
      '--otlp-endpoint <url>',
      'export a span per origin call to this OTLP/HTTP receiver, e.g. http://127.0.0.1:4318, for sampled traces only: give the edge --otlp-endpoint too, or send a sampled traceparent (env BURROW_OTLP_ENDPOINT; default off)',
    )
    .option(
      '--metrics-listen <host:port>',
      'serve Prometheus /metrics here, no authentication (a bare port means 127.0.0.1; env BURROW_METRICS_LISTEN)',
    )
    .option(
      '--force',
      'take the names over from another agent session of your user that the edge still thinks is alive (e.g. a machine that went to sleep)',
    );
}

function buildProgram(
  io: CliIo,
  run: AgentRunner,
  loadFailed: (err: unknown, flags: CommonOptions) => number,
) {
  let exitCode = 0;
  const program = new Command('burrow')
    .description('Expose a local HTTP service through a Burrow edge.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    })
    .showHelpAfterError('(run burrow --help for usage)');

  const load = (flags: AgentFlags, tunnel?: { target: string }): AgentConfig =>
    loadAgentConfig({
      flags,
      env: io.env,
      cwd: io.cwd,
      file: DEFAULT_CONFIG_FILE,
      ...(tunnel ? { tunnel } : {}),
    });

  withCommonOptions(
    withAccessOptions(
      program
        .command('http')
        .description('forward a public URL to a local HTTP service')
        .argument('<target>', 'port (3000), host:port (localhost:3000) or URL (http://localhost:3000)')
        .option('--name <name>', 'public name to ask for (needs an API key)'),
    ),
  ).action(async (target: string, options: CommonOptions & AgentFlags) => {
    let config: AgentConfig;
    try {
      config = load(options, { target });
    } catch (err) {
      exitCode = loadFailed(err, options);
      return;
    }
    exitCode = await run(config);
  });

  withCommonOptions(
    program.command('start').description('start every tunnel of the config file over one connection'),
  ).action(async (options: CommonOptions) => {
    let config: AgentConfig;
    try {
      config = load(options);
    } catch (err) {
      exitCode = loadFailed(err, options);
      return;
    }
    exitCode = await run(config);
  });

  return { program, exitCode: () => exitCode };
}

function outputFor(format: string | undefined, io: CliIo): AgentOutput {
  if (format === 'json') return createJsonOutput({ stdout: io.stdout });
  const color = io.stdout.isTTY === true && (io.env.NO_COLOR ?? '') === '';
  return createTextOutput({ stdout: io.stdout, stderr: io.stderr, color, advise: adviceFor });
}

/** Runs the CLI to completion; resolves with the exit code. */
export async function runCli(
  io: CliIo,
  dependencies: Omit<AgentDependencies, 'output'> = {},
): Promise<number> {
  const run: AgentRunner = async (config) => {
    const output = outputFor(config.log, io);
    const tracer = await startOriginTracing(config.otlp, {
      timers: dependencies.timers ?? agentTimers,
      // stderr in both formats: stdout carries only the agent's own lines (or JSON events).
      warn: (message) => void io.stderr.write(`burrow: ${message}\n`),
    });
    const metrics = config.metricsListen === null ? null : new AgentMetrics(config.server.origin);
    let listener: AgentMetricsListener | null = null;
    if (metrics !== null && config.metricsListen !== null) {
      const { host, port } = config.metricsListen;
      try {
        listener = await AgentMetricsListener.start({ host, port, render: () => metrics.render() });
      } catch (err) {
        const reason = new TunnelError(
          'TUN_ERR_CONFIG_INVALID',
          `metricsListen: cannot listen on ${host}:${port} (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose a free address or leave --metrics-listen out`,
          { cause: err },
        );
        output.error(reason, explainError(reason));
        await tracer?.close(SPAN_FLUSH_MS);
        return 1;
      }
      output.metricsListening?.(listener.url);
    }
    const agent = startAgent(config, {
      ...dependencies,
      output,
      tracer,
      ...(metrics === null ? {} : { metrics }),
    });
    let stopping = false;
    io.onSignal(() => {
      if (stopping) io.exit(EXIT_INTERRUPTED);
      stopping = true;
      void agent.close();
    });
    try {
      await agent.done;
      return 0;
    } catch (err) {
      const reason = toTunnelError(err);
      output.error(reason, explainError(reason));
      return 1;
    } finally {
      await tracer?.close(SPAN_FLUSH_MS);
      await listener?.close();
    }
  };
  const loadFailed = (err: unknown, flags: CommonOptions): number => {
    const reason = err instanceof TunnelError ? err : toTunnelError(err, 'TUN_ERR_CONFIG_INVALID');
    outputFor(flags.log, io).error(reason, explainError(reason));
    return 1;
  };

  const { program, exitCode } = buildProgram(io, run, loadFailed);
  try {
    await program.parseAsync([...io.args], { from: 'user' });
  } catch (err) {
    // --help and --version end here too, with exit code 0.
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return exitCode();
}
