// POST /api/auth/signout: drops the token cookie.
import { NextResponse } from 'next/server';
import { authCookie } from '@/lib/auth';

export async function POST() {
  const res = new NextResponse(null, { status: 303, headers: { Location: '/signin' } });
  res.cookies.set(authCookie, '', { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 0 });
  return res;
}
