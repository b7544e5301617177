'use client';
// The client layer: one Socket.IO connection per browser tab, shared by every
// component, with a connection status, typed events, session restore hooks
// and an offline queue.
//
//   const { socket, status } = useSocket('/chat');
//   useEvent(socket, 'message', (m) => setMessages((ms) => [...ms, m]));
//   useRestore(socket, room ? () => socket.timeout(5000).emitWithAck('join', { room }) : null, [room]);
//   const ack = await send(socket, 'message', { room, text }); // queued while offline
//
// Typed with the app's event maps (nextconfig -types' SocketEvents, or maps
// of your own in that shape): register them once (see Register in
// 'sockside'), or take typed functions from withEvents<SocketEvents>().
//
// By default the browser reaches the server same-origin at /socket.io/ through
// Next's rewrite (nextconfig's withSocketIO). NEXT_PUBLIC_SOCKET_URL (read at
// build time) points it at a server on another origin instead, which must
// list the app's origin in SOCKET_CORS_ORIGINS.
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { Manager, type Socket } from 'socket.io-client';
import type { ClientEvents, EventsMap, NamespaceOf, RegisteredEvents, ServerEvents } from './index.js';

/** A socket typed with namespace N's event maps from E. */
export type TypedSocket<E, N extends keyof E> = Socket<ServerEvents<E, N>, ClientEvents<E, N>>;

/**
 * connecting: never connected yet (first attempts); connected: see transport;
 * reconnecting: lost, socket.io-client retries with backoff; offline: the
 * browser is offline, or the socket will not retry by itself (refused with
 * error, disconnected by the server, or released).
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface ConnectionStatus {
  state: ConnectionState;
  /** The Engine.IO transport while connected: polling until the upgrade. */
  transport: 'polling' | 'websocket' | null;
  /** The socket id while connected. */
  id: string | null;
  /** Whether the last connect recovered the previous session (id, rooms, missed events). */
  recovered: boolean;
  /** The reconnection attempt in progress, 0 when connected. */
  attempt: number;
  /** Why the socket is not connected: connect_error message or disconnect reason. */
  error: string | null;
  /** Emits waiting in the offline queue. */
  queued: number;
}

/** What sockside's server sends just before it disconnects a socket. */
interface Disconnect {
  code: number;
  reason: string;
}

function publicEnv(read: () => string | undefined): string | undefined {
  try {
    return read();
  } catch {
    return undefined; // no process object (a bundler that does not inline NEXT_PUBLIC_ variables)
  }
}

/** Tunables; change them with configureSockets before the first useSocket. */
export const socketOptions = {
  /** Where the server is; empty: same origin through Next's rewrite. Default: NEXT_PUBLIC_SOCKET_URL. */
  url: publicEnv(() => process.env.NEXT_PUBLIC_SOCKET_URL) ?? '',
  /** The server's SOCKET_PATH. Default: NEXT_PUBLIC_SOCKET_PATH, else /socket.io/. */
  path: publicEnv(() => process.env.NEXT_PUBLIC_SOCKET_PATH) ?? '/socket.io/',
  /** How long send() waits for an ack once the event is on the wire. */
  ackTimeoutMs: 10_000,
  /** How many emits the offline queue holds per namespace; more are rejected. */
  maxQueue: 100,
  /** How long an emit may wait in the offline queue before it is rejected. */
  queueTimeoutMs: 60_000,
  /** How long an unused socket stays connected (covers React strict mode and quick navigation). */
  releaseDelayMs: 3_000,
};

export type SocketOptions = typeof socketOptions;

/** Changes socketOptions; call it once, before any socket is created. */
export function configureSockets(options: Partial<SocketOptions>): void {
  Object.assign(socketOptions, options);
}

/** Thrown (as a rejection of send) when an emit cannot be delivered. */
export class SendError extends Error {
  constructor(
    message: string,
    readonly code: 'queue-full' | 'queue-timeout' | 'ack-timeout' | 'offline',
  ) {
    super(message);
    this.name = 'SendError';
  }
}

// ---------------------------------------------------------------------------
// Shared connection state (module level: one per tab)

// Any socket, whatever its event maps.
type AnySocket = Socket<any, any>;
type Restore = () => unknown;
/** A restore hook and the session (socket id) it last ran for. */
type RestoreState = { session: string | null };

interface Queued {
  event: string;
  args: unknown[];
  resolve: (ack: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Managed {
  socket: Socket;
  status: ConnectionStatus;
  listeners: Set<() => void>;
  users: number;
  releaseTimer: ReturnType<typeof setTimeout> | null;
  restores: Map<Restore, RestoreState>;
  queue: Queued[];
  /** Connected and restored: emits go out directly when the queue is empty. */
  ready: boolean;
  flushing: boolean;
  /** The server's disconnect-reason, kept for the disconnect that follows. */
  lastReason: Disconnect | null;
  /** The handshake auth version the last connect attempt sent. */
  sentAuth: number;
  /** setHandshakeAuth asked for a reconnect while a connect was in flight. */
  renewWanted: boolean;
  /** Reconnecting on purpose (renew): keep the queue. */
  renewing: boolean;
}

let manager: Manager | null = null;
const managed = new Map<string, Managed>();
const bySocket = new WeakMap<AnySocket, Managed>();
let handshakeAuth: Record<string, unknown> = {};
let authVersion = 0;

const initialStatus: ConnectionStatus = {
  state: 'connecting',
  transport: null,
  id: null,
  recovered: false,
  attempt: 0,
  error: null,
  queued: 0,
};

function getManager(): Manager {
  if (manager) return manager;
  const opts = { path: socketOptions.path, autoConnect: false, withCredentials: true };
  const m = socketOptions.url ? new Manager(socketOptions.url, opts) : new Manager(opts);
  m.on('reconnect_attempt', (attempt) => {
    for (const s of managed.values()) if (!s.socket.connected && s.socket.active) update(s, { attempt });
  });
  m.on('open', () => {
    // A new engine per connection: follow its upgrade to websocket.
    m.engine.on('upgrade', () => {
      for (const s of managed.values()) if (s.socket.connected) update(s, { transport: transportOf(s.socket) });
    });
  });
  if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
    const refresh = () => {
      for (const s of managed.values()) if (!s.socket.connected) update(s, { state: disconnectedState(s) });
    };
    window.addEventListener('online', refresh);
    window.addEventListener('offline', refresh);
  }
  manager = m;
  return m;
}

function transportOf(socket: Socket): ConnectionStatus['transport'] {
  const name = socket.io.engine?.transport?.name;
  return name === 'websocket' || name === 'polling' ? name : null;
}

function browserOffline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}

function disconnectedState(s: Managed): ConnectionState {
  if (!s.socket.active || browserOffline()) return 'offline';
  return s.status.id === null && s.status.state === 'connecting' ? 'connecting' : 'reconnecting';
}

function update(s: Managed, patch: Partial<ConnectionStatus>): void {
  const next = { ...s.status, ...patch, queued: s.queue.length };
  const changed = (Object.keys(next) as (keyof ConnectionStatus)[]).some((k) => next[k] !== s.status[k]);
  if (!changed) return;
  s.status = next;
  for (const l of s.listeners) l();
}

function managedFor(namespace: string): Managed {
  let s = managed.get(namespace);
  if (s) return s;
  // The auth callback runs on every (re)connect, so a name set later is sent.
  const socket = getManager().socket(namespace, {
    auth: (cb) => {
      s!.sentAuth = authVersion; // s is set below, before any connect
      cb({ ...handshakeAuth });
    },
  });
  s = {
    socket,
    status: initialStatus,
    listeners: new Set(),
    users: 0,
    releaseTimer: null,
    restores: new Map(),
    queue: [],
    ready: false,
    flushing: false,
    lastReason: null,
    sentAuth: -1,
    renewWanted: false,
    renewing: false,
  };
  const self = s;
  socket.on('connect', () => {
    self.ready = false;
    if (self.renewWanted && self.sentAuth !== authVersion) {
      // This connect was sent before setHandshakeAuth: do it again.
      renew(self);
      return;
    }
    self.renewWanted = false;
    update(self, {
      state: 'connected',
      transport: transportOf(socket),
      id: socket.id ?? null,
      recovered: socket.recovered,
      attempt: 0,
      error: null,
    });
    void restoreThenFlush(self);
  });
  socket.on('disconnect', (reason) => {
    self.ready = false;
    const why = self.lastReason ? `${self.lastReason.reason} (${self.lastReason.code})` : reason;
    self.lastReason = null;
    if (self.renewing) return;
    update(self, { state: disconnectedState(self), transport: null, id: null, error: why });
    if (!socket.active) rejectQueue(self, `disconnected: ${why}`);
  });
  socket.on('connect_error', (err) => {
    update(self, { state: disconnectedState(self), error: err.message });
    if (!socket.active) rejectQueue(self, `connection refused: ${err.message}`);
  });
  (socket as unknown as Socket<{ 'disconnect-reason': (d: Disconnect) => void }>).on('disconnect-reason', (d) => {
    self.lastReason = d;
  });
  managed.set(namespace, s);
  bySocket.set(socket, s);
  return s;
}

function managedOf(socket: AnySocket, caller: string): Managed {
  const s = bySocket.get(socket);
  if (!s) throw new Error(`${caller}: not a socket from getSocket/useSocket`);
  return s;
}

async function restoreThenFlush(s: Managed): Promise<void> {
  const socket = s.socket;
  // A new session (not recovered) has lost the rooms and the like: every hook
  // puts its part back, before anything queued goes out (a queued message
  // needs its room). A recovered session kept them: only hooks that never
  // ran for it (added while disconnected) run.
  const due = [...s.restores].filter(([, st]) => !socket.recovered || st.session !== socket.id);
  await Promise.allSettled(due.map(([fn, st]) => runRestore(socket, fn, st)));
  if (!socket.connected) return;
  s.ready = true;
  await flush(s);
}

async function runRestore(socket: Socket, fn: Restore, st: RestoreState): Promise<void> {
  const session = socket.id ?? null;
  await fn();
  st.session = session;
}

/**
 * forgetSession makes the next connect start a new session. socket.io-client
 * keeps the recovery id (private _pid) across a manual disconnect(), so a
 * later connect() would ask the server to recover a session the app meant
 * to end, with its old handshake identity.
 */
function forgetSession(socket: Socket): void {
  (socket as unknown as { _pid?: string })._pid = undefined;
}

async function flush(s: Managed): Promise<void> {
  if (s.flushing) return;
  s.flushing = true;
  try {
    // One at a time: each waits for its ack, so the server handles them in
    // the order they were queued.
    while (s.queue.length > 0 && s.ready && s.socket.connected) {
      const item = s.queue.shift()!;
      clearTimeout(item.timer);
      update(s, {});
      await dispatch(s.socket, item);
    }
  } finally {
    s.flushing = false;
  }
}

function dispatch(socket: Socket, item: Pick<Queued, 'event' | 'args' | 'resolve' | 'reject'>): Promise<void> {
  return new Promise((done) => {
    socket.timeout(socketOptions.ackTimeoutMs).emit(item.event, ...item.args, (err: Error | null, ack: unknown) => {
      if (err) item.reject(new SendError(`${item.event}: ${err.message}`, 'ack-timeout'));
      else item.resolve(ack);
      done();
    });
  });
}

function rejectQueue(s: Managed, why: string): void {
  const items = s.queue.splice(0);
  for (const item of items) {
    clearTimeout(item.timer);
    item.reject(new SendError(why, 'offline'));
  }
  if (items.length > 0) update(s, {});
}

function acquire(s: Managed): void {
  s.users++;
  if (s.releaseTimer) {
    clearTimeout(s.releaseTimer);
    s.releaseTimer = null;
  }
  if (!s.socket.active) {
    update(s, { state: browserOffline() ? 'offline' : 'connecting', error: null, attempt: 0, id: null });
    forgetSession(s.socket);
    s.socket.connect();
  }
}

function release(s: Managed): void {
  s.users--;
  if (s.users > 0 || s.releaseTimer) return;
  s.releaseTimer = setTimeout(() => {
    s.releaseTimer = null;
    if (s.users === 0) {
      s.socket.disconnect();
      rejectQueue(s, 'socket released');
    }
  }, socketOptions.releaseDelayMs);
}

/** renew reconnects s as a new session, to send the current handshake auth. */
function renew(s: Managed): void {
  s.renewWanted = false;
  s.renewing = true;
  try {
    s.socket.disconnect();
  } finally {
    s.renewing = false;
  }
  forgetSession(s.socket);
  s.socket.connect();
  update(s, { state: 'connecting', transport: null, id: null, error: null, attempt: 0 });
}

// ---------------------------------------------------------------------------
// Public API: the functions that name a namespace, typed by event maps

/** The namespace-taking functions, typed with event maps E (see withEvents). */
export interface TypedSockets<E> {
  /**
   * getSocket returns the tab's socket for namespace, created on first use and
   * not connected until a component uses it (useSocket) or you call
   * retainSocket.
   */
  getSocket<N extends NamespaceOf<E>>(namespace: N): TypedSocket<E, N>;
  /**
   * useSocket returns the tab's socket for namespace and its live status. The
   * socket connects while at least one component uses it and disconnects
   * socketOptions.releaseDelayMs after the last one unmounts; re-renders and
   * strict mode's double effects reuse the same connection.
   */
  useSocket<N extends NamespaceOf<E>>(namespace: N): { socket: TypedSocket<E, N>; status: ConnectionStatus };
  /**
   * retainSocket connects the namespace's socket (if it is not already) and
   * returns the function that lets it go: the socket disconnects
   * socketOptions.releaseDelayMs after the last holder let go. useSocket does
   * this for components; call it yourself outside React.
   */
  retainSocket(namespace: NamespaceOf<E>): () => void;
}

function getSocketImpl(namespace: string): Socket {
  return managedFor(namespace).socket;
}

function useSocketImpl(namespace: string): { socket: Socket; status: ConnectionStatus } {
  const s = managedFor(namespace);
  useEffect(() => retainSocketImpl(namespace), [namespace]);
  const status = useSyncExternalStore(
    (onChange) => subscribeStatus(s.socket, onChange),
    () => s.status,
    () => initialStatus,
  );
  return { socket: s.socket, status };
}

function retainSocketImpl(namespace: string): () => void {
  const s = managedFor(namespace);
  acquire(s);
  let held = true;
  return () => {
    if (held) release(s);
    held = false;
  };
}

const untyped = { getSocket: getSocketImpl, useSocket: useSocketImpl, retainSocket: retainSocketImpl };

/**
 * withEvents returns getSocket, useSocket and retainSocket typed with event
 * maps E (nextconfig's generated SocketEvents, or maps of your own). They are
 * the same functions, over the same per-tab connection:
 *
 *   export const { getSocket, useSocket, retainSocket } = withEvents<SocketEvents>();
 */
export function withEvents<E>(): TypedSockets<E> {
  return untyped as unknown as TypedSockets<E>;
}

/** getSocket, typed with the registered event maps (see Register in 'sockside'). */
export const getSocket: TypedSockets<RegisteredEvents>['getSocket'] = untyped.getSocket as never;
/** useSocket, typed with the registered event maps (see Register in 'sockside'). */
export const useSocket: TypedSockets<RegisteredEvents>['useSocket'] = untyped.useSocket as never;
/** retainSocket, typed with the registered event maps (see Register in 'sockside'). */
export const retainSocket: TypedSockets<RegisteredEvents>['retainSocket'] = untyped.retainSocket;

// ---------------------------------------------------------------------------
// Public API: the functions that take a socket, typed by it

/**
 * setHandshakeAuth sets what sockets send as the handshake's auth (e.g.
 * `{ name }` for an anonymous display name; with SOCKET_AUTH_SECRET the
 * server reads the JWT from the cookie instead). Connected sockets reconnect
 * to send it when reconnect is true.
 */
export function setHandshakeAuth(auth: Record<string, unknown>, { reconnect = false } = {}): void {
  handshakeAuth = { ...auth };
  authVersion++;
  if (!reconnect) return;
  for (const s of managed.values()) {
    if (s.socket.connected) renew(s);
    else if (s.socket.active) s.renewWanted = true; // on its connect
  }
}

/** The handshake auth sockets send (see setHandshakeAuth). */
export function getHandshakeAuth(): Readonly<Record<string, unknown>> {
  return handshakeAuth;
}

/** statusOf reads a socket's current connection status. */
export function statusOf(socket: AnySocket): ConnectionStatus {
  return bySocket.get(socket)?.status ?? initialStatus;
}

/**
 * subscribeStatus calls onChange whenever the socket's status changes (read
 * it with statusOf); it returns the unsubscribe function.
 */
export function subscribeStatus(socket: AnySocket, onChange: () => void): () => void {
  const s = managedOf(socket, 'subscribeStatus');
  s.listeners.add(onChange);
  return () => {
    s.listeners.delete(onChange);
  };
}

/**
 * useEvent calls handler for each event the server emits on socket, always
 * the latest handler, removing the listener on unmount.
 */
export function useEvent<S extends EventsMap, Ev extends keyof S & string>(
  socket: Socket<S, any>,
  event: Ev,
  handler: S[Ev],
): void {
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    const listener = (...args: unknown[]) => (latest.current as (...a: unknown[]) => void)(...args);
    const raw = socket as unknown as Socket;
    raw.on(event, listener as never);
    return () => {
      raw.off(event, listener as never);
    };
  }, [socket, event]);
}

/**
 * useRestore keeps session state on the server that a reconnect may lose: fn
 * runs now if the socket is connected, and again after every connect that did
 * not recover the previous session (a new server, or past the recovery
 * window), before the offline queue is flushed. fn may return a promise (for
 * example emitWithAck('join', ...)); pass null to run nothing.
 */
export function useRestore(socket: AnySocket, fn: Restore | null, deps: readonly unknown[]): void {
  useEffect(
    () => (fn ? onRestore(socket, fn) : undefined),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [socket, ...deps],
  );
}

/** onRestore is useRestore outside React; it returns the function that removes fn. */
export function onRestore(socket: AnySocket, fn: Restore): () => void {
  const s = managedOf(socket, 'onRestore');
  const st: RestoreState = { session: null };
  s.restores.set(fn, st);
  if (s.socket.connected) void runRestore(s.socket, fn, st).catch(() => {});
  return () => {
    s.restores.delete(fn);
  };
}

// The event's arguments before its ack callback, and the ack's value.
type AckFn<F> = F extends (...args: infer A) => void
  ? A extends [...infer Args, (res: infer R) => void]
    ? { args: Args; res: R }
    : never
  : never;
// A map with an index signature (no map given): any event, any arguments.
type Loose<C> = string extends keyof C ? true : false;

/** Names of the client events in map C that take an ack. */
export type AckEvent<C> =
  Loose<C> extends true ? string : { [K in keyof C]: [AckFn<C[K]>] extends [never] ? never : K }[keyof C] & string;
/** The arguments of ack event Ev, without the ack callback. */
export type AckArgs<C, Ev> = Loose<C> extends true ? unknown[] : Ev extends keyof C ? AckFn<C[Ev]>['args'] : never;
/** The value event Ev is acked with. */
export type AckResult<C, Ev> = Loose<C> extends true ? any : Ev extends keyof C ? AckFn<C[Ev]>['res'] : never;

/**
 * send emits event and resolves with the server's ack (a success or an
 * ErrorAck with ok: false). While the socket is not connected (or restoring
 * its session) the emit waits in a bounded queue and goes out, in order, after
 * the reconnect. It rejects with SendError when the queue is full, the emit
 * waited longer than queueTimeoutMs, no ack came within ackTimeoutMs, or the
 * socket stopped retrying (refused, kicked, released).
 */
export function send<C extends EventsMap, Ev extends AckEvent<C>>(
  socket: Socket<any, C>,
  event: Ev,
  ...args: AckArgs<C, Ev>
): Promise<AckResult<C, Ev>> {
  const s = bySocket.get(socket);
  if (!s) return Promise.reject(new Error('send: not a socket from getSocket/useSocket'));
  return new Promise<AckResult<C, Ev>>((resolve, reject) => {
    const item = { event, args: args as unknown[], resolve: resolve as (ack: unknown) => void, reject };
    if (s.ready && s.socket.connected && s.queue.length === 0 && !s.flushing) {
      void dispatch(s.socket, item);
      return;
    }
    if (!s.socket.active) {
      // Refused, kicked or released: nothing would ever flush the queue.
      reject(new SendError(`${event}: ${s.status.error ?? 'socket not connected'}`, 'offline'));
      return;
    }
    if (s.queue.length >= socketOptions.maxQueue) {
      reject(new SendError(`${event}: offline queue full (${socketOptions.maxQueue})`, 'queue-full'));
      return;
    }
    const queued: Queued = {
      ...item,
      timer: setTimeout(() => {
        const i = s.queue.indexOf(queued);
        if (i < 0) return;
        s.queue.splice(i, 1);
        update(s, {});
        reject(new SendError(`${event}: not sent within ${socketOptions.queueTimeoutMs} ms`, 'queue-timeout'));
      }, socketOptions.queueTimeoutMs),
    };
    s.queue.push(queued);
    update(s, {});
    void flush(s);
  });
}
