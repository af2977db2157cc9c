/**
 * Many agents in one process, through the agent's programmatic API (`startAgent` from
 * packages/agent/dist/index.js), each with its own session and one temporary tunnel to
 * the same origin. Output is silent: the harness learns the names from stdout.
 *
 * Usage: node bench/agents.js --server http://127.0.0.1:E --origin PORT --count N [--concurrency C]
 * Prints {"event":"ready","names":[...],"ms":T} once every tunnel is bound, or
 * {"event":"error","message":...} and exits 1. SIGTERM closes every agent and exits.
 */

import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { pathToFileURL } from 'node:url';
import { AGENT_API } from './processes.js';

/** @param {string} name */
function flag(name) {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : process.argv[i + 1];
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}

/** @param {Record<string, unknown>} event */
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

const server = flag('server');
const origin = flag('origin');
const count = Number(flag('count'));
const concurrency = process.argv.includes('--concurrency') ? Number(flag('concurrency')) : 25;

/** @type {{ startAgent: Function, loadAgentConfig: Function, silentOutput: unknown }} */
const api = await import(pathToFileURL(AGENT_API).href);

/** @type {{ close(): Promise<void>, destroy(): void, tunnels: Promise<{ name: string }[]> }[]} */
const agents = [];
/** @type {string[]} */
const names = new Array(count);
const started = performance.now();
let nextIndex = 0;

async function worker() {
  while (nextIndex < count) {
    const i = nextIndex++;
    const config = api.loadAgentConfig({
      env: {},
      cwd: process.cwd(),
      flags: { server },
      tunnel: { target: origin },
    });
    const agent = api.startAgent(config, { output: api.silentOutput });
    agents.push(agent);
    const [tunnel] = await agent.tunnels;
    names[i] = /** @type {{ name: string }} */ (tunnel).name;
  }
}

let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  for (const agent of agents) agent.destroy();
  setTimeout(() => process.exit(0), 200);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

try {
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  emit({ event: 'ready', names, ms: Math.round(performance.now() - started) });
} catch (err) {
  emit({ event: 'error', message: err instanceof Error ? err.message : String(err) });
  for (const agent of agents) agent.destroy();
  process.exit(1);
}
