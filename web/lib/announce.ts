// Server-only: a chat message from the Next back end, pushed through the
// emit API. Used by the chat page's server action and by POST /api/notify.
import { currentUser } from './auth';
import { notifyRoom } from './sockside';

export type AnnounceResult = { ok: true } | { ok: false; status: number; error: string };

/**
 * announce posts text into a /chat room as "server". With auth on, only a
 * signed-in user may, and the message says for whom.
 */
export async function announce(room: unknown, text: unknown): Promise<AnnounceResult> {
  if (typeof room !== 'string' || room.length < 1 || [...room].length > 64) {
    return { ok: false, status: 400, error: 'room must be 1-64 characters' };
  }
  if (typeof text !== 'string' || text.trim() === '' || [...text].length > 1000) {
    return { ok: false, status: 400, error: 'text must be 1-1000 characters' };
  }
  let from = 'server';
  const user = await currentUser();
  if (user === null) return { ok: false, status: 401, error: 'sign in first' };
  if (user) from = `server (for ${user.name})`;
  const res = await notifyRoom(room, text.trim(), from);
  return res.ok ? { ok: true } : { ok: false, status: res.status, error: res.error };
}
