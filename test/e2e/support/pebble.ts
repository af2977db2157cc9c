/**
 * Debian's `pebble` ACME server and `pebble-challtestsrv` (its DNS) on loopback, started by
 * a test. Every name resolves to 127.0.0.1 and Pebble validates HTTP-01 on `httpPort`, so
 * give it the edge's plain port. Pebble serves its API over TLS with a certificate made
 * from the shared test CA for 127.0.0.1 (`tlsCaFile`, what `--acme-ca-file` takes); the root it signs with is
 * `root()`. Both processes are stopped by pid in `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa } from '../../support/test-ca.js';
import { freeTcpPort, freeUdpPort } from './free-port.js';

const INSTALL = 'run scripts/setup-test-machine.sh (Debian package pebble)';

export interface PebbleOptions {
  /** Where Pebble's VA connects for HTTP-01 (the edge's plain listener port). */
  httpPort: number;
  /**
   * The DNS server Pebble's VA asks (`ip:port`), e.g. a test's `named` for DNS-01; default a
   * `pebble-challtestsrv` answering 127.0.0.1 for every name.
   */
  dnsServer?: string;
}

export class Pebble {
  readonly directoryUrl: string;
  readonly tlsCaFile: string;
  private readonly children: ChildProcess[];
  private readonly dir: string;
  private readonly managementUrl: string;
  private readonly dispatcher: Agent;
  private readonly output: string[];

  private constructor(fields: {
    directoryUrl: string;
    managementUrl: string;
    tlsCaFile: string;
    children: ChildProcess[];
    dir: string;
    tlsCa: string;
    output: string[];
  }) {
    this.directoryUrl = fields.directoryUrl;
    this.managementUrl = fields.managementUrl;
    this.tlsCaFile = fields.tlsCaFile;
    this.children = fields.children;
    this.dir = fields.dir;
    this.output = fields.output;
    this.dispatcher = new Agent({ connect: { ca: fields.tlsCa } });
  }

  static async start(options: PebbleOptions): Promise<Pebble> {
    for (const tool of ['/usr/bin/pebble', '/usr/bin/pebble-challtestsrv']) {
      if (!existsSync(tool)) throw new Error(`${tool} is missing: ${INSTALL}`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'burrow-pebble-'));
    // Pebble's API certificate, from the shared test CA: the CA is what `--acme-ca-file` trusts.
    const tlsCa = await createTestCa({ dir, name: 'Pebble API test CA' });
    const tlsCaFile = tlsCa.certFile;
    const tlsLeaf = await tlsCa.issue({ names: ['127.0.0.1', 'localhost'], days: 2, dir, basename: 'tls' });
    const [listen, management, challMgmt, dns] = await Promise.all([
      freeTcpPort(),
      freeTcpPort(),
      freeTcpPort(),
      freeUdpPort(),
    ]);
    const config = join(dir, 'pebble.json');
    writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${listen}`,
          managementListenAddress: `127.0.0.1:${management}`,
          certificate: tlsLeaf.certFile,
          privateKey: tlsLeaf.keyFile,
          httpPort: options.httpPort,
          tlsPort: 1,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    const output: string[] = [];
    const capture = (child: ChildProcess): ChildProcess => {
      child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      return child;
    };
    const challtestsrv =
      options.dnsServer !== undefined
        ? null
        : capture(
            spawn(
              '/usr/bin/pebble-challtestsrv',
              [
                '-defaultIPv4',
                '127.0.0.1',
                '-defaultIPv6',
                '',
                '-dns01',
                `127.0.0.1:${dns}`,
                '-http01',
                '',
                '-https01',
                '',
                '-tlsalpn01',
                '',
                '-management',
                `127.0.0.1:${challMgmt}`,
              ],
              { stdio: ['ignore', 'pipe', 'pipe'] },
            ),
          );
    const pebbleProc = capture(
      spawn('/usr/bin/pebble', ['-config', config, '-dnsserver', options.dnsServer ?? `127.0.0.1:${dns}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
      }),
    );
    const pebble = new Pebble({
      directoryUrl: `https://127.0.0.1:${listen}/dir`,
      managementUrl: `https://127.0.0.1:${management}`,
      tlsCaFile,
      tlsCa: tlsCa.certPem,
      children: challtestsrv === null ? [pebbleProc] : [challtestsrv, pebbleProc],
      dir,
      output,
    });
    await pebble.waitReady();
    return pebble;
  }

  /** Pebble's current root, PEM (regenerated at every start). */
  async root(): Promise<string> {
    const res = await request(`${this.managementUrl}/roots/0`, { dispatcher: this.dispatcher });
    if (res.statusCode !== 200) throw new Error(`pebble /roots/0 answered ${res.statusCode}`);
    return res.body.text();
  }

  /** What both processes printed, for failure messages. */
  log(): string {
    return this.output.join('');
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null || child.pid === undefined) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }),
    );
    await this.dispatcher.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      for (const child of this.children) {
        if (child.exitCode !== null) throw new Error(`pebble exited early:\n${this.log()}`);
      }
      const ok = await request(this.directoryUrl, { dispatcher: this.dispatcher })
        .then(async (res) => (await res.body.text(), res.statusCode === 200))
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`pebble did not answer at ${this.directoryUrl}:\n${this.log()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
