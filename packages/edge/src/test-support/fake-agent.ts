/**
 * A scriptable agent for in-process edge tests, the mirror of the agent's FakeEdge: a real
 * agent-role Session over the memory transport that sends HELLO and BIND when told and
 * answers each OPEN however the test says (HEAD, DATA, END, RESET), in milliseconds.
 * Test-only support.
 */

import {
  FrameType,
  Session,
  TunnelError,
  createMemoryTransportPair,
  decodeBindAck,
  decodeErrorMessage,
  decodeHelloAck,
  realTimers,
  type BindAck,
  type HelloAck,
  type MuxStream,
  type RequestHead,
  type Transport,
} from '@burrow/protocol';

export const FAKE_AGENT_LIMITS = {
  window: 256 * 1024,
  maxFramePayload: 64 * 1024,
  maxStreams: 100,
  heartbeatMs: 10_000,
  deadPeerMs: 30_000,
};

/** How the test answers one OPEN; the stream's request head is `head`. */
export type OpenHandler = (stream: MuxStream, head: RequestHead) => void;

export class FakeAgent {
  readonly session: Session;
  /** Every OPEN the edge sent, in order. */
  readonly opened: RequestHead[] = [];
  private handler: OpenHandler = (stream) => reply(stream, 200, [], 'ok');
  private readonly replies: { type: number; payload: Buffer }[] = [];
  private readonly waiters: (() => void)[] = [];

  /** `accept` serves the edge end (e.g. a gateway rig's `attach`). */
  constructor(accept: (edgeEnd: Transport) => void) {
    const [edgeEnd, agentEnd] = createMemoryTransportPair();
    accept(edgeEnd);
    this.session = new Session({
      transport: agentEnd,
      role: 'agent',
      timers: realTimers,
      ...FAKE_AGENT_LIMITS,
    });
    this.session.on('control', (type, payload) => {
      this.replies.push({ type, payload });
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.session.on('stream', (stream) => {
      const head = stream.requestHead!;
      this.opened.push(head);
      this.handler(stream, head);
    });
  }

  /** Answers every later OPEN with `handler`. */
  serve(handler: OpenHandler): void {
    this.handler = handler;
  }

  async hello(token: string | null = null): Promise<HelloAck> {
    this.session.sendControl(FrameType.HELLO, {
      versions: [1],
      agent: 'fake-agent',
      token,
      window: FAKE_AGENT_LIMITS.window,
      maxFramePayload: FAKE_AGENT_LIMITS.maxFramePayload,
    });
    const ack = decodeHelloAck(await this.next(FrameType.HELLO_ACK));
    this.session.setPeerLimits({ window: ack.window, maxFramePayload: ack.maxFramePayload });
    return ack;
  }

  private bindId = 0;

  async bind(name: string | null, policy: Record<string, unknown> | null = null): Promise<BindAck> {
    const id = ++this.bindId;
    this.session.sendControl(FrameType.BIND, {
      id,
      proto: 'http',
      name,
      resumeToken: null,
      policy,
      force: false,
    });
    return decodeBindAck(await this.next(FrameType.BIND_ACK));
  }

  close(): void {
    this.session.destroy(new TunnelError('TUN_ERR_GOING_AWAY', 'the fake agent closed'));
  }

  /** The next control frame of `type`; an ERROR frame rejects. */
  private async next(type: number): Promise<Buffer> {
    for (;;) {
      const index = this.replies.findIndex((r) => r.type === type || r.type === FrameType.ERROR);
      if (index !== -1) {
        const [found] = this.replies.splice(index, 1);
        if (found!.type === FrameType.ERROR) {
          const message = decodeErrorMessage(found!.payload);
          throw TunnelError.fromWire(message.code, message.message);
        }
        return found!.payload;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

/** A whole response: HEAD, one DATA if there is a body, END. Sets Content-Length unless given. */
export function reply(stream: MuxStream, status: number, headers: string[], body = ''): void {
  const bytes = Buffer.from(body);
  const out = headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length')
    ? headers
    : [...headers, 'Content-Length', String(bytes.length)];
  stream.respond({ status, statusText: '', headers: out }, { fin: bytes.length === 0 });
  if (bytes.length > 0) {
    stream.write(bytes);
    stream.end();
  }
}
