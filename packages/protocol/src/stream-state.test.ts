import { describe, expect, it } from 'vitest';
import { TunnelError } from './errors.js';
import { StreamStateMachine, type StreamEvent, type StreamState } from './stream-state.js';

const ALL_EVENTS: StreamEvent[] = [
  'sendOpen',
  'recvOpen',
  'sendHead',
  'recvHead',
  'sendData',
  'recvData',
  'sendFin',
  'recvFin',
  'sendReset',
  'recvReset',
];

function machineAfter(events: StreamEvent[]): StreamStateMachine {
  const m = new StreamStateMachine();
  for (const e of events) m.transition(e);
  return m;
}

function stateAfter(events: StreamEvent[]): StreamState {
  return machineAfter(events).state;
}

/** Every reachable situation, the path to it, its state name, and the events it allows. */
const situations: { name: string; path: StreamEvent[]; state: StreamState; legal: StreamEvent[] }[] = [
  { name: 'new', path: [], state: 'init', legal: ['sendOpen', 'recvOpen', 'sendReset', 'recvReset'] },
  {
    name: 'opener after OPEN',
    path: ['sendOpen'],
    state: 'synSent',
    legal: ['recvHead', 'sendData', 'sendFin', 'sendReset', 'recvReset'],
  },
  {
    name: 'opener after OPEN with FIN',
    path: ['sendOpen', 'sendFin'],
    state: 'synSent',
    legal: ['recvHead', 'sendReset', 'recvReset'],
  },
  {
    name: 'acceptor after OPEN',
    path: ['recvOpen'],
    state: 'synReceived',
    legal: ['sendHead', 'recvData', 'recvFin', 'sendReset', 'recvReset'],
  },
  {
    name: 'acceptor after OPEN with FIN',
    path: ['recvOpen', 'recvFin'],
    state: 'synReceived',
    legal: ['sendHead', 'sendReset', 'recvReset'],
  },
  {
    name: 'opener after HEAD',
    path: ['sendOpen', 'recvHead'],
    state: 'established',
    legal: ['sendData', 'recvData', 'sendFin', 'recvFin', 'sendReset', 'recvReset'],
  },
  {
    name: 'acceptor after HEAD',
    path: ['recvOpen', 'sendHead'],
    state: 'established',
    legal: ['sendData', 'recvData', 'sendFin', 'recvFin', 'sendReset', 'recvReset'],
  },
  {
    name: 'local direction ended',
    path: ['sendOpen', 'recvHead', 'sendFin'],
    state: 'localClosed',
    legal: ['recvData', 'recvFin', 'sendReset', 'recvReset'],
  },
  {
    name: 'remote direction ended',
    path: ['recvOpen', 'sendHead', 'recvFin'],
    state: 'remoteClosed',
    legal: ['sendData', 'sendFin', 'sendReset', 'recvReset'],
  },
  {
    name: 'both directions ended',
    path: ['sendOpen', 'recvHead', 'sendFin', 'recvFin'],
    state: 'closed',
    legal: [],
  },
  { name: 'reset by us', path: ['sendOpen', 'sendReset'], state: 'reset', legal: [] },
  { name: 'reset by the peer', path: ['recvOpen', 'sendHead', 'recvReset'], state: 'reset', legal: [] },
];

describe('StreamStateMachine', () => {
  describe.each(situations)('$name ($state)', ({ path, state, legal }) => {
    it(`is in state ${state}`, () => {
      expect(stateAfter(path)).toBe(state);
    });

    it.each(ALL_EVENTS.filter((e) => legal.includes(e)))('allows %s', (event) => {
      expect(() => machineAfter(path).transition(event)).not.toThrow();
    });

    it.each(ALL_EVENTS.filter((e) => !legal.includes(e)))(
      'rejects %s with TUN_ERR_STREAM_STATE and stays put',
      (event) => {
        const m = machineAfter(path);
        const before = { state: m.state, finished: m.finished, canSend: m.canSend, remoteDone: m.remoteDone };
        let caught: unknown;
        try {
          m.transition(event);
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(TunnelError);
        expect((caught as TunnelError).code).toBe('TUN_ERR_STREAM_STATE');
        expect((caught as TunnelError).message).toBe(`${event} is not allowed in state ${state}`);
        expect({
          state: m.state,
          finished: m.finished,
          canSend: m.canSend,
          remoteDone: m.remoteDone,
        }).toEqual(before);
      },
    );
  });

  it('rejects DATA from the acceptor before its HEAD', () => {
    expect(() => machineAfter(['recvOpen']).transition('sendData')).toThrow(TunnelError);
    // ... and the opener refuses to receive it.
    expect(() => machineAfter(['sendOpen']).transition('recvData')).toThrow(TunnelError);
  });

  it('rejects FIN from the acceptor before its HEAD', () => {
    expect(() => machineAfter(['recvOpen']).transition('sendFin')).toThrow(TunnelError);
    expect(() => machineAfter(['sendOpen']).transition('recvFin')).toThrow(TunnelError);
  });

  it('lets the opener stream a request body and FIN before the response head arrives', () => {
    const m = machineAfter(['sendOpen', 'sendData', 'sendData', 'sendFin']);
    expect(m.state).toBe('synSent');
    expect(m.canSend).toBe(false);
    m.transition('recvHead');
    expect(m.state).toBe('localClosed');
  });

  it('lets the acceptor receive a request body before it answers', () => {
    const m = machineAfter(['recvOpen', 'recvData', 'recvData', 'recvFin']);
    expect(m.state).toBe('synReceived');
    expect(m.remoteDone).toBe(true);
    m.transition('sendHead');
    expect(m.state).toBe('remoteClosed');
  });

  it('rejects a second OPEN or HEAD', () => {
    expect(() => machineAfter(['sendOpen']).transition('sendOpen')).toThrow(TunnelError);
    expect(() => machineAfter(['recvOpen', 'sendHead']).transition('sendHead')).toThrow(TunnelError);
    expect(() => machineAfter(['sendOpen', 'recvHead']).transition('recvHead')).toThrow(TunnelError);
  });

  it('rejects DATA after FIN in the same direction', () => {
    expect(() => machineAfter(['sendOpen', 'recvHead', 'sendFin']).transition('sendData')).toThrow(
      TunnelError,
    );
    expect(() => machineAfter(['sendOpen', 'recvHead', 'recvFin']).transition('recvData')).toThrow(
      TunnelError,
    );
  });

  it('closes when both directions end, in either order', () => {
    expect(stateAfter(['sendOpen', 'recvHead', 'recvFin', 'sendFin'])).toBe('closed');
    expect(stateAfter(['recvOpen', 'recvFin', 'sendHead', 'sendFin'])).toBe('closed');
    expect(machineAfter(['recvOpen', 'recvFin', 'sendHead', 'sendFin']).finished).toBe(true);
  });

  it('resets from any live state, and only once', () => {
    for (const path of [
      [],
      ['sendOpen'],
      ['recvOpen'],
      ['sendOpen', 'recvHead', 'sendFin'],
    ] as StreamEvent[][]) {
      const m = machineAfter([...path, 'recvReset']);
      expect(m.state).toBe('reset');
      expect(m.finished).toBe(true);
      expect(m.canSend).toBe(false);
      expect(m.remoteDone).toBe(true);
      expect(() => m.transition('sendReset')).toThrow(TunnelError);
    }
  });

  it('reports what each side may still do', () => {
    const opener = machineAfter(['sendOpen']);
    expect([opener.canSend, opener.remoteDone, opener.finished]).toEqual([true, false, false]);
    const acceptor = machineAfter(['recvOpen']);
    expect([acceptor.canSend, acceptor.remoteDone, acceptor.finished]).toEqual([false, false, false]);
    acceptor.transition('sendHead');
    expect(acceptor.canSend).toBe(true);
  });
});
