// Server-only: the demo's sign-in, by next-auth (Credentials provider, JWT
// sessions). Its session cookie is also the token the Go server verifies:
// next-auth's jwt.encode/decode are replaced by a plain HS256 JWT {sub,
// name, exp} (jose) signed with SOCKET_AUTH_SECRET, and the cookie is named
// as the server's SOCKET_AUTH_COOKIE, so one sign-in authenticates the Go
// namespaces (the handshake carries the cookie through the rewrite) and the
// hook namespaces (getServerSession in the connect hook reads it).
import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { NextAuthOptions } from 'next-auth';
import { getServerSession } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { cookies } from 'next/headers';

/** The cookie the Go server reads the token from (its SOCKET_AUTH_COOKIE). */
export const authCookie = process.env.SOCKET_AUTH_COOKIE || 'sockside_token';

/** How long a sign-in lasts. */
export const tokenTTLSeconds = 12 * 60 * 60;

/** The signed-in user: the token's claims. */
export interface User {
  sub: string;
  name: string;
}

/** authSecret is SOCKET_AUTH_SECRET, or undefined when auth is off. */
export function authSecret(): string | undefined {
  return process.env.SOCKET_AUTH_SECRET || undefined;
}

const key = (secret: string | Buffer) => (typeof secret === 'string' ? new TextEncoder().encode(secret) : new Uint8Array(secret));

/** authOptions configures next-auth (app/api/auth/[...nextauth]) and getServerSession. */
export const authOptions: NextAuthOptions = {
  secret: authSecret(),
  session: { strategy: 'jwt', maxAge: tokenTTLSeconds },
  providers: [
    CredentialsProvider({
      name: 'a name',
      credentials: { name: { label: 'Name', type: 'text' } },
      // A name is all it takes in this demo; a real app checks a password
      // or uses an OAuth provider here, and nothing else changes.
      authorize(credentials) {
        const name = validName(credentials?.name);
        return name ? { id: `user-${randomUUID()}`, name } : null;
      },
    }),
  ],
  jwt: {
    async encode({ token, secret, maxAge = tokenTTLSeconds }) {
      const claims = { sub: token?.sub, name: token?.name };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + maxAge)
        .sign(key(secret));
    },
    async decode({ token, secret }) {
      if (!token) return null;
      try {
        const { payload } = await jwtVerify(token, key(secret), { algorithms: ['HS256'] });
        return payload;
      } catch {
        return null;
      }
    },
  },
  cookies: {
    sessionToken: {
      name: authCookie,
      options: { httpOnly: true, sameSite: 'lax', path: '/', secure: process.env.NEXTAUTH_URL?.startsWith('https://') ?? false },
    },
  },
  // The session carries the token's sub too: it is the user's id on the sockets.
  callbacks: { session: ({ session, token }) => ({ ...session, sub: token.sub }) },
  pages: { signIn: '/signin' },
};

/** The request's token from the auth cookie, if any (passed on to the server as a bearer token). */
export async function currentToken(): Promise<string | undefined> {
  return (await cookies()).get(authCookie)?.value;
}

/**
 * currentUser is the signed-in user, null when not signed in, or undefined
 * when auth is off (everyone may pick a name).
 */
export async function currentUser(): Promise<User | null | undefined> {
  if (!authSecret()) return undefined;
  const session = await getServerSession(authOptions);
  const { sub } = (session ?? {}) as { sub?: string };
  const name = session?.user?.name;
  return sub && name ? { sub, name } : null;
}

/** validName trims a display name and checks it (1-32 characters). */
export function validName(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const name = raw.trim();
  return name.length >= 1 && [...name].length <= 32 ? name : null;
}
