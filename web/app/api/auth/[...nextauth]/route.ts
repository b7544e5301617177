// next-auth's endpoints (sign-in, sign-out, session, CSRF) at /api/auth/*.
// With auth off (no SOCKET_AUTH_SECRET) there is nothing to sign in to.
import NextAuth from 'next-auth';
import { authOptions, authSecret } from '@/lib/auth';

const nextAuth = NextAuth(authOptions);

async function handler(request: Request, context: { params: Promise<{ nextauth: string[] }> }): Promise<Response> {
  if (!authSecret()) return Response.json({ ok: false, error: 'auth is off (no SOCKET_AUTH_SECRET)' }, { status: 404 });
  return nextAuth(request, context);
}

export { handler as GET, handler as POST };
