/**
 * The `acme.dns` settings group: where the edge publishes ACME DNS-01 challenge records,
 * through RFC 2136 dynamic updates signed with TSIG (`server` and the `tsig*` settings) or
 * through an operator's exec hook (`hook`). Both unset means no DNS-01 publishing.
 */
import { isAbsolute } from 'node:path';
import * as z from 'zod';
import { TSIG_ALGORITHMS } from '../certs/dns/tsig.js';
import { parseDnsServers } from './dns-servers.js';
import { isHostname } from './hostname.js';
import { GROUP_REQUIREMENT, enumSetting, msSetting, withMeta } from './setting-schema.js';

const SERVER_REQUIREMENT =
  'an IP address with an optional port (ip, ip:port or [IPv6]:port; 53 when omitted)';
const ZONE_REQUIREMENT = 'a DNS zone name such as example.com (leave unset to find it by SOA queries)';
const KEY_NAME_REQUIREMENT = 'a TSIG key name as the DNS server knows it, such as burrow-acme';
const SECRET_REQUIREMENT = 'base64 (as tsig-keygen prints it)';
const HOOK_REQUIREMENT = 'an absolute path of an executable';

const server = z
  .string({ error: SERVER_REQUIREMENT })
  .transform((text, ctx) => {
    const parsed = parseDnsServers(text);
    if (!parsed.ok || parsed.servers.length !== 1) {
      ctx.addIssue({ code: 'custom', message: SERVER_REQUIREMENT });
      return z.NEVER;
    }
    const entry = parsed.servers[0]!;
    const bracketed = /^\[(.+)\]:(\d+)$/.exec(entry);
    if (bracketed !== null) return { host: bracketed[1]!, port: Number(bracketed[2]) };
    const hostPort = /^([\d.]+):(\d+)$/.exec(entry);
    if (hostPort !== null) return { host: hostPort[1]!, port: Number(hostPort[2]) };
    return { host: entry, port: 53 };
  })
  .nullable()
  .default(null);

/** A name stored absolute and lower-case, as DNS compares it. */
const zone = z
  .string({ error: ZONE_REQUIREMENT })
  .trim()
  .toLowerCase()
  .transform((text) => (text.endsWith('.') ? text.slice(0, -1) : text))
  .refine(isHostname, { error: ZONE_REQUIREMENT })
  .transform((text) => `${text}.`)
  .nullable()
  .default(null);

const keyName = z
  .string({ error: KEY_NAME_REQUIREMENT })
  .trim()
  .refine((text) => isHostname(text.endsWith('.') ? text.slice(0, -1) : text), {
    error: KEY_NAME_REQUIREMENT,
  })
  .nullable()
  .default(null);

const secret = z
  .string({ error: SECRET_REQUIREMENT })
  .trim()
  .refine((text) => /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 !== 1, {
    error: SECRET_REQUIREMENT,
  })
  .nullable()
  .default(null);

const hook = z
  .string({ error: HOOK_REQUIREMENT })
  .refine(isAbsolute, { error: HOOK_REQUIREMENT })
  .nullable()
  .default(null);

export const acmeDnsSettings = z
  .strictObject(
    {
      server: withMeta(server, { flag: 'acmeDnsServer' }),
      zone: withMeta(zone, { flag: 'acmeDnsZone' }),
      tsigKeyName: withMeta(keyName, { flag: 'acmeDnsTsigKeyName' }),
      tsigAlgorithm: withMeta(enumSetting(TSIG_ALGORITHMS, 'hmac-sha256'), { flag: 'acmeDnsTsigAlgorithm' }),
      // No flag: a flag would show the secret in `ps` to every user of the machine.
      tsigSecret: withMeta(secret, { secret: true }),
      propagationTimeoutMs: msSetting(120_000, 1000),
      hook: withMeta(hook, { flag: 'acmeDnsHook' }),
      // Hooks for hosted DNS often wait for their provider's propagation themselves.
      hookTimeoutMs: msSetting(180_000, 1000),
    },
    { error: GROUP_REQUIREMENT },
  )
  .superRefine((dns, ctx) => {
    if (dns.server === null) return;
    if (dns.hook !== null) {
      ctx.addIssue({
        code: 'custom',
        path: ['hook'],
        message: 'unset when acme.dns.server is set (choose one way to publish)',
      });
    }
    if (dns.tsigKeyName === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['tsigKeyName'],
        message: 'set when acme.dns.server is set (updates are signed with TSIG)',
      });
    }
    if (dns.tsigSecret === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['tsigSecret'],
        message: 'set when acme.dns.server is set (updates are signed with TSIG)',
      });
    }
  })
  .prefault({});
