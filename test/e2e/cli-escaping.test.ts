/**
 * Text the CLI prints comes from people (key labels, user names): control characters in it
 * are refused on the way in, naming the field, and escaped on the way out for rows that
 * were stored before (or behind the store's back), so a listing cannot drive the terminal.
 */

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { edgeCli, stopAll, tempDir } from './harness.js';

afterEach(stopAll);

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

describe('control characters in CLI input and output', () => {
  it('refuses a key label with control characters, naming the label', async () => {
    const dir = tempDir();
    const run = await edgeCli(dir, 'keys', 'create', '--label', 'evil\u001b[2J\u001b[Hfake');
    expect(run.code).toBe(1);
    const err = run.stderr.join('\n');
    expect(err).toMatch(/label/);
    expect(err).toMatch(/TUN_ERR_INVALID_INPUT/);
    expect(err).not.toMatch(RAW_CONTROL);
    expect((await edgeCli(dir, 'keys', 'list', '--json')).stdout.join('')).toBe('[]');
  });

  it('does not echo control characters of a refused user name', async () => {
    const run = await edgeCli(tempDir(), 'users', 'create', 'bob\u0007\u001b[31m');
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toMatch(/not a valid user name/);
    expect(run.stderr.join('\n')).not.toMatch(RAW_CONTROL);
  });

  it('escapes control characters in labels and user names already stored', async () => {
    const dir = tempDir();
    expect((await edgeCli(dir, 'users', 'create', 'mallory')).code).toBe(0);
    expect((await edgeCli(dir, 'keys', 'create', '--label', 'plain', '--user', 'mallory')).code).toBe(0);
    // Rows written before validation existed, or by hand: the listing must still be safe.
    const db = new Database(join(dir, 'burrow.db'));
    db.prepare("UPDATE api_keys SET label = ? WHERE label = 'plain'").run('evil\u001b[2J\u202e');
    db.prepare("UPDATE users SET name = ? WHERE name = 'mallory'").run('mal\u001b[31mlory');
    db.close();
    const keys = await edgeCli(dir, 'keys', 'list');
    expect(keys.code).toBe(0);
    expect(keys.stdout.join('\n')).not.toMatch(RAW_CONTROL);
    expect(keys.stdout.join('\n')).toContain('evil\\x1b[2J\\u202e');
    expect(keys.stdout.join('\n')).toContain('mal\\x1b[31mlory');
    const users = await edgeCli(dir, 'users', 'list');
    expect(users.stdout.join('\n')).not.toMatch(RAW_CONTROL);
    expect(users.stdout.join('\n')).toContain('mal\\x1b[31mlory');
  });
});
