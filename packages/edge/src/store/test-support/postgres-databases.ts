/**
 * Fresh PostgreSQL databases for tests, on the real server (BURROW_TEST_DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/postgres), each created once per name and
 * dropped by `dropAll`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.BURROW_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export class TestDatabases {
  private readonly prefix = `burrow_test_${randomBytes(4).toString('hex')}_`;
  private readonly created = new Map<string, Promise<string>>();

  /** The URL of database `name` (created on first use; the same name gives the same database). */
  url(name: string): Promise<string> {
    let made = this.created.get(name);
    if (made === undefined) {
      const database = `${this.prefix}${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
      made = this.admin(async (client) => {
        await client.query(`create database "${database}"`);
        const url = new URL(ADMIN_URL);
        url.pathname = `/${database}`;
        return url.toString();
      });
      this.created.set(name, made);
    }
    return made;
  }

  async dropAll(): Promise<void> {
    const names = [...this.created.keys()].map(
      (n) => `${this.prefix}${n.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`,
    );
    this.created.clear();
    // Each DROP DATABASE waits for a checkpoint (about 0.5 s here); a file's 80 databases
    // dropped one by one outlast the hook timeout on a busy machine, so eight connections share them.
    const lanes = 8;
    await Promise.all(
      Array.from({ length: lanes }, (_, lane) =>
        this.admin(async (client) => {
          for (let i = lane; i < names.length; i += lanes)
            await client.query(`drop database if exists "${names[i]!}" with (force)`);
        }),
      ),
    );
  }

  private async admin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  }
}
