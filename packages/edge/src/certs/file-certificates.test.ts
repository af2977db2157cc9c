import { chmodSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { realTimers } from '@burrow/protocol';
import { useScratchDir } from '../../../../test/support/scratch-dir.js';
import { createLogger } from '../logger.js';
import { CertificateBook } from './certificate-book.js';
import { FileCertificates } from './file-certificates.js';
import { createTestCa, type TestCa, type TestCertificateFiles } from '../../../../test/support/test-ca.js';
import { openTls, servedSerial, startSniServer, type SniServer } from './test-support/sni-server.js';

const scratch = useScratchDir('burrow-file-certs-');
const HOST = 'tunnel.example.com';
let ca: TestCa;
let dirCount = 0;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  ca = await createTestCa();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Rig {
  readonly dir: string;
  readonly first: TestCertificateFiles;
  readonly source: FileCertificates;
  readonly server: SniServer;
  readonly logs: Record<string, unknown>[];
}

/** A log destination that parses each JSON line into `logs`. */
function logSink(logs: Record<string, unknown>[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
}

/** A fresh directory holding cert.pem/key.pem, loaded by a started source into a book behind a real TLS server. */
async function rig(debounceMs = 100): Promise<Rig> {
  dirCount += 1;
  const dir = join(scratch.path, `d${dirCount}`);
  mkdirSync(dir);
  const first = await ca.issue({ names: [HOST, `*.${HOST}`], dir, basename: 'edge' });
  const logs: Record<string, unknown>[] = [];
  const sink = logSink(logs);
  const book = new CertificateBook({ defaultHost: HOST });
  const source = new FileCertificates({
    certFile: first.certFile,
    keyFile: first.keyFile,
    book,
    log: createLogger('info', sink),
    timers: realTimers,
    debounceMs,
    pollMs: 60_000,
  });
  source.load();
  source.start();
  const server = await startSniServer(book);
  cleanups.push(
    () => source.stop(),
    () => server.close(),
  );
  return { dir, first, source, server, logs };
}

/** Polls `probe` until it returns true, for at most `ms`. */
async function eventually(probe: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

/** Writes a new pair beside the old one and renames it over, key first (as certbot's deploy hooks do). */
function renameOver(
  rig: Rig,
  next: { certPem: string; keyPem: string },
  order: 'key-first' | 'cert-first' = 'key-first',
): void {
  writeFileSync(join(rig.dir, '.cert.tmp'), next.certPem);
  writeFileSync(join(rig.dir, '.key.tmp'), next.keyPem, { mode: 0o600 });
  const moves = [
    () => renameSync(join(rig.dir, '.key.tmp'), rig.first.keyFile),
    () => renameSync(join(rig.dir, '.cert.tmp'), rig.first.certFile),
  ];
  for (const move of order === 'key-first' ? moves : moves.reverse()) move();
}

function errorsIn(logs: Record<string, unknown>[]): Record<string, unknown>[] {
  return logs.filter((line) => (line.level as number) >= 50);
}

describe('FileCertificates', () => {
  it('installs the pair at start with origin file', async () => {
    const { first, server, source } = await rig();
    expect(await servedSerial(server.port, `app.${HOST}`)).toBe(first.serialNumber);
    expect(source.current?.origin).toBe('file');
    expect(source.lastError).toBeNull();
  });

  it('serves a pair renamed over the old files to new handshakes, without disturbing open connections', async () => {
    const r = await rig();
    const inFlight = await openTls(r.server.port, `app.${HOST}`);
    cleanups.push(() => void inFlight.destroy());
    const next = await ca.issue({ names: [HOST, `*.${HOST}`] });
    renameOver(r, next, 'cert-first');
    await eventually(async () => (await servedSerial(r.server.port, `app.${HOST}`)) === next.serialNumber);
    // The connection opened before the swap still talks, on the certificate it was given.
    expect(inFlight.getPeerCertificate().serialNumber).toBe(r.first.serialNumber);
    const echoed = new Promise<string>((resolve) =>
      inFlight.once('data', (data: Buffer) => resolve(data.toString())),
    );
    inFlight.write('still here');
    expect(await echoed).toBe('still here');
    expect(errorsIn(r.logs)).toEqual([]);
  });

  it('does not read a pair half-way: a cert written just before its key is installed without an error', async () => {
    const r = await rig(300);
    const next = await ca.issue({ names: [HOST] });
    writeFileSync(r.first.certFile, next.certPem);
    await new Promise((resolve) => setTimeout(resolve, 60));
    writeFileSync(r.first.keyFile, next.keyPem);
    await eventually(async () => (await servedSerial(r.server.port, HOST)) === next.serialNumber);
    expect(errorsIn(r.logs)).toEqual([]);
  });

  it('keeps serving the old certificate when the file is replaced with garbage, and logs the error', async () => {
    const r = await rig();
    writeFileSync(r.first.certFile, 'this is not a certificate\n');
    await eventually(() => errorsIn(r.logs).length > 0);
    expect(errorsIn(r.logs)[0]).toMatchObject({ code: 'TUN_ERR_CERT_INVALID', certFile: r.first.certFile });
    expect(r.source.lastError?.code).toBe('TUN_ERR_CERT_INVALID');
    expect(await servedSerial(r.server.port, `app.${HOST}`)).toBe(r.first.serialNumber);
    // Fixing the file clears the error and serves the fixed pair.
    const fixed = await ca.issue({ names: [HOST] });
    renameOver(r, fixed);
    await eventually(async () => (await servedSerial(r.server.port, HOST)) === fixed.serialNumber);
    expect(r.source.lastError).toBeNull();
  });

  it('keeps serving the old certificate when the new key does not match, and logs the error once', async () => {
    const r = await rig();
    const a = await ca.issue({ names: [HOST] });
    const b = await ca.issue({ names: [HOST] });
    renameOver(r, { certPem: a.certPem, keyPem: b.keyPem });
    await eventually(() => errorsIn(r.logs).length > 0);
    expect(String(errorsIn(r.logs)[0]!.msg)).toMatch(/does not match/);
    expect(await servedSerial(r.server.port, HOST)).toBe(r.first.serialNumber);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(errorsIn(r.logs)).toHaveLength(1);
  });

  it('follows a Kubernetes-style secret volume, where a ..data symlink is swapped by rename', async () => {
    dirCount += 1;
    const dir = join(scratch.path, `k${dirCount}`);
    mkdirSync(join(dir, '..v1'), { recursive: true });
    const first = await ca.issue({ names: [HOST], dir: join(dir, '..v1'), basename: 'tls' });
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/tls.pem', join(dir, 'tls.crt'));
    symlinkSync('..data/tls-key.pem', join(dir, 'tls.key'));
    const book = new CertificateBook({ defaultHost: HOST });
    const source = new FileCertificates({
      certFile: join(dir, 'tls.crt'),
      keyFile: join(dir, 'tls.key'),
      book,
      log: createLogger('silent'),
      timers: realTimers,
      debounceMs: 100,
    });
    source.load();
    source.start();
    const server = await startSniServer(book);
    cleanups.push(
      () => source.stop(),
      () => server.close(),
    );
    expect(await servedSerial(server.port, HOST)).toBe(first.serialNumber);

    mkdirSync(join(dir, '..v2'));
    const next = await ca.issue({ names: [HOST], dir: join(dir, '..v2'), basename: 'tls' });
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await eventually(async () => (await servedSerial(server.port, HOST)) === next.serialNumber);
  });

  it('warns when the key file is readable by other users', async () => {
    const r = await rig();
    chmodSync(r.first.keyFile, 0o644);
    const again = new FileCertificates({
      certFile: r.first.certFile,
      keyFile: r.first.keyFile,
      book: new CertificateBook(),
      log: createLogger('info', logSink(r.logs)),
      timers: realTimers,
    });
    again.load();
    expect(r.logs.filter((line) => line.level === 40)).toEqual([
      expect.objectContaining({
        keyFile: r.first.keyFile,
        mode: '644',
        msg: expect.stringMatching(/chmod 600/),
      }),
    ]);
  });

  it('refuses to start on an unusable pair, naming the files', async () => {
    const r = await rig();
    writeFileSync(r.first.certFile, 'garbage');
    const again = new FileCertificates({
      certFile: r.first.certFile,
      keyFile: r.first.keyFile,
      book: new CertificateBook(),
      log: createLogger('silent'),
      timers: realTimers,
    });
    expect(() => again.load()).toThrow(expect.objectContaining({ code: 'TUN_ERR_CERT_INVALID' }));
    expect(() => again.load()).toThrow(r.first.certFile);
  });
});
