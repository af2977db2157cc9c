/**
 * Tunnel names: one DNS label, lower-case, not reserved. Random names come from an
 * alphabet without look-alikes (no 0/o, 1/l/i) so they survive being read aloud or retyped.
 */

import { randomBytes } from 'node:crypto';
import { TunnelError } from '@burrow/protocol';
import { randomText, type RandomBytes } from '../random-text.js';

export const RANDOM_NAME_ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';
export const RANDOM_NAME_LENGTH = 6;

/** Names that would confuse viewers or collide with the edge's own hosts. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'www',
  'api',
  'app',
  'admin',
  'edge',
  'dashboard',
  'status',
  'health',
  'metrics',
  'mail',
  'smtp',
  'ftp',
  'ns1',
  'ns2',
  'localhost',
  'burrow',
  'static',
  'assets',
  'cdn',
  'docs',
  'login',
  'auth',
  'support',
]);

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Returns the normalized name or throws TUN_ERR_NAME_INVALID saying what is wrong. */
export function validateName(raw: string): string {
  const name = raw.trim().toLowerCase();
  if (!LABEL.test(name)) {
    throw new TunnelError(
      'TUN_ERR_NAME_INVALID',
      `"${raw}" is not a valid tunnel name: use 1-63 letters, digits or hyphens, not starting or ending with a hyphen`,
    );
  }
  if (name.includes('--')) {
    throw new TunnelError('TUN_ERR_NAME_INVALID', `"${raw}" is not a valid tunnel name: no double hyphens`);
  }
  if (RESERVED_NAMES.has(name)) throw new TunnelError('TUN_ERR_NAME_INVALID', `"${name}" is a reserved name`);
  return name;
}

/** A temporary tunnel name: RANDOM_NAME_LENGTH characters of RANDOM_NAME_ALPHABET. */
export function randomName(random: RandomBytes = randomBytes): string {
  return randomText(random, RANDOM_NAME_ALPHABET, RANDOM_NAME_LENGTH);
}
