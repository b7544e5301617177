import type { Metadata } from 'next';
import { authSecret, currentUser } from '@/lib/auth';
import { SignInForm } from './SignInForm';

export const metadata: Metadata = { title: 'Sign in · sockside demo' };
// Auth is on or off by the server's environment, read per request.
export const dynamic = 'force-dynamic';

export default async function SignIn({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next = '/chat' } = await searchParams;
  if (!authSecret()) {
    return (
      <section>
        <h1>Sign in</h1>
        <p className="panel" data-testid="auth-off">
          Auth is off: the Next server has no <code>SOCKET_AUTH_SECRET</code>, so anyone may chat under a name of their
          choosing. Set the same secret for Next and the Go server to require sign-in.
        </p>
      </section>
    );
  }
  const user = await currentUser();
  return (
    <section>
      <h1>Sign in</h1>
      <SignInForm next={safeNext(next)} signedInAs={user?.name ?? null} />
      <p className="muted">
        A name is all it takes in this demo: next-auth (Credentials provider, JWT sessions) keeps the session in an
        httpOnly cookie, an HS256 token {'{sub, name, exp}'} signed with <code>SOCKET_AUTH_SECRET</code>. The socket
        handshake carries it to the Go server through the rewrite, and the hooks read it with getServerSession.
      </p>
    </section>
  );
}

/** Only local paths: never //host or a scheme (an open redirect). */
function safeNext(raw: string): string {
  return raw.startsWith('/') && !raw.startsWith('//') && !raw.includes('\\') ? raw : '/chat';
}
