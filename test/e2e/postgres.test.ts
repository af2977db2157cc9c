/**
 * The edge on PostgreSQL (`--database-url`): keys made by the CLI against the same
 * database work at the edge, names and their owners survive an edge restart, and a
 * database that cannot be reached stops the edge with a message naming it.
 */

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TestDatabases } from '../../packages/edge/src/store/test-support/postgres-databases.js';
import { EDGE_CLI, Proc, startAgent, startEdge, startOrigin, stopAll, tunnelRequest } from './harness.js';
import { originHandler } from './origin.js';

const databases = new TestDatabases();

afterEach(stopAll);
afterAll(() => databases.dropAll(), 120_000);

async function cli(url: string, ...args: string[]): Promise<Proc> {
  const proc = new Proc([EDGE_CLI, ...args, '--database-url', url]);
  await proc.exited;
  return proc;
}

describe('edge on PostgreSQL', () => {
  it('serves tunnels with keys and names kept in PostgreSQL, across a restart', async () => {
    const url = await databases.url('e2e_edge');
    expect((await cli(url, 'users', 'create', 'pat')).child.exitCode).toBe(0);
    const key = (await cli(url, 'keys', 'create', '--user', 'pat')).lines[0]!.trim();
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({ env: { BURROW_DATABASE_URL: url } });
    const agent = await startAgent(edge, String(origin.port), { name: 'pgapp', token: key });
    expect((await tunnelRequest(edge, 'pgapp', '/echo')).statusCode).toBe(200);

    agent.proc.signal('SIGINT');
    await agent.proc.exited;
    edge.proc.signal('SIGTERM');
    await edge.proc.exited;
    // A fresh data directory: everything the edge needs is in the database.
    const again = await startEdge({ env: { BURROW_DATABASE_URL: url } });
    const names = await cli(url, 'names', 'list', '--json');
    expect(JSON.parse(names.lines.join(''))).toEqual([
      expect.objectContaining({ name: 'pgapp', kind: 'named', ownerUserName: 'pat' }),
    ]);
    await startAgent(again, String(origin.port), { name: 'pgapp', token: key });
    expect((await tunnelRequest(again, 'pgapp', '/echo')).statusCode).toBe(200);
  });

  it('stops with a readable error, without the password, when the database cannot be reached', async () => {
    const proc = new Proc([
      EDGE_CLI,
      'start',
      '--listen',
      '127.0.0.1:0',
      '--database-url',
      'postgres://burrow:hunter2@127.0.0.1:1/burrow',
    ]);
    expect(await proc.exited).toBe(1);
    expect(proc.output).toMatch(/TUN_ERR_CONFIG_INVALID|cannot use PostgreSQL/);
    expect(proc.output).toContain('127.0.0.1:1');
    expect(proc.output).not.toContain('hunter2');
  });
});
