/**
 * Names the store file this process cannot write, before SQLite gets to it: SQLite only says
 * "attempt to write a readonly database", whichever of the directory, the database, its
 * -wal or its -shm is to blame. The usual cause is files left by an edge that ran as another
 * user (often root) and stopped uncleanly, so the message says whose they are.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';

function writeRefusal(path: string): string | null {
  try {
    accessSync(path, constants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EROFS') return 'on a read-only file system';
    let owner = '';
    try {
      const stats = statSync(path);
      owner = `owned by uid ${stats.uid}, mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}; `;
    } catch {
      // Unreadable metadata: the refusal alone still names the file.
    }
    const self = process.getuid
      ? `this process runs as uid ${process.getuid()}`
      : 'not writable by this process';
    return `(${owner}${self})`;
  }
}

/**
 * Null when the data directory and every existing store file are writable; otherwise a
 * message naming the first one that is not and what to do about it.
 */
export function unwritableStoreFile(file: string): string | null {
  const dir = dirname(file);
  const dirRefusal = writeRefusal(dir);
  if (dirRefusal !== null) {
    return `data directory ${dir} is not writable ${dirRefusal}; SQLite creates its -wal and -shm files there: give the user burrow-edge runs as write access to it`;
  }
  const dbRefusal = writeRefusal(file);
  if (dbRefusal !== null) {
    return `${file} is not writable ${dbRefusal}; fix its owner or permissions (chown it to the user burrow-edge runs as)`;
  }
  const wal = `${file}-wal`;
  const walRefusal = writeRefusal(wal);
  if (walRefusal !== null) {
    // The WAL may hold committed transactions not yet copied into the database.
    return `${wal} is not writable ${walRefusal}; do not remove it, it may hold the latest changes: fix its owner or permissions (chown it to the user burrow-edge runs as)`;
  }
  const shm = `${file}-shm`;
  const shmRefusal = writeRefusal(shm);
  if (shmRefusal !== null) {
    // The -shm is only an index of the WAL that SQLite rebuilds: removing it is safe when no process has the database open.
    return `${shm} is not writable ${shmRefusal}; it is likely left by a burrow-edge that ran as another user and stopped uncleanly: remove it if no other burrow-edge runs on this data directory, or fix its permissions`;
  }
  return null;
}
