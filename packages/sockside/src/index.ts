// sockside: what the client and the server entry points share. Types and
// constants only, so importing it pulls nothing into either bundle.
//
//   sockside/client  the React client layer (browser; 'use client')
//   sockside/server  createHooksHandler and emit (route handlers, server actions; node:crypto)

/** An event map: event names to listener signatures, as socket.io-client's EventsMap. */
export interface EventsMap {
  [event: string]: any;
}

/** Any event, any arguments: the map of a namespace nobody described. */
export interface DefaultEventsMap {
  [event: string]: (...args: any[]) => void;
}

/** One namespace's event maps, the shape of each entry of nextconfig's generated SocketEvents. */
export interface NamespaceEvents {
  serverToClient: EventsMap;
  clientToServer: EventsMap;
}

/**
 * Event maps of every namespace, keyed by namespace name: the `SocketEvents`
 * interface that `nextconfig -types` generates, or one written by hand in the
 * same shape:
 *
 *   interface SocketEvents {
 *     '/notes': { serverToClient: { 'note:added': (n: Note) => void };
 *                 clientToServer: { 'note:add': (n: NewNote, ack: (res: NoteAck | ErrorAck) => void) => void } };
 *   }
 */
export type SocketEventMaps<E> = { [N in keyof E]: NamespaceEvents };

/** Every namespace, any event: what the API is typed with when no map is registered. */
export interface DefaultSocketEvents {
  [namespace: string]: { serverToClient: DefaultEventsMap; clientToServer: DefaultEventsMap };
}

/**
 * Register types the whole API with your app's event maps, once, in any
 * module of the app:
 *
 *   import type { SocketEvents } from './socket-events';
 *   declare module 'sockside' {
 *     interface Register { events: SocketEvents }
 *   }
 *
 * Without it everything is typed with DefaultSocketEvents (any namespace, any
 * event); withEvents<SocketEvents>() (client), createHooksHandler<SocketEvents>()
 * and createEmitter<SocketEvents>() (server) type one use instead.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface, @typescript-eslint/no-empty-object-type
export interface Register {}

/** The registered event maps (see Register), or DefaultSocketEvents. */
export type RegisteredEvents = Register extends { events: infer E } ? E : DefaultSocketEvents;

/** The namespace names of event maps E. */
export type NamespaceOf<E> = keyof E & string;

/** The events the server emits on namespace N. */
export type ServerEvents<E, N extends keyof E> = E[N] extends { serverToClient: infer S extends EventsMap } ? S : DefaultEventsMap;

/** The events clients may emit on namespace N. */
export type ClientEvents<E, N extends keyof E> = E[N] extends { clientToServer: infer C extends EventsMap } ? C : DefaultEventsMap;

/**
 * A client event's arguments without its ack callback, and the ack's
 * arguments: `(p: P, ack: (res: R) => void) => void` is {args: [p: P]; ack: [res: R]}.
 * An event without an ack callback has ack unknown[].
 */
export type SplitAck<F> = F extends (...args: infer A) => any
  ? A extends [...infer Args, infer Last]
    ? [Last] extends [(...res: infer R) => any]
      ? { args: Args; ack: R }
      : { args: A; ack: unknown[] }
    : { args: A; ack: unknown[] }
  : { args: unknown[]; ack: unknown[] };

/** The ack of a refused event, as sockside's servers send it. */
export interface ErrorAck {
  ok: false;
  error: string;
}

/** A socket's identity: the JWT's subject, a hook's connect answer, or anonymous. */
export interface User {
  id: string;
  name?: string;
}

/**
 * The key that marks binary data in the hook protocol's JSON:
 * {"_sockside_binary": "<base64>"} stands for the bytes.
 */
export const BINARY_KEY = '_sockside_binary';

/** The hook protocol version this package speaks (header X-Sockside-Hooks-Version). */
export const HOOKS_VERSION = '1';

// ---------------------------------------------------------------------------
// The hook protocol, version 1, on the wire (the Go server's hooks/protocol.go;
// docs/hooks.md is its reference). sockside/server's createHooksHandler
// speaks it for you; these are for a receiver of your own.

/** What the client sent when it connected (the cookie travels as the hook request's own Cookie header). */
export interface Handshake {
  /** The client's `auth` option, or null. */
  auth: Record<string, unknown> | null;
  /** The first value of each query parameter. */
  query: Record<string, string>;
  /** Lower-case header names, without cookie, authorization and connection-level headers. */
  headers: Record<string, string>;
  address: string;
  /** Unix milliseconds. */
  time: number;
}

/** The body of POST {SOCKET_HOOKS_URL}/connect. */
export interface ConnectRequest {
  namespace: string;
  sid: string;
  /** The server's own idea of the user (the JWT's, or anonymous), which the answer may replace. */
  user: User;
  handshake: Handshake;
}

/** The answer to a connect: accepted (ok: true) or refused (ok: false, error, data). */
export interface ConnectAnswer {
  ok: boolean;
  user?: User;
  data?: unknown;
  join?: string[];
  relay?: string[];
  error?: string;
}

/** What every event and disconnect request says of the socket. */
export interface SocketInfoWire {
  namespace: string;
  sid: string;
  user: User;
  data: unknown;
  /** Without the room of the socket's own id. */
  rooms: string[];
}

/** The body of POST {SOCKET_HOOKS_URL}/event. */
export interface EventRequest extends SocketInfoWire {
  event: string;
  args: unknown[];
  /** Whether the client waits for an ack. */
  ack: boolean;
}

/** One emit of an event answer. */
export interface EmitWire {
  event: string;
  args?: unknown[];
  /** Rooms or socket ids; everyone in the namespace when absent. */
  to?: string[];
  except?: string[];
  /** The socket's own namespace when absent. */
  namespace?: string;
}

/** The answer to an event, applied in this order: join, leave, data, emit, the ack, disconnect. */
export interface EventAnswer {
  ack?: unknown[];
  join?: string[];
  leave?: string[];
  emit?: EmitWire[];
  data?: unknown;
  disconnect?: boolean;
}

/** The body of POST {SOCKET_HOOKS_URL}/disconnect (sent best effort; any 2xx answer will do). */
export interface DisconnectRequest extends SocketInfoWire {
  reason: string;
}
