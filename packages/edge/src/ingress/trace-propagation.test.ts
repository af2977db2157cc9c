import { afterEach, describe, expect, it } from 'vitest';
import { headerValue } from './headers.js';
import { startIngressRig, type IngressRig } from '../test-support/ingress-rig.js';

let rig: IngressRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const VIEWER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_FIELDS = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

describe('trace context toward the agent', () => {
  it("continues the viewer's trace in OPEN: same trace id, a new parent, tracestate passed through", async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    const res = await rig.send(name, {
      headers: { traceparent: VIEWER, tracestate: 'rojo=00f067aa0ba902b7' },
    });
    expect(res.status).toBe(200);
    const head = agent.opened.at(-1)!;
    const sent = TRACE_FIELDS.exec(headerValue(head.headers, 'traceparent') ?? '');
    expect(sent?.[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(sent?.[2]).not.toBe('00f067aa0ba902b7');
    expect(sent?.[3]).toBe('01');
    expect(head.headers.filter((h) => h.toLowerCase() === 'traceparent')).toHaveLength(1);
    expect(headerValue(head.headers, 'tracestate')).toBe('rojo=00f067aa0ba902b7');
  });

  it('starts a trace for a request without one, and a fresh one per request', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    await rig.send(name, { headers: { tracestate: 'orphan=1' } });
    await rig.send(name, { headers: { traceparent: 'not-a-traceparent' } });
    const [first, second] = agent.opened.map((head) =>
      TRACE_FIELDS.exec(headerValue(head.headers, 'traceparent') ?? ''),
    );
    expect(first?.[1]).toMatch(/^[0-9a-f]{32}$/);
    expect(second?.[1]).toMatch(/^[0-9a-f]{32}$/);
    expect(first?.[1]).not.toBe(second?.[1]);
    // Not exporting (the rig samples no new traces): the origin is told so.
    expect(first?.[3]).toBe('00');
    expect(headerValue(agent.opened[0]!.headers, 'tracestate')).toBeUndefined();
  });
});
