// GET /api/stats: the Go server's stats for the /status page, fetched server
// side so the page needs no rewrite for it. With auth on, the Go server wants
// the same JWT: the sign-in cookie is passed on as a bearer token.
import { currentToken } from '@/lib/auth';
import { internalURL } from '@/lib/sockside';

export const dynamic = 'force-dynamic';

export async function GET() {
  const token = await currentToken();
  try {
    const res = await fetch(`${internalURL()}/api/stats`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      cache: 'no-store',
      signal: AbortSignal.timeout(3000),
    });
    return new Response(await res.text(), {
      status: res.status,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    });
  } catch (err) {
    return Response.json({ ok: false, error: `sockside unreachable: ${(err as Error).message}` }, { status: 502 });
  }
}
