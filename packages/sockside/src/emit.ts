// emit: route handlers and server actions push an event to clients through
// the server's POST /api/emit (Bearer SOCKET_EMIT_SECRET, JSON
// {namespace, room?, event, data}; 202 when accepted). The secret is read
// from this server's environment and never reaches the browser.
import { containsBinary } from './binary.js';
import type { NamespaceOf, RegisteredEvents, ServerEvents } from './index.js';

/** The sockside server as this server reaches it: SOCKET_INTERNAL_URL, default http://127.0.0.1:3001. */
export function internalURL(): string {
  return (process.env.SOCKET_INTERNAL_URL || 'http://127.0.0.1:3001').replace(/\/+$/, '');
}

/** Why an emit failed (SocksideEmitError.code). */
export type EmitFailure =
  /** No secret here (SOCKET_EMIT_SECRET). */
  | 'not-configured'
  /** No connection to the server. */
  | 'unreachable'
  /** No answer within timeoutMs. */
  | 'timeout'
  /** The server answered with an error status (status, serverError). */
  | 'refused';

/** An emit the server did not accept, or could not be asked. */
export class SocksideEmitError extends Error {
  constructor(
    message: string,
    /** Why: see EmitFailure. */
    readonly code: EmitFailure,
    /** The server's HTTP status; 0 when there was no answer. */
    readonly status: number,
    /** The server's own message (its {error}), when it answered. */
    readonly serverError: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SocksideEmitError';
  }
}

export interface EmitterOptions {
  /** The server's base URL. Default: SOCKET_INTERNAL_URL (see internalURL), read at each emit. */
  url?: string;
  /** The emit secret. Default: SOCKET_EMIT_SECRET, read at each emit. */
  secret?: string;
  /** How long to wait for the server's answer. Default 5000 ms. */
  timeoutMs?: number;
  /** The fetch to use (default: the global one, Next's in a Next app). */
  fetch?: typeof fetch;
}

export interface EmitOptions {
  /** Only the sockets in this room (a room name or a socket id); default: the whole namespace. */
  room?: string;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/**
 * The data argument for a server event with listener F: the API carries one
 * JSON value (or none), delivered as the event's only argument.
 */
export type EmitData<F> = F extends (...args: infer A) => any
  ? A extends []
    ? undefined
    : A extends [infer D]
      ? D
      : A extends [(infer D)?]
        ? D | undefined
        : number extends A['length']
          ? unknown
          : never
  : unknown;

/** emit, typed with event maps E. */
export type Emitter<E> = <N extends NamespaceOf<E>, Ev extends keyof ServerEvents<E, N> & string>(
  namespace: N,
  event: Ev,
  data: EmitData<ServerEvents<E, N>[Ev]>,
  options?: EmitOptions,
) => Promise<void>;

const hints: Record<number, string> = {
  401: 'SOCKET_EMIT_SECRET here is not the server\'s',
  404: 'the server\'s emit API is off (set SOCKET_EMIT_SECRET on the server too), or the URL is not sockside\'s',
};

/**
 * createEmitter returns emit typed with event maps E (nextconfig's generated
 * SocketEvents, or maps of your own), with its own url, secret or timeout:
 *
 *   export const emit = createEmitter<SocketEvents>();
 *   await emit('/chat', 'message', message, { room });
 */
export function createEmitter<E = RegisteredEvents>(options: EmitterOptions = {}): Emitter<E> {
  return async (namespace, event, data, { room, signal } = {}) => {
    const what = `sockside emit "${event}" to ${namespace}${room !== undefined ? ` (room ${room})` : ''}`;
    const secret = options.secret ?? process.env.SOCKET_EMIT_SECRET;
    if (!secret) {
      throw new SocksideEmitError(
        `${what}: SOCKET_EMIT_SECRET is not set in this server's environment (the same value as the sockside server's)`,
        'not-configured',
        0,
        undefined,
      );
    }
    if (containsBinary(data)) throw new TypeError(`${what}: the emit API carries JSON, not binary data`);
    const base = options.url?.replace(/\/+$/, '') ?? internalURL();
    const where = options.url !== undefined ? base : `${base} (SOCKET_INTERNAL_URL)`;
    const timeoutMs = options.timeoutMs ?? 5000;
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await (options.fetch ?? fetch)(`${base}/api/emit`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` },
        body: JSON.stringify({ namespace, room, event, data }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      if (timeout.aborted) throw new SocksideEmitError(`${what}: no answer from ${where} within ${timeoutMs} ms`, 'timeout', 0, undefined, { cause: err });
      if (signal?.aborted) throw err;
      const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new SocksideEmitError(`${what}: sockside unreachable at ${where}: ${cause}`, 'unreachable', 0, undefined, { cause: err });
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return; // 202 Accepted
    let serverError = text.trim() || res.statusText;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') serverError = (parsed as { error: string }).error;
    } catch {
      // not JSON (a proxy's page, Go's plain 404): the text as it is
    }
    const hint = hints[res.status] ? ` (${hints[res.status]}; server: ${where})` : '';
    throw new SocksideEmitError(`${what}: ${res.status} ${serverError}${hint}`, 'refused', res.status, serverError);
  };
}

/**
 * emit pushes event with data to the sockets of namespace (in room, if set)
 * through the server's POST /api/emit, with SOCKET_EMIT_SECRET to
 * SOCKET_INTERNAL_URL; typed with the registered event maps (see Register).
 * It resolves once the server accepted it (202) and throws
 * SocksideEmitError otherwise.
 */
export const emit: Emitter<RegisteredEvents> = createEmitter();
