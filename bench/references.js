/**
 * The references Burrow is measured against in the same run, each a path from the client
 * to the same origin:
 *
 * - **nginx**: one reverse-proxy hop. Debian's `/usr/sbin/nginx` as a child process with a
 *   generated config in a temp dir: one worker, keep-alive to the origin, no buffering of
 *   responses or request bodies, WebSocket upgrades passed through, no access log.
 * - **ssh -R**: remote forwarding through a private sshd on loopback. Debian's
 *   `/usr/sbin/sshd` as a child (`-D -e -f <config>`) with its own host key and a generated
 *   client key; `ssh -N -R 127.0.0.1:<port>:127.0.0.1:<origin>` connects to it. Requests
 *   go client → sshd → (the SSH connection) → ssh → origin: the same shape as client →
 *   edge → (the WebSocket) → agent → origin.
 *
 * A reference whose programs are absent is skipped with the reason, never silently. Every
 * process started here is a tracked `Child` (or a tracked descendant of one) and is killed
 * by pid when the harness exits.
 *
 * @typedef {{ label: string, pid: number }} Proc
 * @typedef {{ key: 'nginx' | 'ssh', label: string, url: string, port: number, version: string,
 *   procs: () => Proc[], stop: () => Promise<void>, skips: Record<string, string>, tlsUrl?: string }} Reference
 *   `skips`: transfer kinds (bench/transfer.js) this reference cannot do, with the reason;
 *   `tlsUrl`: nginx's HTTPS server (HTTP/2 and HTTP/1.1), when it was given a certificate
 * @typedef {{ cert: string, key: string }} TlsFiles PEM files
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import process from 'node:process';
import { userInfo } from 'node:os';
import { Child, descendants, freePort, tempDir, waitForPort } from './processes.js';

/** Debian's binaries; BURROW_BENCH_NGINX / BURROW_BENCH_SSHD point elsewhere (absolute paths). */
export const NGINX = process.env.BURROW_BENCH_NGINX ?? '/usr/sbin/nginx';
export const SSHD = process.env.BURROW_BENCH_SSHD ?? '/usr/sbin/sshd';

/** The reference keys, in table order, and their column titles. */
export const REFERENCES = /** @type {const} */ ([
  ['nginx', 'nginx'],
  ['ssh', 'ssh -R'],
]);

/** @param {string} file */
function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of `name` on PATH, or null.
 * @param {string} name
 */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

/**
 * Why a reference cannot run here, or null when its programs are all present.
 * @param {'nginx' | 'ssh'} key
 * @returns {string | null}
 */
export function missingFor(key) {
  if (key === 'nginx') {
    return executable(NGINX) ? null : `${NGINX} not found (apt-get install nginx)`;
  }
  const absent = [
    executable(SSHD) ? null : `${SSHD} (apt-get install openssh-server)`,
    which('ssh') ? null : 'ssh (apt-get install openssh-client)',
    which('ssh-keygen') ? null : 'ssh-keygen (apt-get install openssh-client)',
  ].filter(Boolean);
  return absent.length === 0 ? null : `not found: ${absent.join(', ')}`;
}

/** @param {string} cmd @param {string[]} args */
function firstLine(cmd, args) {
  // nginx -v and ssh -V print to stderr.
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] || 'unknown version';
}

/**
 * Why the full-duplex echo is not measured through nginx: with this config (and with
 * proxy_buffering on too), 3 to 7 of 15 echoes of 10 MiB stalled until the client gave
 * up, with curl and with the node client alike; nginx's HTTP/1.1 proxy does not promise to
 * stream a request body upstream while it streams the response back.
 */
const NGINX_ECHO =
  'nginx stalls on a share of full-duplex echoes (request body still streaming up while the response streams back)';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The location both nginx servers share: the origin behind one hop. */
const PROXY_LOCATION = `location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 60s;
    }`;

/**
 * nginx's HTTPS server, terminating TLS as Burrow's HTTPS listener does: the same
 * certificate, TLS 1.2 and 1.3, ALPN h2 and http/1.1. Session settings are nginx's defaults
 * (tickets on, `ssl_session_cache none`): like Node, it then sends two encrypted stateless
 * TLS 1.3 tickets per handshake (265 bytes each, seen with `openssl s_client -msg`). With
 * `ssl_session_tickets off` it sent two 57-byte session ids instead and skipped the ticket
 * encryption Burrow does for every handshake (about 10% of nginx's CPU per connection).
 * h2load's fresh clients never resume, so every new connection is a full handshake on both.
 * @param {number} port @param {TlsFiles} tls
 */
const tlsServer = (port, tls) => `
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ${PROXY_LOCATION}
  }`;

/**
 * nginx as one reverse-proxy hop in front of the origin; with `tls`, also over HTTPS.
 * @param {{ originPort: number, tls?: TlsFiles }} o
 * @returns {Promise<Reference>}
 */
export async function startNginx(o) {
  const dir = tempDir('burrow-bench-nginx-');
  const port = await freePort();
  const tlsPort = o.tls ? await freePort() : undefined;
  // Workers of a root master run as `nobody` unless told otherwise, and could not use
  // the temp dir (mode 0700); `user` means nothing when the master is not root.
  const conf = `# Generated by bench/references.js for one benchmark run.
${isRoot() ? 'user root;\n' : ''}worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 0;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream origin {
    server 127.0.0.1:${o.originPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    ${PROXY_LOCATION}
  }${o.tls && tlsPort ? tlsServer(tlsPort, o.tls) : ''}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const master = new Child(
    'nginx',
    [
      '-p',
      dir,
      '-e',
      join(dir, 'error.log'),
      '-c',
      join(dir, 'nginx.conf'),
      '-g',
      `daemon off; pid ${dir}/nginx.pid;`,
    ],
    { command: NGINX },
  );
  try {
    await waitForPort(port, 10_000, master);
    if (tlsPort) await waitForPort(tlsPort, 10_000, master);
  } catch (err) {
    await master.stop();
    throw err;
  }
  return {
    key: 'nginx',
    label: 'nginx',
    url: `http://127.0.0.1:${port}`,
    ...(tlsPort ? { tlsUrl: `https://127.0.0.1:${tlsPort}` } : {}),
    port,
    version: firstLine(NGINX, ['-v']),
    skips: { echo: NGINX_ECHO },
    procs: () => [
      { label: 'nginx master', pid: master.pid },
      ...descendants(master.pid).map((pid) => ({ label: 'nginx worker', pid })),
    ],
    stop: async () => {
      await master.stop();
    },
  };
}

/**
 * A private sshd on loopback and `ssh -N -R` through it to the origin.
 * @param {{ originPort: number }} o
 * @returns {Promise<Reference>}
 */
export async function startSshReverse(o) {
  const dir = tempDir('burrow-bench-ssh-');
  const keygen = /** @type {string} */ (which('ssh-keygen'));
  const ssh = /** @type {string} */ (which('ssh'));
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  for (const file of [hostKey, clientKey]) {
    execFileSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'burrow-bench', '-f', file], {
      stdio: 'ignore',
    });
  }
  // sshd's privilege-separation directory; Debian's service unit creates it, we run without one.
  if (isRoot()) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const sshdPort = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    `# Generated by bench/references.js for one benchmark run.
ListenAddress 127.0.0.1
Port ${sshdPort}
HostKey ${hostKey}
PidFile ${join(dir, 'sshd.pid')}
AuthorizedKeysFile ${clientKey}.pub
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowTcpForwarding yes
GatewayPorts no
X11Forwarding no
PrintMotd no
UseDNS no
LogLevel ERROR
`,
  );
  const sshd = new Child('sshd', ['-D', '-e', '-f', config], { command: SSHD });
  /** @type {Child | undefined} */
  let client;
  try {
    await waitForPort(sshdPort, 10_000, sshd);
    const remotePort = await freePort();
    client = new Child(
      'ssh -R',
      [
        '-N',
        '-F',
        '/dev/null',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'ExitOnForwardFailure=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'LogLevel=ERROR',
        '-i',
        clientKey,
        '-p',
        String(sshdPort),
        '-R',
        `127.0.0.1:${remotePort}:127.0.0.1:${o.originPort}`,
        `${userInfo().username}@127.0.0.1`,
      ],
      { command: ssh },
    );
    await waitForPort(remotePort, 15_000, client);
    const sshClient = client;
    return {
      key: 'ssh',
      label: 'ssh -R',
      url: `http://127.0.0.1:${remotePort}`,
      port: remotePort,
      version: firstLine(ssh, ['-V']),
      skips: {},
      procs: () => [
        { label: 'sshd listener', pid: sshd.pid },
        ...descendants(sshd.pid).map((pid) => ({ label: 'sshd session', pid })),
        { label: 'ssh client', pid: sshClient.pid },
      ],
      stop: async () => {
        await sshClient.stop();
        await sshd.stop();
      },
    };
  } catch (err) {
    await client?.stop();
    await sshd.stop();
    throw err;
  }
}

/**
 * Starts every reference whose programs are present. Absent ones are skipped with their
 * reason; one that is present but fails to start is reported in `failed`.
 * @param {{ originPort: number, log: (line: string) => void, want?: ('nginx' | 'ssh')[], tls?: TlsFiles }} o
 */
export async function startReferences(o) {
  /** @type {Reference[]} */
  const started = [];
  /** @type {Record<string, string>} */
  const skipped = {};
  /** @type {Record<string, string>} */
  const failed = {};
  for (const [key, label] of REFERENCES) {
    if (o.want && !o.want.includes(key)) {
      skipped[key] = 'not asked for';
      o.log(`${label}: skipped (not asked for)`);
      continue;
    }
    const missing = missingFor(key);
    if (missing) {
      skipped[key] = missing;
      o.log(`${label}: SKIPPED, ${missing}`);
      continue;
    }
    try {
      const ref = await (key === 'nginx' ? startNginx(o) : startSshReverse(o));
      started.push(ref);
      o.log(
        `${label}: ${ref.url} (${ref.version}; pids ${ref
          .procs()
          .map((p) => p.pid)
          .join(', ')})${ref.tlsUrl ? `, HTTPS ${ref.tlsUrl}` : ''}`,
      );
    } catch (err) {
      failed[key] = err instanceof Error ? err.message : String(err);
      o.log(`${label}: FAILED to start: ${failed[key]}`);
    }
  }
  return {
    started,
    skipped,
    failed,
    stop: () => Promise.all(started.map((r) => r.stop())),
  };
}
