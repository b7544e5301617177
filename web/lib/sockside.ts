// Server-only: calls from the Next back end to the sockside server. The emit
// secret is read here, from the server's environment, and never reaches the
// browser (no NEXT_PUBLIC_ prefix, never passed to a client component).
import { randomUUID } from 'node:crypto';
import type { Message } from './socket-events';

/** The Go server as the Next server reaches it (SOCKET_INTERNAL_URL). */
export function internalURL(): string {
  return (process.env.SOCKET_INTERNAL_URL || 'http://127.0.0.1:3001').replace(/\/+$/, '');
}

export type EmitResult = { ok: true } | { ok: false; status: number; error: string };

/**
 * emit pushes event with data to the sockets of namespace (in room, if set)
 * through the server's POST /api/emit.
 */
export async function emit(namespace: string, room: string | undefined, event: string, data: unknown): Promise<EmitResult> {
  const secret = process.env.SOCKET_EMIT_SECRET;
  if (!secret) return { ok: false, status: 503, error: 'SOCKET_EMIT_SECRET is not set in the Next server environment' };
  let res: Response;
  try {
    res = await fetch(`${internalURL()}/api/emit`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` },
      body: JSON.stringify({ namespace, room, event, data }),
      cache: 'no-store',
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    return { ok: false, status: 502, error: `sockside unreachable: ${(err as Error).message}` };
  }
  if (res.status === 202) return { ok: true };
  const text = (await res.text()).trim();
  return { ok: false, status: res.status, error: text || res.statusText };
}

/** notifyRoom posts a chat message from the server into a /chat room. */
export function notifyRoom(room: string, text: string, from = 'server'): Promise<EmitResult> {
  const message: Message = { id: `srv-${randomUUID()}`, room, from, text, ts: Date.now() };
  return emit('/chat', room, 'message', message);
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
