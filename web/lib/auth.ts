// Server-only: the HS256 tokens the Go server verifies (SOCKET_AUTH_SECRET,
// shared by both). node:crypto's HMAC is all HS256 needs, so no JWT library.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { cookies } from 'next/headers';

/** The cookie the Go server reads the token from (its SOCKET_AUTH_COOKIE). */
export const authCookie = process.env.SOCKET_AUTH_COOKIE || 'sockside_token';

/** How long a sign-in lasts. */
export const tokenTTLSeconds = 12 * 60 * 60;

/** The signed-in user: the token's claims. */
export interface User {
  sub: string;
  name: string;
  exp: number;
}

/** authSecret is SOCKET_AUTH_SECRET, or undefined when auth is off. */
export function authSecret(): string | undefined {
  return process.env.SOCKET_AUTH_SECRET || undefined;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** signToken issues an HS256 JWT {sub, name, exp} for a new session of name. */
export function signToken(secret: string, name: string, ttlSeconds = tokenTTLSeconds): string {
  const claims: User = { sub: `user-${randomUUID()}`, name, exp: Math.floor(Date.now() / 1000) + ttlSeconds };
  const body = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** verifyToken returns the claims of a valid, unexpired HS256 token, else null. */
export function verifyToken(secret: string, token: string | undefined): User | null {
  const parts = token?.split('.') ?? [];
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts;
  const want = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const got = Buffer.from(signature, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString());
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString());
    if (h.alg !== 'HS256' || typeof c.exp !== 'number' || c.exp * 1000 < Date.now()) return null;
    if (typeof c.name !== 'string' || typeof c.sub !== 'string') return null;
    return { sub: c.sub, name: c.name, exp: c.exp };
  } catch {
    return null;
  }
}

/** The request's token from the auth cookie, if any. */
export async function currentToken(): Promise<string | undefined> {
  return (await cookies()).get(authCookie)?.value;
}

/**
 * currentUser is the signed-in user, null when not signed in, or undefined
 * when auth is off (everyone may pick a name).
 */
export async function currentUser(): Promise<User | null | undefined> {
  const secret = authSecret();
  if (!secret) return undefined;
  return verifyToken(secret, await currentToken());
}

/** validName trims a display name and checks it (1-32 characters). */
export function validName(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const name = raw.trim();
  return name.length >= 1 && [...name].length <= 32 ? name : null;
}
