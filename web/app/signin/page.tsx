import type { Metadata } from 'next';
import { authSecret, currentUser } from '@/lib/auth';

export const metadata: Metadata = { title: 'Sign in · sockside demo' };
// Auth is on or off by the server's environment, read per request.
export const dynamic = 'force-dynamic';

export default async function SignIn({ searchParams }: { searchParams: Promise<{ next?: string; error?: string }> }) {
  const { next = '/chat', error } = await searchParams;
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
      {user && (
        <form className="panel row" method="post" action="/api/auth/signout">
          <span data-testid="signed-in-as">
            Signed in as <b>{user.name}</b>
          </span>
          <button type="submit" className="secondary">
            Sign out
          </button>
        </form>
      )}
      <form className="panel row" method="post" action="/api/auth/signin">
        <input type="hidden" name="next" value={next} />
        <label>
          Name <input name="name" required maxLength={32} autoFocus placeholder="Ada" />
        </label>
        <button type="submit">Sign in</button>
        {error && <span className="error">{error}</span>}
      </form>
      <p className="muted">
        A name is all it takes in this demo: the route handler signs an HS256 token {'{sub, name, exp}'} with{' '}
        <code>SOCKET_AUTH_SECRET</code> and sets it as an httpOnly cookie, which the socket handshake carries to the Go
        server through the rewrite.
      </p>
    </section>
  );
}
