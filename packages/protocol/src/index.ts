/** @burrow/protocol: the wire format, the multiplexed session, and its transports. */

export * from './errors.js';
export * from './frame.js';
export * from './decoder.js';
export * from './messages.js';
export * from './head-limits.js';
export * from './http-rules.js';
export * from './stream-state.js';
export * from './stream.js';
export * from './pipe.js';
export * from './session.js';
export * from './timers.js';
export * from './versions.js';
export type { Transport, TransportHandlers } from './transport/transport.js';
export {
  WebSocketTransport,
  WEBSOCKET_SUBPROTOCOL,
  websocketMaxPayload,
  type Corkable,
} from './transport/websocket.js';
export { createMemoryTransportPair } from './transport/memory.js';
