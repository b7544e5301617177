// createHooksHandler: the app's side of sockside's hooks (protocol v1,
// docs/hooks.md). Every connect, client event and disconnect of a hook
// namespace is a signed POST from the server; this checks the request and
// turns the handler's calls (accept, ack, join, emit, ...) into the answer.
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeBinary, encodeBinary } from './binary.js';
import {
  HOOKS_VERSION,
  type ClientEvents,
  type ConnectAnswer,
  type ConnectRequest,
  type DisconnectRequest,
  type EmitWire,
  type EventAnswer,
  type EventRequest,
  type Handshake,
  type NamespaceOf,
  type RegisteredEvents,
  type ServerEvents,
  type SplitAck,
  type User,
} from './index.js';

/** The request headers of the protocol. */
export const HOOK_HEADERS = {
  version: 'x-sockside-hooks-version',
  timestamp: 'x-sockside-timestamp',
  signature: 'x-sockside-signature',
} as const;

/** The three hooks, the last path segment of their URL. */
export type HookName = 'connect' | 'event' | 'disconnect';

/** How far a request's timestamp may be from this clock, as the Go server's hooks.MaxSkew. */
export const MAX_SKEW_SECONDS = 300;

/**
 * signHook returns the X-Sockside-Signature value of body sent at timestamp
 * (Unix seconds): "v1=" and the hex HMAC-SHA256 under secret of
 * timestamp + "." + body.
 */
export function signHook(secret: string, timestamp: string, body: string | Uint8Array): string {
  return `v1=${createHmac('sha256', secret).update(timestamp).update('.').update(body).digest('hex')}`;
}

/** Why verifyHook refused a request. */
export type VerifyFailure = 'bad-signature' | 'stale';

/**
 * verifyHook checks a hook request's signature (in constant time, against
 * each of secrets) and its timestamp against nowMs; it returns null when the
 * request is genuine and fresh. It does not remember signatures: the replay
 * check is createHooksHandler's.
 */
export function verifyHook(
  secrets: string | readonly string[],
  timestamp: string | null,
  signature: string | null,
  body: Uint8Array,
  nowMs = Date.now(),
  maxSkewSeconds = MAX_SKEW_SECONDS,
): VerifyFailure | null {
  if (timestamp === null || signature === null || !/^[0-9]{1,15}$/.test(timestamp)) return 'bad-signature';
  if (Math.abs(nowMs - Number(timestamp) * 1000) > maxSkewSeconds * 1000) return 'stale';
  const got = Buffer.from(signature);
  let ok = false;
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
    const want = Buffer.from(signHook(secret, timestamp, body));
    // Same length first: timingSafeEqual needs it, and the length is public.
    if (want.length === got.length && timingSafeEqual(want, got)) ok = true;
  }
  return ok ? null : 'bad-signature';
}

/**
 * HookError refuses with a message: thrown from a connect handler it refuses
 * the connect (the client's connect_error gets message and data); from an
 * event handler it acks {ok: false, error: message} and nothing else of the
 * answer happens (like a Go handler's sockside.BadRequest).
 */
export class HookError extends Error {
  constructor(
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'HookError';
  }
}

// ---------------------------------------------------------------------------
// Handler types

type Rooms = string | readonly string[];

/** The socket an event or disconnect hook is about. */
export interface SocketInfo<Data = unknown, N extends string = string> {
  sid: string;
  namespace: N;
  user: User;
  /** The socket's data: the connect answer's, or the last setData's. */
  data: Data;
  /** The rooms it is in (was in, for disconnect), without the room of its own id. */
  rooms: string[];
}

/** The names of namespace N's client events. */
export type ClientEventName<E, N extends keyof E> = keyof ClientEvents<E, N> & string;
/** The names of the events the server emits on namespace N. */
export type ServerEventName<E, N extends keyof E> = keyof ServerEvents<E, N> & string;

type ParamsOf<F> = F extends (...args: infer A) => any ? A : unknown[];
/** A client event's arguments (without the ack callback). */
export type EventArgs<E, N extends keyof E, Ev> = Ev extends keyof ClientEvents<E, N> ? SplitAck<ClientEvents<E, N>[Ev]>['args'] : unknown[];
/** A client event's ack arguments. */
export type EventAck<E, N extends keyof E, Ev> = Ev extends keyof ClientEvents<E, N> ? SplitAck<ClientEvents<E, N>[Ev]>['ack'] : unknown[];
/** What an event handler may return: the ack's value when it has one argument. */
export type AckReturn<A extends unknown[]> = A extends [infer V] ? V | void : A extends [] ? void : number extends A['length'] ? unknown : void;

/** Where an answer's emit goes: rooms or socket ids (everyone when absent), but except. */
export interface EmitTarget {
  to?: Rooms;
  except?: Rooms;
}

/** emit of an event answer: to the socket's namespace, or with namespace to another one. */
export interface AnswerEmit<E, N extends keyof E> {
  <Ev extends ServerEventName<E, N>>(event: Ev, args: ParamsOf<ServerEvents<E, N>[Ev]>, options?: EmitTarget): void;
  <M extends NamespaceOf<E>, Ev extends ServerEventName<E, M>>(
    event: Ev,
    args: ParamsOf<ServerEvents<E, M>[Ev]>,
    options: EmitTarget & { namespace: M },
  ): void;
}

/** What a connect handler gets. Returning without refuse() accepts. */
export interface ConnectContext<E = RegisteredEvents, N extends NamespaceOf<E> = NamespaceOf<E>, Data = unknown> {
  hook: 'connect';
  /**
   * The hook request. Its Cookie header is the browser's (the server forwards
   * it), so cookies() from next/headers and session helpers built on it
   * (auth(), getServerSession) read the user's session in a Next route handler.
   */
  request: Request;
  /** The request's cookies, parsed. */
  cookies: Record<string, string>;
  namespace: N;
  socket: { sid: string; namespace: N; user: User };
  handshake: Handshake;
  /** Accepts: user replaces the socket's user; data is its data; join its first rooms; relay the events the server rebroadcasts to the sender's rooms without asking the app. */
  accept(options?: { user?: User; data?: Data; join?: Rooms; relay?: readonly ClientEventName<E, N>[] }): void;
  /** Refuses: the client's connect_error gets an Error with message error and data data. */
  refuse(error: string, data?: unknown): void;
}

/** What an event handler gets: the event, the socket, and the answer's helpers. */
export interface EventContext<
  E = RegisteredEvents,
  N extends NamespaceOf<E> = NamespaceOf<E>,
  Ev extends string = ClientEventName<E, N>,
  Data = unknown,
> {
  hook: 'event';
  request: Request;
  namespace: N;
  event: Ev;
  /** The event's arguments, binary data as Buffers. */
  args: EventArgs<E, N, Ev>;
  /** Whether the client waits for an ack. */
  wantsAck: boolean;
  socket: SocketInfo<Data, N>;
  /** Acks with args (the first call counts). Returning a value acks with it too. */
  ack(...args: EventAck<E, N, Ev>): void;
  /** Puts the socket in rooms. */
  join(rooms: Rooms): void;
  /** Takes the socket out of rooms. */
  leave(rooms: Rooms): void;
  /** Emits an event, through the server's adapter (every node). */
  emit: AnswerEmit<E, N>;
  /** Replaces the socket's data (kept with the session, through a recovery too). */
  setData(data: Data): void;
  /** Disconnects the socket after the ack. */
  disconnect(): void;
}

/** What a disconnect handler gets (nothing to answer). */
export interface DisconnectContext<E = RegisteredEvents, N extends NamespaceOf<E> = NamespaceOf<E>, Data = unknown> {
  hook: 'disconnect';
  request: Request;
  namespace: N;
  socket: SocketInfo<Data, N>;
  /** Socket.IO's reason: "transport close", "client namespace disconnect", ... */
  reason: string;
}

type Awaitable<T> = T | Promise<T>;

/** An event handler: it answers through ctx's helpers, or returns the ack's value. */
export type EventHandler<E, N extends NamespaceOf<E>, Ev extends string, Data> = (
  ctx: EventContext<E, N, Ev, Data>,
) => Awaitable<AckReturn<EventAck<E, N, Ev>>>;

/** The hooks of one namespace. */
export interface NamespaceHooks<E = RegisteredEvents, N extends NamespaceOf<E> = NamespaceOf<E>, Data = unknown> {
  /** Accept or refuse a socket; without it every socket is accepted. */
  connect?: (ctx: ConnectContext<E, N, Data>) => Awaitable<void>;
  /** A handler per client event. */
  events?: { [Ev in ClientEventName<E, N>]?: EventHandler<E, N, Ev, Data> };
  /** The events that events names not; without it they are acked {ok: false, error: 'unknown event "x"'}. */
  anyEvent?: EventHandler<E, N, ClientEventName<E, N>, Data>;
  /** After a socket has left (best effort). */
  disconnect?: (ctx: DisconnectContext<E, N, Data>) => Awaitable<void>;
}

/** Where an error happened, for onError. */
export interface HookErrorInfo {
  hook: HookName;
  namespace?: string;
  sid?: string;
  event?: string;
}

export interface HooksHandlerOptions<E = RegisteredEvents, Data = unknown> {
  /** The hooks of each namespace; a connect to a namespace not here is refused "Invalid namespace". */
  namespaces: { [N in NamespaceOf<E>]?: NamespaceHooks<E, N, Data> };
  /**
   * The shared secret (SOCKET_HOOKS_SECRET of the server, at least 32 bytes);
   * several while you rotate it. Default: process.env.SOCKET_HOOKS_SECRET,
   * read at each request (so next build needs no secret).
   */
  secret?: string | readonly string[];
  /** The hook this handler serves; default: the last segment of the URL's path (connect, event, disconnect). */
  hook?: HookName;
  /** Largest request body in bytes (413 beyond). Default 4 MiB: events carry up to SOCKET_MAX_PAYLOAD of arguments, binary ones as base64, and the socket's data. */
  maxBodyBytes?: number;
  /** How far a request's timestamp may be from this clock. Default 300 (the protocol's 5 minutes). */
  maxSkewSeconds?: number;
  /**
   * How many signatures the replay check remembers (each for the skew
   * window); beyond it the oldest are forgotten; 0 turns the check off.
   * Default 100,000. The set is per process: several instances of the app
   * each keep their own.
   */
  replayCacheSize?: number;
  /** Called with what a handler threw (anything but HookError) and for misconfiguration; default console.error. */
  onError?: (error: unknown, info: HookErrorInfo) => void;
  /** The clock, in Unix milliseconds (tests). */
  now?: () => number;
}

/** A fetch handler: a Next route handler's POST, or any (Request) => Response server. */
export type HooksHandler = (request: Request, context?: unknown) => Promise<Response>;

// ---------------------------------------------------------------------------
// Implementation

/** Remembers the signatures seen within the skew window, bounded. */
class ReplayCache {
  readonly #seen = new Map<string, number>(); // signature -> when it may be forgotten (ms)
  constructor(readonly max: number) {}

  /** add records key until expires; false when it was already there, unexpired. */
  add(key: string, expires: number, now: number): boolean {
    // Oldest first (Map order): forget the expired ones.
    for (const [k, exp] of this.#seen) {
      if (exp > now) break;
      this.#seen.delete(k);
    }
    const prev = this.#seen.get(key);
    if (prev !== undefined && prev > now) return false;
    this.#seen.delete(key);
    this.#seen.set(key, expires);
    while (this.#seen.size > this.max) this.#seen.delete(this.#seen.keys().next().value as string);
    return true;
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  });
}

const refusal = (status: number, error: string, headers?: Record<string, string>) => json(status, { ok: false, error }, headers);

/** readBody reads the body up to limit bytes; null when it is larger. */
async function readBody(request: Request, limit: number): Promise<Uint8Array | null> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** parseCookies reads a Cookie header into name -> value (the first of each name). */
export function parseCookies(header: string | null): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    if (!name || name in out) continue;
    let value = part.slice(i + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

function roomList(rooms: Rooms, what: string): string[] {
  const list = typeof rooms === 'string' ? [rooms] : [...rooms];
  for (const r of list) if (typeof r !== 'string') throw new TypeError(`${what}: rooms are strings, got ${typeof r}`);
  return list;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function socketInfo(body: Record<string, unknown>): SocketInfo {
  return {
    sid: body.sid as string,
    namespace: body.namespace as string,
    user: isObject(body.user) ? (body.user as unknown as User) : { id: body.sid as string },
    data: decodeBinary(body.data ?? null),
    rooms: Array.isArray(body.rooms) ? (body.rooms as string[]) : [],
  };
}

const HOOKS: readonly HookName[] = ['connect', 'event', 'disconnect'];

/**
 * createHooksHandler returns the handler of sockside's hook requests: a Next
 * route handler (export const POST = createHooksHandler({...}) in
 * app/api/sockside/[hook]/route.ts, with SOCKET_HOOKS_URL=http://<app>/api/sockside
 * on the server) or any fetch-style (Request) => Promise<Response> server.
 *
 * Each request is checked before anything else: POST only (405), a known hook
 * (404), the protocol version (400), the body size (413), the timestamp
 * within 5 minutes, the HMAC-SHA256 signature (compared in constant time)
 * and a signature not seen before within the window (401 for these three).
 * Then it routes by hook, namespace and event: an unknown event is acked
 * {ok: false, error: 'unknown event "x"'}; a handler that throws HookError
 * refuses with its message; one that throws anything else gets a 500, which
 * the server turns into "hooks unavailable".
 */
export function createHooksHandler(options: HooksHandlerOptions<RegisteredEvents, unknown>): HooksHandler;
/** createHooksHandler typed with event maps E and socket data Data (given, never inferred). */
export function createHooksHandler<E, Data = unknown>(
  // Never inferred from the options (a wrong namespace would make its own map);
  // without <...> this overload does not apply.
  options: unknown extends E ? never : HooksHandlerOptions<NoInfer<E>, NoInfer<Data>>,
): HooksHandler;
export function createHooksHandler(options: HooksHandlerOptions<any, any>): HooksHandler {
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const skew = options.maxSkewSeconds ?? MAX_SKEW_SECONDS;
  const now = options.now ?? Date.now;
  const replays = new ReplayCache(options.replayCacheSize ?? 100_000);
  const onError =
    options.onError ??
    ((err: unknown, info: HookErrorInfo) => console.error(`sockside hooks: ${info.hook}${info.event ? ` "${info.event}"` : ''} on ${info.namespace ?? '?'}:`, err));
  const namespaces = options.namespaces as Record<string, NamespaceHooks<any, any, any> | undefined>;
  if (options.hook !== undefined && !HOOKS.includes(options.hook)) throw new TypeError(`createHooksHandler: hook must be one of ${HOOKS.join(', ')}`);

  function secrets(): string[] | string {
    const s = options.secret ?? process.env.SOCKET_HOOKS_SECRET;
    const list = s === undefined || s === '' ? [] : typeof s === 'string' ? [s] : [...s];
    if (list.length === 0) return 'SOCKET_HOOKS_SECRET is not set in the app environment (the same value as the sockside server\'s)';
    if (list.some((x) => typeof x !== 'string' || Buffer.byteLength(x) < 32)) return 'the hooks secret is too short (at least 32 bytes)';
    return list;
  }

  return async function sockside(request: Request): Promise<Response> {
    if (request.method !== 'POST') return refusal(405, 'use POST', { Allow: 'POST' });
    const hook = options.hook ?? (new URL(request.url).pathname.replace(/\/+$/, '').split('/').pop() as HookName);
    if (!HOOKS.includes(hook)) return refusal(404, `unknown hook "${hook}" (connect, event or disconnect)`);
    const version = request.headers.get(HOOK_HEADERS.version);
    if (version !== null && version !== HOOKS_VERSION) return refusal(400, `unsupported hooks protocol version ${version} (this handler speaks ${HOOKS_VERSION})`);
    const keys = secrets();
    if (typeof keys === 'string') {
      onError(new Error(keys), { hook });
      return refusal(500, 'hooks are not configured');
    }
    const raw = await readBody(request, maxBody);
    if (raw === null) return refusal(413, `body larger than ${maxBody} bytes`);
    const timestamp = request.headers.get(HOOK_HEADERS.timestamp);
    const signature = request.headers.get(HOOK_HEADERS.signature);
    const at = now();
    const failed = verifyHook(keys, timestamp, signature, raw, at, skew);
    if (failed === 'stale') return refusal(401, 'timestamp too old or too far ahead');
    if (failed) return refusal(401, 'bad signature');
    // Only genuine requests get this far, so only they fill the set.
    if (!replays.add(signature!, Number(timestamp) * 1000 + skew * 1000 + 1000, at)) return refusal(401, 'replayed request');

    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(raw).toString('utf8'));
    } catch {
      return refusal(400, 'body is not JSON');
    }
    if (!isObject(body) || typeof body.namespace !== 'string' || typeof body.sid !== 'string') {
      return refusal(400, `not a ${hook} request`);
    }
    const info: HookErrorInfo = { hook, namespace: body.namespace, sid: body.sid };
    try {
      switch (hook) {
        case 'connect':
          return json(200, await connect(request, body as unknown as ConnectRequest));
        case 'event':
          if (typeof body.event !== 'string' || !Array.isArray(body.args)) return refusal(400, 'not an event request');
          info.event = body.event;
          return json(200, await event(request, body as unknown as EventRequest));
        case 'disconnect':
          await disconnect(request, body as unknown as DisconnectRequest);
          return json(200, {});
      }
    } catch (err) {
      onError(err, info);
      return refusal(500, 'the hook handler failed');
    }
  };

  async function connect(request: Request, body: ConnectRequest): Promise<ConnectAnswer> {
    const ns = namespaces[body.namespace];
    if (!ns) return { ok: false, error: 'Invalid namespace' };
    if (!ns.connect) return { ok: true };
    let answer: ConnectAnswer | null = null;
    const user = isObject(body.user) ? body.user : { id: body.sid };
    const hs = isObject(body.handshake) ? body.handshake : ({} as Partial<Handshake>);
    const ctx: ConnectContext<any, any, any> = {
      hook: 'connect',
      request,
      cookies: parseCookies(request.headers.get('cookie')),
      namespace: body.namespace,
      socket: { sid: body.sid, namespace: body.namespace, user },
      handshake: { auth: hs.auth ?? null, query: hs.query ?? {}, headers: hs.headers ?? {}, address: hs.address ?? '', time: hs.time ?? 0 },
      accept(o = {}) {
        if (answer) return;
        answer = { ok: true };
        if (o.user !== undefined) {
          if (!isObject(o.user) || typeof o.user.id !== 'string' || o.user.id === '') throw new TypeError('accept: user needs an id');
          answer.user = { id: o.user.id, ...(o.user.name !== undefined && { name: String(o.user.name) }) };
        }
        if (o.data !== undefined) answer.data = encodeBinary(o.data);
        if (o.join !== undefined) answer.join = roomList(o.join, 'accept');
        if (o.relay !== undefined) answer.relay = roomList(o.relay, 'accept');
      },
      refuse(error, data) {
        if (answer) return;
        answer = { ok: false, error: String(error) || 'refused' };
        if (data !== undefined) answer.data = data;
      },
    };
    try {
      await ns.connect(ctx);
    } catch (err) {
      if (!(err instanceof HookError)) throw err;
      return { ok: false, error: err.message || 'refused', ...(err.data !== undefined && { data: err.data }) };
    }
    return answer ?? { ok: true };
  }

  async function event(request: Request, body: EventRequest): Promise<EventAnswer> {
    const ns = namespaces[body.namespace];
    const handler = ns?.events?.[body.event] ?? ns?.anyEvent;
    if (!ns) return { ack: [{ ok: false, error: `unknown namespace "${body.namespace}"` }] };
    if (!handler) return { ack: [{ ok: false, error: `unknown event "${body.event}"` }] };
    const answer: EventAnswer = {};
    let acked = false;
    const ack = (...args: unknown[]) => {
      if (acked) return;
      acked = true;
      answer.ack = args.map(encodeBinary);
    };
    const ctx: EventContext<any, any, any, any> = {
      hook: 'event',
      request,
      namespace: body.namespace,
      event: body.event,
      args: decodeBinary(body.args) as unknown[],
      wantsAck: body.ack === true,
      socket: socketInfo(body as unknown as Record<string, unknown>),
      ack,
      join(rooms) {
        (answer.join ??= []).push(...roomList(rooms, 'join'));
      },
      leave(rooms) {
        (answer.leave ??= []).push(...roomList(rooms, 'leave'));
      },
      emit(event: string, args: unknown[], o: EmitTarget & { namespace?: string } = {}) {
        if (typeof event !== 'string' || event === '') throw new TypeError('emit: the event is a non-empty string');
        if (!Array.isArray(args)) throw new TypeError(`emit "${event}": args is an array (the event's arguments)`);
        const e: EmitWire = { event };
        if (args.length > 0) e.args = args.map(encodeBinary);
        if (o.to !== undefined) e.to = roomList(o.to, 'emit');
        if (o.except !== undefined) e.except = roomList(o.except, 'emit');
        if (o.namespace !== undefined) e.namespace = o.namespace;
        (answer.emit ??= []).push(e);
      },
      setData(data) {
        answer.data = data === undefined ? null : encodeBinary(data);
      },
      disconnect() {
        answer.disconnect = true;
      },
    };
    let returned: unknown;
    try {
      returned = await handler(ctx);
    } catch (err) {
      if (!(err instanceof HookError)) throw err;
      return { ack: [{ ok: false, error: err.message }] };
    }
    if (!acked && returned !== undefined) ack(returned);
    return answer;
  }

  async function disconnect(request: Request, body: DisconnectRequest): Promise<void> {
    const ns = namespaces[body.namespace];
    if (!ns?.disconnect) return;
    try {
      await ns.disconnect({
        hook: 'disconnect',
        request,
        namespace: body.namespace,
        socket: socketInfo(body as unknown as Record<string, unknown>),
        reason: typeof body.reason === 'string' ? body.reason : '',
      });
    } catch (err) {
      if (!(err instanceof HookError)) throw err;
    }
  }
}
