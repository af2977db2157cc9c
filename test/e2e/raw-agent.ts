/**
 * A hand-driven agent for e2e tests of what the edge does with hostile answers: it binds one
 * anonymous tunnel and answers OPEN frames with whatever HEAD and DATA a test scripts.
 */

import WebSocket from 'ws';
import {
  FrameDecoder,
  FrameFlag,
  FrameType,
  WEBSOCKET_SUBPROTOCOL,
  decodeBindAck,
  decodeErrorMessage,
  encodeFrame,
  encodeJson,
  TunnelError,
  type Frame,
} from '@burrow/protocol';

export interface ScriptedHead {
  status: number;
  statusText: string;
  headers: string[];
}

export class ScriptedAgent {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  name = '';
  private readonly decoder = new FrameDecoder({
    maxPayload: 1 << 24,
    onFrame: (f) => this.frames.push({ ...f, payload: Buffer.from(f.payload) }),
  });

  private constructor(port: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/_burrow/connect`, WEBSOCKET_SUBPROTOCOL);
    this.ws.on('message', (data: Buffer) => this.decoder.push(data));
  }

  /** Connects, says HELLO and binds one anonymous tunnel. */
  static async connect(port: number): Promise<ScriptedAgent> {
    const agent = new ScriptedAgent(port);
    await new Promise<void>((resolve, reject) => {
      agent.ws.once('open', () => resolve());
      agent.ws.once('error', reject);
    });
    agent.send(
      FrameType.HELLO,
      0,
      0,
      encodeJson({ versions: [1], agent: 'scripted', token: null, window: 1 << 20, maxFramePayload: 65536 }),
    );
    await agent.nextFrame(FrameType.HELLO_ACK, 0);
    agent.send(FrameType.BIND, 0, 0, encodeJson({ id: 1, proto: 'http', name: null, resumeToken: null }));
    const ack = decodeBindAck((await agent.nextFrame(FrameType.BIND_ACK, 0)).payload);
    if (!ack.ok) throw new Error(ack.message);
    agent.name = ack.name;
    return agent;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): void {
    this.ws.send(encodeFrame(type as FrameType, flags, streamId, payload));
  }

  /** The first frame of `type` after index `from` (bounded wait). */
  async nextFrame(
    type: number,
    from: number,
    timeoutMs = 5000,
    matches: (f: Frame) => boolean = () => true,
  ): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find((f) => f.type === type && matches(f));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no frame of type ${type}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits for the next OPEN and returns its stream id. */
  async accept(from: number): Promise<number> {
    return (await this.nextFrame(FrameType.OPEN, from)).streamId;
  }

  head(streamId: number, head: ScriptedHead, fin = false): void {
    this.send(FrameType.HEAD, fin ? FrameFlag.FIN : 0, streamId, encodeJson(head));
  }

  data(streamId: number, bytes: string | Buffer, fin = false): void {
    this.send(FrameType.DATA, fin ? FrameFlag.FIN : 0, streamId, Buffer.from(bytes));
  }

  end(streamId: number): void {
    this.send(FrameType.DATA, FrameFlag.FIN, streamId);
  }

  /** The code of the RESET the edge sent for `streamId`, waiting for it. */
  async resetCode(streamId: number, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find((f) => f.type === FrameType.RESET && f.streamId === streamId);
      if (found) return TunnelError.fromWire(decodeErrorMessage(found.payload, 'RESET').code).code;
      if (Date.now() > deadline) throw new Error(`no RESET for stream ${streamId}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.ws.close();
  }
}
