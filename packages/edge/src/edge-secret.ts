/**
 * The edge's own secret: 32 random bytes kept in `<dataDir>/edge.secret` (mode 0600),
 * made on first start. Tunnel credentials are held as HMACs under it and `burrow_token`
 * cookies are HMACs under it, so keeping it across restarts keeps viewers' cookies valid.
 */

import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TunnelError } from '@burrow/protocol';

export const EDGE_SECRET_FILE = 'edge.secret';
const SECRET_BYTES = 32;

export async function loadEdgeSecret(dataDir: string): Promise<Uint8Array> {
  const file = join(dataDir, EDGE_SECRET_FILE);
  try {
    const existing = await readFile(file);
    if (existing.length === SECRET_BYTES) return existing;
    throw new TunnelError(
      'TUN_ERR_CONFIG_INVALID',
      `${file} holds ${existing.length} bytes, not ${SECRET_BYTES}; delete it to make a new one (viewers' burrow_token cookies then stop working)`,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(SECRET_BYTES);
  // With PostgreSQL nothing else creates the data directory.
  await mkdir(dataDir, { recursive: true });
  // Written whole under a temporary name, then linked into place: a crash never leaves a
  // short file, and if another process linked its secret first (EEXIST), that one is used.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, secret, { mode: 0o600 });
  try {
    await link(temporary, file);
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadEdgeSecret(dataDir);
    throw err;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}
