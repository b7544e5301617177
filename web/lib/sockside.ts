// Server-only: calls from the Next back end to the sockside server, through
// the sockside package's emit (sockside/server). The emit secret is read
// there, from the server's environment, and never reaches the browser (no
// NEXT_PUBLIC_ prefix, never passed to a client component).
import { randomUUID } from 'node:crypto';
import { createEmitter, internalURL, SocksideEmitError } from 'sockside/server';
import type { Message, SocketEvents } from './socket-events';

/** The Go server as the Next server reaches it (SOCKET_INTERNAL_URL). */
export { internalURL };

/** emit, typed with the demo's generated event maps. */
export const emit = createEmitter<SocketEvents>();

export type EmitResult = { ok: true } | { ok: false; status: number; error: string };

/**
 * notifyRoom posts a chat message from the server into a /chat room. A failed
 * emit is a result with the status to answer with: the server's, 503 when the
 * secret is not set here, 502 when the server cannot be reached.
 */
export async function notifyRoom(room: string, text: string, from = 'server'): Promise<EmitResult> {
  const message: Message = { id: `srv-${randomUUID()}`, room, from, text, ts: Date.now() };
  try {
    await emit('/chat', 'message', message, { room });
    return { ok: true };
  } catch (err) {
    if (!(err instanceof SocksideEmitError)) throw err;
    const status = err.code === 'not-configured' ? 503 : err.code === 'refused' ? err.status : 502;
    return { ok: false, status, error: err.message };
  }
}

/** The body of the server's GET /api/stats. */
export interface Stats {
  ready: boolean;
  draining: boolean;
  ts: number;
  sockets: Record<string, Record<string, number>>;
  plainWs: number;
  eventsIn: number;
  eventsOut: number;
  bytesIn: number;
  bytesOut: number;
  goroutines: number;
}
