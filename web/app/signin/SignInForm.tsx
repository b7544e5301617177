'use client';
// Sign-in and sign-out through next-auth's client (CSRF token included).
import { signIn, signOut } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useState } from 'react';

export function SignInForm({ next, signedInAs }: { next: string; signedInAs: string | null }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      {signedInAs && (
        <form
          className="panel row"
          onSubmit={async (e) => {
            e.preventDefault();
            await signOut({ redirect: false });
            router.refresh();
          }}
        >
          <span data-testid="signed-in-as">
            Signed in as <b>{signedInAs}</b>
          </span>
          <button type="submit" className="secondary">
            Sign out
          </button>
        </form>
      )}
      <form
        className="panel row"
        onSubmit={async (e) => {
          e.preventDefault();
          const name = new FormData(e.currentTarget).get('name');
          const res = await signIn('credentials', { name, redirect: false });
          if (!res?.ok) return setError('name must be 1-32 characters');
          router.push(next);
          router.refresh();
        }}
      >
        <label>
          Name <input name="name" required maxLength={32} autoFocus placeholder="Ada" />
        </label>
        <button type="submit">Sign in</button>
        {error && <span className="error">{error}</span>}
      </form>
    </>
  );
}
