'use client';
// The /notes board: its namespace is served by the app's own route handlers
// (app/api/sockside/[hook]), not by Go code. note:list and note:add go
// through the hooks; typing is relayed by the server without the app.
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { ConnectionBadge } from '@/components/ConnectionBadge';
import type { Note, NotesEvents } from '@/lib/notes-events';
import { getHandshakeAuth, send, setHandshakeAuth, useEvent, useRestore } from '@/lib/socket';
import { withEvents } from 'sockside/client';
import { pinNote } from './actions';

const { useSocket } = withEvents<NotesEvents>();

/** How long "someone is typing" stays after the last keystroke relayed. */
const typingFadeMs = 3000;

/** signedInAs: the user's name, null when signed out, undefined when auth is off. */
export function Notes({ signedInAs }: { signedInAs: string | null | undefined }) {
  // Before useSocket's effect connects: with auth off, a name to offer in
  // the handshake (the connect hook takes it; with auth on, the session's).
  useEffect(() => {
    if (signedInAs === undefined && getHandshakeAuth().name === undefined) setHandshakeAuth({ name: 'guest' });
  }, [signedInAs]);
  const { socket, status } = useSocket('/notes');
  const [notes, setNotes] = useState<Note[]>([]);
  const [someoneTyping, setSomeoneTyping] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [left, setLeft] = useState<{ from: string; reason: string } | null>(null);

  const merge = useCallback((more: Note[]) => setNotes((ns) => [...ns, ...more.filter((m) => !ns.some((n) => n.id === m.id))]), []);
  useRestore(socket, async () => merge(await socket.timeout(5000).emitWithAck('note:list')), []);
  useEvent(socket, 'note:added', (n) => merge([n]));
  useEvent(socket, 'typing', (t) => setSomeoneTyping(t.typing));
  useEvent(socket, 'note:left', setLeft);
  // A relayed typing:true is not followed by a false; it fades after a while.
  useEffect(() => {
    if (!someoneTyping) return;
    const t = setTimeout(() => setSomeoneTyping(false), typingFadeMs);
    return () => clearTimeout(t);
  }, [someoneTyping]);

  const add = async (form: HTMLFormElement) => {
    const text = String(new FormData(form).get('text') ?? '');
    const ack = await send(socket, 'note:add', { text });
    if (ack.ok) form.reset();
    setError(ack.ok ? null : ack.error);
  };
  const pin = async (form: HTMLFormElement) => {
    const res = await pinNote(String(new FormData(form).get('text') ?? ''));
    if (res.ok) form.reset();
    setError(res.ok ? null : res.error);
  };

  return (
    <section>
      <div className="spread">
        <h1>Notes</h1>
        <ConnectionBadge status={status} />
      </div>
      {signedInAs === null && (
        <p className="panel error" data-testid="signin-hint">
          The board is for signed-in users. <Link href="/signin?next=/notes">Sign in</Link>.
        </p>
      )}
      <form className="panel row" onSubmit={(e) => (e.preventDefault(), add(e.currentTarget))}>
        <label>
          Note <input name="text" required maxLength={500} onInput={() => socket.emit('typing', { typing: true })} />
        </label>
        <button type="submit">Add</button>
      </form>
      <form className="panel row" onSubmit={(e) => (e.preventDefault(), pin(e.currentTarget))}>
        <label>
          From the server <input name="text" aria-label="server note" required maxLength={500} />
        </label>
        <button type="submit" className="secondary">
          Pin from server
        </button>
      </form>
      {error && <p className="error" data-testid="notes-error">{error}</p>}
      {someoneTyping && <p className="muted" data-testid="typing">someone is typing…</p>}
      {left && (
        <p className="muted" data-testid="left">
          {left.from} left ({left.reason})
        </p>
      )}
      <ul className="panel" data-testid="notes">
        {notes.map((n) => (
          <li key={n.id} data-testid="note" data-from={n.from}>
            <b>{n.from}</b>: {n.text}
          </li>
        ))}
      </ul>
      <p className="muted">
        This page&apos;s namespace has no Go code: the server signs each connect and event over to the app&apos;s route
        handler, which reads the next-auth session, keeps the board and answers; the button above is a server action
        pushing through the emit API.
      </p>
    </section>
  );
}
