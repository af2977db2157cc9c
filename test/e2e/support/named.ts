/**
 * A real BIND `named` for tests: primary for the given zones on a free loopback port, each
 * zone updatable (RFC 2136) with one TSIG key, run in the foreground as the current user with
 * its config, zone files and journals in a temp dir. Stopped by pid. Reusable by any test
 * that needs an authoritative server with dynamic updates (DNS-01 publishing, a wildcard order).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { installed } from '../../../bench/test-support.js';
import { freeUdpPort } from './free-port.js';

export const NAMED = '/usr/sbin/named';
export const NSUPDATE = '/usr/bin/nsupdate';

export type TsigAlgorithmName = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha1';

export interface NamedKey {
  readonly name: string;
  readonly algorithm: TsigAlgorithmName;
  /** Base64, as in a BIND `key` statement. */
  readonly secret: string;
}

export interface NamedOptions {
  /** Zones this server is primary for, absolute (`tunnel.test.`); default `['tunnel.test.']`. */
  readonly zones?: readonly string[];
  readonly keyName?: string;
  readonly algorithm?: TsigAlgorithmName;
  /** Extra zone-file lines per zone, e.g. `{ 'tunnel.test.': ['* IN A 127.0.0.1'] }`. */
  readonly records?: Readonly<Record<string, readonly string[]>>;
}

export interface NamedServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `127.0.0.1:<port>`, for settings and `Resolver#setServers`. */
  readonly address: string;
  readonly zones: readonly string[];
  readonly key: NamedKey;
  readonly dir: string;
  /** Everything named wrote so far (it logs to stderr with -g). */
  output(): string;
  stop(): Promise<void>;
}

const STARTUP_MS = 10_000;
const STOP_MS = 5_000;
const PORT_ATTEMPTS = 3;
const READY_ATTEMPTS = 30;

function zoneFile(zone: string, records: readonly string[]): string {
  return [
    '$TTL 60',
    `@ IN SOA ns1.${zone} hostmaster.${zone} 1 3600 600 86400 60`,
    `@ IN NS ns1.${zone}`,
    'ns1 IN A 127.0.0.1',
    ...records,
    '',
  ].join('\n');
}

function namedConf(dir: string, port: number, zones: readonly string[], key: NamedKey): string {
  const zoneBlocks = zones.map(
    (zone, i) => `zone "${zone}" { type primary; file "zone${i}.db"; allow-update { key "${key.name}"; }; };`,
  );
  return [
    `include "${join(dir, 'key.conf')}";`,
    'options {',
    `  directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  pid-file none;',
    '  session-keyfile none;',
    '  recursion no;',
    '  dnssec-validation no;',
    '};',
    // No rndc control channel: it would bind 127.0.0.1:953, shared by every test run.
    'controls { };',
    ...zoneBlocks,
    '',
  ].join('\n');
}

function waitForStart(child: ChildProcess, logs: string[]): Promise<'running' | 'port-taken'> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const text = logs.join('');
      if (/\brunning\b/.test(text)) done('running');
      else if (/address in use/i.test(text)) done('port-taken');
    };
    const onExit = (code: number | null): void => {
      cleanup();
      if (/address in use/i.test(logs.join(''))) resolve('port-taken');
      else
        reject(new Error(`named exited (code ${code}) before it was ready:\n${logs.join('').slice(-3000)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(`named did not report "running" within ${STARTUP_MS} ms:\n${logs.join('').slice(-3000)}`),
      );
    }, STARTUP_MS);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stderr!.off('data', check);
      child.off('exit', onExit);
    };
    const done = (result: 'running' | 'port-taken'): void => {
      cleanup();
      resolve(result);
    };
    child.stderr!.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

/** One update to `zone` through nsupdate (an independent client); resolves with its error text, or '' when accepted. */
function tryUpdate(dir: string, port: number, zone: string): Promise<string> {
  const script = [
    `server 127.0.0.1 ${port}`,
    `zone ${zone}`,
    `update delete _ready.${zone} TXT`,
    'send',
    '',
  ].join('\n');
  return new Promise((resolve) => {
    const child = execFile(
      NSUPDATE,
      ['-t', '2', '-k', join(dir, 'key.conf')],
      { timeout: 5_000 },
      (err, _out, stderr) => resolve(err === null ? '' : stderr || err.message),
    );
    child.stdin!.end(script);
  });
}

/**
 * named logs "running" a moment before its UDP listener answers (an update sent at once gets
 * ICMP unreachable or is dropped). Ready means an update was accepted: deleting a record that
 * does not exist, which changes nothing. Bounded: READY_ATTEMPTS tries, 100 ms apart.
 */
async function waitForUpdates(dir: string, port: number, zone: string): Promise<void> {
  let problem = '';
  for (let attempt = 0; attempt < READY_ATTEMPTS; attempt++) {
    problem = await tryUpdate(dir, port, zone);
    if (problem === '') return;
    await sleep(100);
  }
  throw new Error(`named did not accept an update to ${zone} from nsupdate: ${problem}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
  await exited;
  clearTimeout(timer);
}

/** Starts named; throws saying what to install when it is missing. */
export async function startNamed(options: NamedOptions = {}): Promise<NamedServer> {
  if (!installed(NAMED)) {
    throw new Error(
      `${NAMED} is not installed: apt-get install bind9 (or run scripts/setup-test-machine.sh)`,
    );
  }
  if (!installed(NSUPDATE)) {
    throw new Error(
      `${NSUPDATE} is not installed: apt-get install bind9-dnsutils (or run scripts/setup-test-machine.sh)`,
    );
  }
  const zones = options.zones ?? ['tunnel.test.'];
  const algorithm = options.algorithm ?? 'hmac-sha256';
  const key: NamedKey = {
    name: options.keyName ?? 'burrow-test-key.',
    algorithm,
    secret: randomBytes(algorithm === 'hmac-sha512' ? 64 : 32).toString('base64'),
  };
  const dir = mkdtempSync(join(tmpdir(), 'burrow-named-'));
  zones.forEach((zone, i) =>
    writeFileSync(join(dir, `zone${i}.db`), zoneFile(zone, options.records?.[zone] ?? [])),
  );
  // One file both named and nsupdate read.
  writeFileSync(
    join(dir, 'key.conf'),
    `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };\n`,
  );
  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpPort();
    const conf = join(dir, 'named.conf');
    writeFileSync(conf, namedConf(dir, port, zones, key));
    // -g: foreground, logs to stderr; -n 1: one worker thread (the machine is shared).
    const child = spawn(NAMED, ['-g', '-n', '1', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    const logs: string[] = [];
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => logs.push(chunk));
    const started = await waitForStart(child, logs).catch(async (err: unknown) => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    });
    if (started === 'port-taken') {
      await stopChild(child);
      if (attempt < PORT_ATTEMPTS) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`named found its port taken ${PORT_ATTEMPTS} times:\n${logs.join('').slice(-2000)}`);
    }
    try {
      for (const zone of zones) await waitForUpdates(dir, port, zone);
    } catch (err) {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${(err as Error).message}\nnamed's log:\n${logs.join('').slice(-2000)}`);
    }
    return {
      host: '127.0.0.1',
      port,
      address: `127.0.0.1:${port}`,
      zones,
      key,
      dir,
      output: () => logs.join(''),
      stop: async () => {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
