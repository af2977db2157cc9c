/**
 * Notices when the SQLite file an edge has open is no longer the file at its path: deleted,
 * or replaced (a backup copied over it, a move). SQLite keeps writing to the open file,
 * which nobody will ever read again, while CLI commands open whatever is at the path now, so
 * their changes never reach the edge. better-sqlite3 exposes no file descriptor, so the
 * path's device and inode, taken when the store was opened, are compared with a fresh stat.
 */
import { statSync, type Stats } from 'node:fs';
import { TunnelError, type Timers } from '@burrow/protocol';

/** How often the edge re-checks on its own, so the problem is logged even if nobody polls readiness. */
export const SQLITE_FILE_CHECK_INTERVAL_MS = 5_000;

export interface SqliteFileWatchOptions {
  /** Path of the open database file. */
  file: string;
  timers: Timers;
  /** Default SQLITE_FILE_CHECK_INTERVAL_MS. */
  intervalMs?: number;
  /** Told when the answer changes: the problem when it appears, null when it goes away. */
  onChange(problem: TunnelError | null): void;
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

export class SqliteFileWatch {
  private readonly dev: number;
  private readonly ino: number;
  private timer: unknown = null;
  private last: TunnelError | null = null;

  /** Call right after opening the store: records which file the path names now. */
  constructor(private readonly options: SqliteFileWatchOptions) {
    const stats = statSync(options.file);
    this.dev = stats.dev;
    this.ino = stats.ino;
  }

  /** Re-stats the path (cheap); null while it still names the open file. */
  check(): TunnelError | null {
    const { file } = this.options;
    const now = statOrNull(file);
    let problem: TunnelError | null = null;
    if (now === null) {
      problem = new TunnelError(
        'TUN_ERR_STORE_REPLACED',
        `store file ${file} was deleted while the edge runs: changes go to a file nobody will read; restart the edge`,
      );
    } else if (now.dev !== this.dev || now.ino !== this.ino) {
      problem = new TunnelError(
        'TUN_ERR_STORE_REPLACED',
        `store file ${file} was replaced by another file while the edge runs: the edge and the CLI now use different files; restart the edge`,
      );
    }
    // Only transitions are reported, so a poller asking every second logs nothing new.
    if ((problem === null) !== (this.last === null)) this.options.onChange(problem);
    this.last = problem;
    return problem;
  }

  start(): void {
    this.timer ??= this.options.timers.setInterval(
      () => this.check(),
      this.options.intervalMs ?? SQLITE_FILE_CHECK_INTERVAL_MS,
    );
  }

  stop(): void {
    this.options.timers.clearInterval(this.timer);
    this.timer = null;
  }
}
