// docs/configuration.md is written by hand; this keeps its agent section in step with the loader.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_OVERRIDES, flagText } from './load-agent-config.js';
import { TUNNEL_ACCESS_FLAGS } from './tunnel-access.js';

const doc = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
const agentSection = doc.slice(doc.indexOf('## burrow (agent)'));

const FILE_KEYS = [
  'server',
  'token',
  'ca',
  'log',
  'tunnels.<id>',
  'tunnels.<id>.proto',
  'tunnels.<id>.addr',
  'tunnels.<id>.name',
  'reconnect.initialDelayMs',
  'reconnect.maxDelayMs',
  'reconnect.multiplier',
  'reconnect.jitter',
  'shutdownMs',
  'originTimeoutMs',
  'maxOriginConnections',
  'otlp.endpoint',
  'otlp.serviceName',
  'otlp.maxQueue',
  'metricsListen',
  ...Object.keys(TUNNEL_ACCESS_FLAGS).map((key) => `tunnels.<id>.${key}`),
];

describe('docs/configuration.md (agent section)', () => {
  it('has an agent section', () => {
    expect(agentSection.length).toBeGreaterThan(0);
  });

  it.each(AGENT_OVERRIDES.flatMap((o) => (o.env === null ? [] : [o.env])))('mentions env %s', (name) => {
    expect(agentSection).toContain(`\`${name}\``);
  });

  const flags = [
    ...AGENT_OVERRIDES.map((o) => flagText(o.flag)),
    'name',
    ...Object.values(TUNNEL_ACCESS_FLAGS),
  ];
  it.each(flags.map((flag) => `--${flag}`))('mentions flag %s', (flag) => {
    expect(agentSection).toContain(`\`${flag}\``);
  });

  it.each(FILE_KEYS)('mentions config file key %s', (key) => {
    expect(agentSection).toContain(`\`${key}\``);
  });
});
