// POST /api/notify {room, text}: what a webhook or another back end calls to
// post into a chat room. It forwards to the Go server's emit API with the
// secret from this server's environment.
import { announce } from '@/lib/announce';

export async function POST(request: Request) {
  let body: { room?: unknown; text?: unknown };
  try {
    body = await request.json();
  } catch {
    return Response.json({ ok: false, error: 'body must be JSON {room, text}' }, { status: 400 });
  }
  const res = await announce(body?.room, body?.text);
  return Response.json(res, { status: res.ok ? 202 : res.status });
}
