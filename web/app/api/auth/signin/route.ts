// POST /api/auth/signin (a form: name, next): issues the HS256 token the Go
// server verifies as the httpOnly cookie it reads from the handshake.
import { NextResponse } from 'next/server';
import { authCookie, authSecret, signToken, tokenTTLSeconds, validName } from '@/lib/auth';

export async function POST(request: Request) {
  const secret = authSecret();
  if (!secret) return Response.json({ ok: false, error: 'auth is off (no SOCKET_AUTH_SECRET)' }, { status: 404 });
  const form = await request.formData();
  const next = safeNext(form.get('next'));
  const name = validName(form.get('name'));
  if (!name) return redirect(`/signin?next=${encodeURIComponent(next)}&error=${encodeURIComponent('name must be 1-32 characters')}`);
  const res = redirect(next);
  res.cookies.set(authCookie, signToken(secret, name), {
    httpOnly: true,
    sameSite: 'lax',
    secure: isHTTPS(request),
    path: '/',
    maxAge: tokenTTLSeconds,
  });
  return res;
}

/** A 303 to a path on this origin (a relative Location: no host to get wrong behind proxies). */
function redirect(path: string): NextResponse {
  return new NextResponse(null, { status: 303, headers: { Location: path } });
}

/** Only local paths: never //host or a scheme (an open redirect). */
function safeNext(raw: FormDataEntryValue | null): string {
  return typeof raw === 'string' && raw.startsWith('/') && !raw.startsWith('//') && !raw.includes('\\') ? raw : '/chat';
}

function isHTTPS(request: Request): boolean {
  const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
  return (proto ?? new URL(request.url).protocol.slice(0, -1)) === 'https';
}
