/**
 * Schema of burrow.yml merged with env and flags. Each zod `error` is the requirement the
 * setting states, so a problem reads "<setting> must be <requirement>". Unknown keys are
 * rejected at every level so a typo is an error, not a silently ignored line.
 */
import * as z from 'zod';
import { LOG_FORMATS } from './agent-config.js';
import { LISTEN_REQUIREMENT, parseListenAddress } from './listen-address.js';
import { tryParseTarget, TARGET_REQUIREMENT } from './target.js';
import { tunnelAccessFields } from './tunnel-access.js';

/** Node timers overflow above 2^31-1 ms and then fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;
const MAPPING = 'a mapping of settings';

const OTLP_ENDPOINT_REQUIREMENT =
  'an http:// or https:// URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (leave unset to export no spans)';
const SERVER_REQUIREMENT = 'an http:// or https:// URL without user:password, query or fragment';
const NAME_REQUIREMENT = 'a DNS label: 1-63 letters, digits or hyphens, not starting or ending with a hyphen';
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function int(defaultValue: number, min: number, max: number) {
  return z
    .number({ error: `an integer from ${min} to ${max}` })
    .int()
    .min(min)
    .max(max)
    .default(defaultValue);
}

function toServerUrl(text: string, ctx: z.core.$RefinementCtx<string>): URL {
  const url = URL.canParse(text) ? new URL(text) : null;
  const fine =
    url !== null &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === '';
  if (fine) return url;
  ctx.addIssue({ code: 'custom', message: SERVER_REQUIREMENT });
  return z.NEVER;
}

const server = z
  .string({ error: SERVER_REQUIREMENT })
  .trim()
  .transform(toServerUrl)
  .prefault('http://localhost:8080');

// Visible ASCII only: catches a key pasted with a trailing newline or quote marks split by a space.
const token = z
  .string({ error: 'an API key (visible characters, no spaces)' })
  .trim()
  .regex(/^[\x21-\x7e]+$/, { error: 'an API key (visible characters, no spaces)' })
  .nullable()
  .default(null);

export const tunnelName = z
  .string({ error: NAME_REQUIREMENT })
  .trim()
  .toLowerCase()
  .regex(DNS_LABEL, { error: NAME_REQUIREMENT });

const addr = z.union([z.string(), z.number()], { error: TARGET_REQUIREMENT }).transform((value, ctx) => {
  const parsed = tryParseTarget(String(value));
  if (parsed.ok) return parsed.origin;
  ctx.addIssue({ code: 'custom', message: parsed.requirement });
  return z.NEVER;
});

const tunnel = z.strictObject(
  {
    proto: z.literal('http', { error: 'http (the only protocol so far)' }).default('http'),
    addr,
    name: tunnelName.nullable().default(null),
    ...tunnelAccessFields,
  },
  { error: MAPPING },
);

export const agentConfigSchema = z.strictObject(
  {
    server,
    token,
    // A path; load-agent-config reads and checks the file.
    ca: z
      .string({ error: 'a path to a PEM file' })
      .trim()
      .min(1, { error: 'a path to a PEM file' })
      .nullable()
      .default(null),
    log: z.enum(LOG_FORMATS, { error: `one of ${LOG_FORMATS.join(', ')}` }).default('text'),
    // `tunnels:` with nothing under it parses as null; treat it like an empty mapping.
    tunnels: z
      .record(
        z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'a tunnel id of letters, digits, _ or -' }),
        tunnel,
        { error: 'a mapping of tunnel ids to tunnels' },
      )
      .nullable()
      .default(null)
      .transform((value) => value ?? {}),
    reconnect: z
      .strictObject(
        {
          initialDelayMs: int(200, 10, MAX_TIMER_MS),
          maxDelayMs: int(15_000, 10, MAX_TIMER_MS),
          multiplier: z.number({ error: 'a number from 1 to 10' }).min(1).max(10).default(2),
          jitter: z.number({ error: 'a number from 0 to 1' }).min(0).max(1).default(0.2),
        },
        { error: MAPPING },
      )
      .prefault({}),
    shutdownMs: int(10_000, 0, MAX_TIMER_MS),
    originTimeoutMs: int(60_000, 100, MAX_TIMER_MS),
    maxOriginConnections: int(128, 1, 10_000),
    // Span export over OTLP/HTTP (tracing/); off without an endpoint.
    otlp: z
      .strictObject(
        {
          endpoint: z
            .url({ protocol: /^https?$/, error: OTLP_ENDPOINT_REQUIREMENT })
            .nullable()
            .default(null),
          serviceName: z
            .string({ error: 'a service name (1 to 255 characters)' })
            .trim()
            .min(1, { error: 'a service name (1 to 255 characters)' })
            .max(255, { error: 'a service name (1 to 255 characters)' })
            .default('burrow-agent'),
          maxQueue: int(2048, 1, 1_000_000),
        },
        { error: MAPPING },
      )
      .prefault({}),
    // Prometheus `/metrics` of the agent; null: no listener, no metrics kept.
    metricsListen: z
      .union([z.string(), z.number()], { error: LISTEN_REQUIREMENT })
      .transform((value, ctx) => {
        const parsed = parseListenAddress(String(value));
        if (parsed !== null) return parsed;
        ctx.addIssue({ code: 'custom', message: LISTEN_REQUIREMENT });
        return z.NEVER;
      })
      .nullable()
      .default(null),
  },
  { error: MAPPING },
);
