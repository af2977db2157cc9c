/**
 * Rules between settings that are each valid alone but not together. Checked after the
 * schema accepts every setting, so both sides of a rule are known-good numbers.
 */
import type { EdgeConfig } from './edge-config.js';
import { describeSource, type Layered } from './layers.js';

interface Side {
  readonly key: string;
  readonly get: (config: EdgeConfig) => number;
}

interface Rule {
  readonly left: Side;
  readonly relation: 'must exceed' | 'must not exceed';
  readonly right: Side;
  /** Why the combination is wrong, in words for the operator. */
  readonly because: string;
}

const RULES: readonly Rule[] = [
  {
    left: { key: 'timeouts.deadPeerMs', get: (c) => c.timeouts.deadPeerMs },
    relation: 'must exceed',
    right: { key: 'timeouts.heartbeatMs', get: (c) => c.timeouts.heartbeatMs },
    because: 'otherwise a healthy agent is declared dead before its next ping is due',
  },
  {
    left: { key: 'limits.maxHeaderBytes', get: (c) => c.limits.maxHeaderBytes },
    relation: 'must not exceed',
    right: { key: 'limits.maxFramePayload', get: (c) => c.limits.maxFramePayload },
    because: 'a request head travels in a single OPEN frame',
  },
];

function holds(rule: Rule, left: number, right: number): boolean {
  return rule.relation === 'must exceed' ? left > right : left <= right;
}

function describeSide(side: Side, config: EdgeConfig, layered: Layered): string {
  return `${side.key} (${side.get(config)}, ${describeSource(layered.sourceOf(side.key.split('.')))})`;
}

/** Settings that mean something only with another one on: set alone they would silently do nothing. */
function unusedSettings(config: EdgeConfig, layered: Layered): string[] {
  const unused: string[] = [];
  if (config.proxy.protocolFrom.length > 0 && !config.proxy.protocol) {
    unused.push(
      `proxy.protocolFrom is set (${describeSource(layered.sourceOf(['proxy', 'protocolFrom']))}) but ` +
        'proxy.protocol is off: turn it on with --proxy-protocol, or remove proxy.protocolFrom',
    );
  }
  if (config.metricsListen !== null && !config.metrics.enabled) {
    unused.push(
      `metricsListen is set (${describeSource(layered.sourceOf(['metricsListen']))}) but ` +
        'metrics.enabled is false: remove metricsListen, or turn metrics on',
    );
  }
  return unused;
}

/** One sentence per broken rule; empty when the settings agree. */
export function findContradictions(config: EdgeConfig, layered: Layered): string[] {
  return [
    ...RULES.filter((rule) => !holds(rule, rule.left.get(config), rule.right.get(config))).map(
      (rule) =>
        `${describeSide(rule.left, config, layered)} ${rule.relation} ` +
        `${describeSide(rule.right, config, layered)}: ${rule.because}`,
    ),
    ...unusedSettings(config, layered),
  ];
}
