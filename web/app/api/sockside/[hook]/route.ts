// POST /api/sockside/{connect,event,disconnect}: the hooks of /notes, a
// namespace whose logic lives here instead of in Go (docs/hooks.md). Off
// unless the server has SOCKET_HOOKS_URL=http://127.0.0.1:3000/api/sockside
// and both have the same SOCKET_HOOKS_SECRET (32 bytes or more); the
// package's createHooksHandler checks every request's signature, time and
// uniqueness before a handler runs.
import { createHooksHandler, HookError } from 'sockside/server';
import { currentUser, validName } from '@/lib/auth';
import type { NotesEvents } from '@/lib/notes-events';
import { addNote, emitNotes, listNotes, maxNoteLength, validNote } from '@/lib/notes';

export const POST = createHooksHandler<NotesEvents>({
  namespaces: {
    '/notes': {
      async connect({ accept, refuse, handshake }) {
        // The server forwards the browser's Cookie header with the connect
        // hook, so next-auth's getServerSession (in currentUser) reads the
        // session here as in any route handler.
        const user = await currentUser();
        if (user === null) return refuse('sign in first', { signIn: '/signin?next=/notes' });
        // With auth off, the client names itself in the handshake, as in chat.
        const name = user ? user.name : validName((handshake.auth as { name?: unknown })?.name);
        if (!name) return refuse('name must be 1-32 characters');
        accept({ user: { id: user ? user.sub : `guest-${name}`, name }, join: ['board'], relay: ['typing'] });
      },
      events: {
        'note:add'({ args: [note], socket, emit }) {
          const text = validNote(note?.text);
          if (!text) throw new HookError(`text must be 1-${maxNoteLength} characters`);
          const added = addNote(text, socket.user.name ?? socket.user.id);
          emit('note:added', [added], { to: 'board' });
          return { ok: true, id: added.id };
        },
        'note:list'() {
          return listNotes();
        },
      },
      // After a socket has left (best effort: the server does not wait for
      // it). The board hears who left and why, through the emit API, as a
      // server action would push.
      async disconnect({ socket, reason }) {
        try {
          await emitNotes('/notes', 'note:left', { from: socket.user.name ?? socket.user.id, reason }, { room: 'board' });
        } catch (err) {
          console.warn(`notes: telling the board that ${socket.sid} left: ${err instanceof Error ? err.message : err}`);
        }
      },
    },
  },
});
