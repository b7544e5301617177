// The demo's client layer: the sockside package's (sockside/client), typed
// with the demo's generated event maps (socket-events.ts, nextconfig -types).
// One Socket.IO connection per browser tab, shared by every component, with
// a connection status, typed events, session restore hooks and an offline
// queue; packages/sockside/README.md has the whole API.
//
//   const { socket, status } = useSocket('/chat');
//   useEvent(socket, 'message', (m) => setMessages((ms) => [...ms, m]));
//   useRestore(socket, room ? () => socket.timeout(5000).emitWithAck('join', { room }) : null, [room]);
//   const ack = await send(socket, 'message', { room, text }); // queued while offline
//
// By default the browser reaches the server same-origin at /socket.io/ through
// Next's rewrite (next.config.ts, withSocketIO). NEXT_PUBLIC_SOCKET_URL (read
// at build time) points it at a server on another origin instead, which must
// list this app's origin in SOCKET_CORS_ORIGINS.
import { withEvents, type TypedSocket as SocksideSocket } from 'sockside/client';
import type { NamespaceName, SocketEvents } from './socket-events';

export const { getSocket, useSocket, retainSocket } = withEvents<SocketEvents>();

/** A socket typed with namespace N's event maps. */
export type TypedSocket<N extends NamespaceName> = SocksideSocket<SocketEvents, N>;

export {
  configureSockets,
  getHandshakeAuth,
  onRestore,
  send,
  SendError,
  setHandshakeAuth,
  socketOptions,
  statusOf,
  subscribeStatus,
  useEvent,
  useRestore,
  type ConnectionState,
  type ConnectionStatus,
} from 'sockside/client';
